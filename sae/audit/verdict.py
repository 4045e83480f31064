"""Each audited SAE placed on the recommended interval of its ladder (the same rule as for trained sweeps,
sae.recommend, over the measured L0s): below, inside, above, or no verdict with the reason."""

from __future__ import annotations

from collections.abc import Sequence

from sae.sweep import Row, curve_key, recommendation_key

VERDICTS = ("below", "inside", "above", "no verdict")
COLUMNS = ("sae", "audit_source", "architecture", "width", "l0", "recommended_l0", "interval_low", "interval_high",
           "rule", "verdict", "reason")


def verdict(l0: float, recommendation: Row | None) -> tuple[str, str]:
    """(verdict, reason) of an SAE at measured L0 `l0` against its curve's recommendation."""
    if recommendation is None:
        return "no verdict", "its ladder has no recommendation (no finite c_dec and s_n_dec)"
    if not recommendation["supported"]:
        return "no verdict", recommendation["flag"] or recommendation["rule"]
    low, high = recommendation["interval_low"], recommendation["interval_high"]  # set wherever it is supported
    if l0 < low:
        return "below", f"L0 {l0:.4g} < interval [{low:.4g}, {high:.4g}] ({recommendation['rule']})"
    if l0 > high:
        return "above", f"L0 {l0:.4g} > interval [{low:.4g}, {high:.4g}] ({recommendation['rule']})"
    return "inside", f"L0 {l0:.4g} in interval [{low:.4g}, {high:.4g}] ({recommendation['rule']})"


def audit_rows(rows: Sequence[Row], recommendation: Sequence[Row]) -> list[Row]:
    """One row per audited SAE (sweep-table rows, whose `l0` is the measured one): the table `audit.csv`."""
    recs = {recommendation_key(r): r for r in recommendation}
    out = []
    for row in rows:
        rec = recs.get(curve_key(row))
        found, reason = verdict(row["l0"], rec)
        chosen = {k: (rec or {}).get(k) for k in ("recommended_l0", "interval_low", "interval_high", "rule")}
        out.append({k: row.get(k) for k in COLUMNS[:5]} | chosen | {"verdict": found, "reason": reason})
    return out
