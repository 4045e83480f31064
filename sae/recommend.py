"""One recommended L0 per curve (architecture, width, swept options), with an interval, its rule, and a flag.

Sparse but Wrong (Chanin & Garriga-Alonso 2025) reads the L0 off the decoder metrics: on toy models c_dec
is minimal at the true L0; on LLMs it has no interior minimum and the "elbow just before c_dec rises
steeply at low L0" is read by eye. The paper's code has no rule, so the rule below is ours; its validation
on toy models with known true L0 (`benchmarks/bench_recommendation.py`) is in docs/recommended_l0.md.

1. `c_dec_minimum`: the seed-averaged c_dec has a sharp interior minimum. The L0 is the vertex of the
   parabola through the minimum and its two grid neighbours (the grid is coarse; c_dec is smooth there).
   Where an edge of the grid is lowest but an interior local minimum lies within noise of it, that
   interior minimum is taken (a noisy edge).
   `c_dec_floor`: the minimum is a flat valley (neighbours within noise of it): the first L0 of the
   valley, where c_dec reaches its floor. c_dec rises steeply below the true L0 and gently above it,
   and longer-trained SAEs lower it further at high L0 (Sparse but Wrong; our 5M-sample runs), so the
   lowest point of a flat valley drifts above the truth while its left edge does not (sbw_large: the
   valley's vertex at 12.6, the true L0 10.95).
2. `c_dec_elbow`: no interior minimum, c_dec falls to the largest L0 (as on LLMs): the knee of the
   falling branch, labelled as such.
3. none (`supported` false): fewer than three usable L0s, c_dec flat within noise, or neither an interior
   minimum nor a falling branch with a knee; the argmin of such a curve would only name an end of the grid.

s_n_dec overrules c_dec in one case, `s_n_dec_zero`: where s_n_dec falls to zero (within noise) from a
clearly positive value, and c_dec has no minimum or the grid bracket of its minimum (below) does not hold
that L0.
Below the true L0 the SAE's latents mix in correlated features, so inputs project onto many decoder rows
and s_n_dec is positive; once the L0 suffices the projections are as sparse as the features and the
(n·b)-th largest is zero. Sparse but Wrong finds s_n^dec minimal at its toy model's true L0; the zero
criterion is ours. The L0 is the first grid L0 at which s_n_dec is zero after being positive. It decides
where c_dec over all pairs cannot: on an SAE wider than its features the surplus latents dominate that mean
(on the toy suite at the paper's recipe: uniform_wide_18's lowest c_dec at 13.5, s_n_dec zero from 18, the
truth; zipf_wide_8's c_dec wanders between 0.085 and 0.12 with its lowest point at 5, s_n_dec zero from 8, the
truth; small_neg_wide's c_dec flat within noise, s_n_dec zero at 2, the truth). Where the two agree, c_dec's
interpolated minimum is the more precise. LLM curves do not reach zero (SmolLM2: s_n_dec rises with L0), so
there this never fires.

The interval is the 5-95 % range of the same rule over bootstrap resamples of the seeds, widened to the
bracket of the choice on the grid: from the grid L0 below the chosen point (for a minimum: below the
valley of L0s whose c_dec is within noise of it) to the grid L0 above it. A curve that falls and then
rises has its minimum somewhere between the neighbours of its lowest grid point, not necessarily within
half a grid step of it (bracketing, as in golden-section search; positive_6's refined grid has its minimum
at 6.17, and half a step either side, [6.08, 6.50], misses the true 6). s_n_dec's zero gets the same
bracket: an L0 just short of the truth can already be within noise of zero. "Within noise" is one standard
error of the difference or `REL_TOL` of the curve's range, whichever is larger (one seed has no standard
error).

s_n_dec's floor is reported beside it (`l0_floor_s_n_dec`): that zero onset, or where the curve never
reaches zero, the first L0 past its peak within noise of its lowest value there. A curve that rises from its
smallest L0 gives none (its argmin would name an end of the grid), nor does one that dips below zero
without touching it within noise.
Points whose c_dec or s_n_dec is not finite are never ranked; they are counted and named.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from sae.sweep import SEED_AGREEMENT, Row, curve_key

# Ours, tuned on the toy suite (benchmarks/bench_recommendation.py): a curve difference below 2 % of
# the curve's range is noise even when the seeds happen to agree.
REL_TOL = 0.02
BOOTSTRAP_SAMPLES = 200
INTERVAL_QUANTILES = (0.05, 0.95)
RANKED = ("c_dec", "s_n_dec")

Curve = list[tuple[float, np.ndarray]]  # sorted [(l0, values over seeds)]


def finite(row: Row) -> bool:
    return all(isinstance(row.get(m), (int, float)) and math.isfinite(row[m]) for m in RANKED)


def curves_by_key(rows: Sequence[Row], metric: str) -> dict[tuple, Curve]:
    grouped: dict[tuple, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row["l0"] is not None and finite(row):
            grouped[curve_key(row)][float(row["l0"])].append(float(row[metric]))
    return {key: [(l0, np.array(v)) for l0, v in sorted(by_l0.items())] for key, by_l0 in grouped.items()}


def _tolerance(means: np.ndarray, sems: np.ndarray, i: int, j: int) -> float:
    return max(math.hypot(sems[i], sems[j]), REL_TOL * float(np.ptp(means)))


def vertex(l0: np.ndarray, mean: np.ndarray, i: int) -> float:
    """The vertex of the parabola through points i-1, i, i+1, kept between the neighbours."""
    (x0, x1, x2), (y0, y1, y2) = l0[i - 1 : i + 2], mean[i - 1 : i + 2]
    d0, d1 = (y1 - y0) / (x1 - x0), (y2 - y1) / (x2 - x1)
    curvature = (d1 - d0) / (x2 - x0)
    if curvature <= 0:
        return float(x1)
    # slope at the midpoint (x0+x1)/2 is d0; the vertex is where the slope reaches zero
    return float(np.clip((x0 + x1) / 2 - d0 / (2 * curvature), x0, x2))


def interior_minimum(l0: np.ndarray, mean: np.ndarray, sems: np.ndarray) -> int | None:
    """Index of the interior minimum of the curve (a noisy edge yields to an interior one), or None."""
    best = int(np.argmin(mean))
    if 0 < best < len(mean) - 1:
        return best
    interior = [i for i in range(1, len(mean) - 1) if mean[i] <= mean[i - 1] and mean[i] <= mean[i + 1]]
    if not interior:
        return None
    candidate = min(interior, key=lambda i: mean[i])
    return candidate if mean[candidate] - mean[best] <= _tolerance(mean, sems, candidate, best) else None


def elbow(l0: np.ndarray, mean: np.ndarray) -> float | None:
    """The knee of the falling branch of c_dec (L0 up to its minimum), Kneedle-style.

    In coordinates normalised to [0, 1], the point of the branch furthest below the chord from its
    lowest-L0 end to the minimum. None when there is no falling branch or it has no knee.
    """
    best = int(np.argmin(mean))
    if best == 0 or mean[0] == mean[best]:
        return None
    if best < 2:
        return float(l0[best])
    x = (l0[: best + 1] - l0[0]) / (l0[best] - l0[0])
    y = (mean[: best + 1] - mean[best]) / (mean[0] - mean[best])
    knee = int(np.argmax((1.0 - x) - y))
    # a branch that bulges above its chord (not falling) has no knee; its ends are no elbow
    return float(l0[knee]) if 0 < knee else None


def choose(l0: np.ndarray, mean: np.ndarray, sems: np.ndarray) -> tuple[float | None, str]:
    """(L0, rule) for one seed-averaged c_dec curve; (None, reason) where the curve supports no choice."""
    if len(l0) < 3:
        return None, "fewer than 3 L0 values"
    if np.ptp(mean) <= math.hypot(sems.max(), sems.max()):
        return None, "c_dec is flat within seed noise"
    best = interior_minimum(l0, mean, sems)
    if best is not None:
        first, last = valley(mean, sems, best)
        if first < last:
            return float(l0[first]), "c_dec_floor"
        return vertex(l0, mean, best), "c_dec_minimum"
    knee = elbow(l0, mean)
    if knee is None:
        return None, "c_dec has no interior minimum and no falling branch with an elbow"
    return knee, "c_dec_elbow"


def family(rule: str) -> str:
    """A sharp minimum and a flat one's floor are one rule for the bootstrap: the curve has a minimum."""
    return "minimum" if rule in ("c_dec_minimum", "c_dec_floor") else rule


def valley(mean: np.ndarray, sems: np.ndarray, best: int) -> tuple[int, int]:
    """First and last index of the contiguous L0s around the minimum `best` whose c_dec is within noise of it."""
    lo = hi = best
    while lo > 0 and mean[lo - 1] - mean[best] <= _tolerance(mean, sems, lo - 1, best):
        lo -= 1
    while hi < len(mean) - 1 and mean[hi + 1] - mean[best] <= _tolerance(mean, sems, hi + 1, best):
        hi += 1
    return lo, hi


def bracket(l0: np.ndarray, first: int, last: int) -> tuple[float, float]:
    """The grid L0s either side of points first..last: where a choice made there can lie between grid points."""
    return float(l0[max(first - 1, 0)]), float(l0[min(last + 1, len(l0) - 1)])


def bootstrap(curve: Curve, statistic: Callable[[np.ndarray], float | None], rng: np.random.Generator) -> np.ndarray:
    """`statistic` of the seed-averaged curve over resamples of each L0's seeds (with replacement)."""
    values = []
    for _ in range(BOOTSTRAP_SAMPLES):
        mean = np.array([v[rng.integers(0, len(v), len(v))].mean() for _, v in curve])
        value = statistic(mean)
        if value is not None:
            values.append(value)
    return np.array(values)


def summarise(curve: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    l0 = np.array([x for x, _ in curve])
    mean = np.array([v.mean() for _, v in curve])
    sems = np.array([v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else 0.0 for _, v in curve])
    return l0, mean, sems


def c_dec_recommendation(curve: Curve, seed: int) -> tuple[Row, tuple[float, float] | None]:
    """recommended_l0, interval, rule and flag from one c_dec curve alone, its per-rule answers beside them;
    and the choice's grid bracket (None where there is no choice)."""
    l0, mean, sems = summarise(curve)
    value, rule = choose(l0, mean, sems)
    out: Row = {"recommended_l0": value, "interval_low": None, "interval_high": None,
                "rule": rule if value is not None else "none", "supported": value is not None,
                "flag": "" if value is not None else rule,
                "l0_argmin_c_dec": float(l0[int(np.argmin(mean))]) if len(l0) else None,
                "l0_min_c_dec": None, "l0_elbow_c_dec": None}
    if len(l0) >= 3:
        best = interior_minimum(l0, mean, sems)
        out["l0_min_c_dec"] = vertex(l0, mean, best) if best is not None else None
        out["l0_elbow_c_dec"] = elbow(l0, mean)
    if value is None:
        return out, None

    def same_rule(resampled: np.ndarray) -> float | None:
        chosen, chosen_rule = choose(l0, resampled, sems)
        return chosen if family(chosen_rule) == family(rule) else None

    boots = bootstrap(curve, same_rule, np.random.default_rng(seed))
    # the bracket of the chosen point, or of the whole valley of a minimum
    first, last = (valley(mean, sems, interior_minimum(l0, mean, sems)) if family(rule) == "minimum"
                   else (int(np.flatnonzero(l0 == value)[0]),) * 2)
    cell = bracket(l0, first, last)
    out["interval_low"], out["interval_high"] = widen(boots, value, cell)
    if family(rule) == "minimum" and len(boots) < BOOTSTRAP_SAMPLES / 2:
        out["flag"] = "the interior minimum is not stable over seed resamples"
    return out, cell


def widen(boots: np.ndarray, value: float, cell: tuple[float, float]) -> tuple[float, float]:
    """The bootstrap's 5-95 % range of a choice, widened to hold the choice and its grid bracket `cell`."""
    lo_q, hi_q = np.quantile(boots, INTERVAL_QUANTILES) if len(boots) else (value, value)
    return float(min(lo_q, value, cell[0])), float(max(hi_q, value, cell[1]))


def _zero_tolerance(mean: np.ndarray, sems: np.ndarray, i: int) -> float:
    return max(float(sems[i]), REL_TOL * float(np.ptp(mean)))


def zero_onset(mean: np.ndarray, sems: np.ndarray) -> int | None:
    """Index of the first L0 at which s_n_dec falls to zero within noise from a clearly positive value, or None.

    A zero at the smallest L0s, before the curve has been positive, is not the onset (sbw_large at L0 2).
    """
    if len(mean) < 3:
        return None
    zero = [abs(m) <= _zero_tolerance(mean, sems, i) for i, m in enumerate(mean)]
    positive = next((i for i, m in enumerate(mean) if m > 0 and not zero[i]), None)
    if positive is None:
        return None
    return next((i for i in range(positive + 1, len(mean)) if zero[i]), None)


def floor_onset(mean: np.ndarray, sems: np.ndarray) -> int | None:
    """Index of s_n_dec's zero onset, or else of the first L0 past its peak within noise of its lowest value there."""
    zero = zero_onset(mean, sems)
    if zero is not None or len(mean) < 3:
        return zero
    peak = int(np.argmax(mean))
    if peak == len(mean) - 1:
        return None
    best = peak + 1 + int(np.argmin(mean[peak + 1:]))
    if mean[best] < 0:
        return None
    return next(i for i in range(peak + 1, best + 1) if mean[i] - mean[best] <= _tolerance(mean, sems, i, best))


def noise_floor_l0(curve: Curve) -> float | None:
    """The first L0 at which an s_n_dec curve reaches its floor: its zero onset, or else its minimum past its peak."""
    l0, mean, sems = summarise(curve)
    at = floor_onset(mean, sems)
    return float(l0[at]) if at is not None else None


def s_n_zero_recommendation(curve: Curve, seed: int) -> tuple[float, tuple[float, float]] | None:
    """s_n_dec's zero onset and its interval: the bootstrap over seeds, widened to the onset's grid bracket."""
    l0, mean, sems = summarise(curve)
    at = zero_onset(mean, sems)
    if at is None:
        return None

    def onset(resampled: np.ndarray) -> float | None:
        found = zero_onset(resampled, sems)
        return float(l0[found]) if found is not None else None

    boots = bootstrap(curve, onset, np.random.default_rng(seed))
    return float(l0[at]), widen(boots, float(l0[at]), bracket(l0, at, at))


def recommend_curve(c_curve: Curve, s_curve: Curve, seed: int = 0) -> Row:
    """One curve's recommendation: c_dec's, unless s_n_dec reaches zero outside the grid bracket of c_dec's minimum.

    The bracket, not the bootstrap-widened interval: a c_dec minimum that moves with the seeds has a wide
    interval, and that is a reason to trust it less, not for it to veto s_n_dec (zipf_wide_8: minimum at
    4.4 whose interval [3, 8.5] reached the zero at 8).
    """
    out, cell = c_dec_recommendation(c_curve, seed)
    out["l0_floor_s_n_dec"] = noise_floor_l0(s_curve)
    zero = s_n_zero_recommendation(s_curve, seed)
    if zero is None:
        return out
    value, (low, high) = zero
    if family(out["rule"]) == "minimum":
        if cell[0] <= value <= cell[1]:
            return out
        disagreement = (f"c_dec's minimum at {out['recommended_l0']:.3g} (grid bracket "
                        f"[{cell[0]:.3g}, {cell[1]:.3g}]) excludes s_n_dec's zero at {value:.3g}")
    elif out["supported"]:
        disagreement = f"c_dec has no interior minimum (elbow at {out['recommended_l0']:.3g})"
    else:
        disagreement = f"c_dec alone: {out['flag']}"
    return out | {"recommended_l0": value, "interval_low": low, "interval_high": high, "rule": "s_n_dec_zero",
                  "supported": True, "flag": disagreement}


def seed_agreement_peaks(rows: Sequence[Row]) -> dict[tuple, float]:
    """Per curve: the L0 whose seed-averaged agreement between seeds (sae.seed_agreement) is highest.

    Reported beside c_dec's answers, not used by the rule: on the toy suite it is a candidate signal under test
    (docs/recommendation_extras.md)."""
    grouped: dict[tuple, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        value = row.get(SEED_AGREEMENT)
        if row["l0"] is not None and isinstance(value, (int, float)) and math.isfinite(value):
            grouped[curve_key(row)][float(row["l0"])].append(float(value))
    return {key: max(by_l0, key=lambda l0: np.mean(by_l0[l0])) for key, by_l0 in grouped.items()}


def recommend_l0(rows: Sequence[Row], true_l0: float | None) -> list[Row]:
    """Per curve (architecture, width, swept options): the recommendation and every rule's answer."""
    c_curves, s_curves = curves_by_key(rows, "c_dec"), curves_by_key(rows, "s_n_dec")
    excluded = defaultdict(list)
    for row in rows:
        if row["l0"] is not None and not finite(row):
            excluded[curve_key(row)].append(f"l0={row['l0']:g} seed={row['seed']}")
    keys = sorted(set(c_curves) | set(excluded))
    peaks = seed_agreement_peaks(rows)
    recommendations = []
    for key in keys:
        arch, width, options = key
        rec = {"architecture": arch, "width": width} | ({"options": options} if options else {})
        rec |= recommend_curve(c_curves.get(key, []), s_curves.get(key, []))
        rec |= {"l0_argmax_seed_agreement": peaks.get(key), "excluded_points": excluded.get(key, []),
                "true_l0": true_l0}
        recommendations.append(rec)
    return recommendations


def excluded(row: Row) -> bool:
    """Whether a sweep-table row takes no part in the recommendation (a non-finite decoder metric)."""
    return row["l0"] is not None and not finite(row)


def tracking_summary(recommendations: Sequence[Row]) -> tuple[dict[str, float], dict[str, str]]:
    """The recommendations as MLflow metrics (numbers) and tags (rule, flag), prefixed per curve when several."""
    metrics: dict[str, float] = {}
    tags: dict[str, str] = {}
    for rec in recommendations:
        prefix = "" if len(recommendations) == 1 else (
            f"{rec['architecture']}.w{rec['width']}" + (f".{rec['options']}" if rec.get("options") else "") + ".")
        metrics |= {f"{prefix}{k}": float(v) for k, v in rec.items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "width" and math.isfinite(v)}
        tags |= {f"{prefix}recommendation.{k}": str(rec[k]) for k in ("rule", "flag", "supported")}
        tags[f"{prefix}recommendation.excluded_points"] = ", ".join(rec["excluded_points"])
    return metrics, tags


def in_words(recommendations: Sequence[Row]) -> str:
    """The recommendations as a short text (the sweep's MLflow note), one line per curve when there are several,
    e.g. "Recommended L0 11 (interval 10–16, c_dec_floor); true L0 10.95"."""
    if not recommendations:
        return "No recommended L0: no architecture of this sweep takes an L0 (each chooses its own)."
    lines = []
    for rec in recommendations:
        if rec["supported"]:
            text = (f"Recommended L0 {rec['recommended_l0']:.4g} (interval {rec['interval_low']:.4g}–"
                    f"{rec['interval_high']:.4g}, {rec['rule']})")
        else:
            text = f"No recommended L0 ({rec['flag']})"
        if rec["true_l0"] is not None:
            text += f"; true L0 {rec['true_l0']:.4g}"
        if rec["supported"] and rec["flag"]:
            text += f". Flag: {rec['flag']}"
        if rec["excluded_points"]:
            text += f". Excluded (non-finite metrics): {', '.join(rec['excluded_points'])}"
        if len(recommendations) > 1:
            options = f" ({rec['options']})" if rec.get("options") else ""
            text = f"- {rec['architecture']} w{rec['width']}{options}: {text}"
        lines.append(text)
    return "\n".join(lines)
