"""An audit: c_dec and s_n_dec of the audited ladder against each SAE's measured L0, every SAE marked in the colour
of its verdict, the recommended L0 and interval of its ladder; sparse-probing F1 beside them."""

from __future__ import annotations

import matplotlib.pyplot as plt

from sae.audit.verdict import VERDICTS, audit_rows
from sae.figures import FigureData
from sae.figures.style import (Labeller, Palette, curve_fields, draw_over_seeds, draw_recommendation, l0_axis, legend,
                               no_recommendation_text, note, over_seeds)
from sae.sweep import curve_key, recommendation_key

# one colour per verdict (red is kept for the truth in every figure of the study, black for the ground truth)
VERDICT_COLOURS = dict(zip(VERDICTS, ("tab:purple", "tab:green", "tab:orange", "0.6")))
PANELS = (("c_dec", r"$c_{dec}$ (mean |cos| of decoder pairs)"),
          ("s_n_dec", r"$s_n^{dec}$ (n·b-th decoder projection)"),
          ("probe_f1_k1", "sparse-probing test F1, k = 1"))


def draw(data: FigureData) -> plt.Figure:
    rows = [r for r in data.rows if r["l0"] is not None]
    probed = any(r.get("probe_f1_k1") is not None for r in rows)
    panels = PANELS if probed else PANELS[:2]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.6))
    recs = {recommendation_key(r): r for r in data.recommendation}
    verdicts = {r["sae"]: r["verdict"] for r in audit_rows(rows, data.recommendation)}
    shared = curve_fields(rows)
    colour, label = Palette(shared.values()), Labeller(shared.values())
    for ax, (metric, ylabel) in zip(axes, panels):
        for key, curve in over_seeds(rows, metric).items():
            draw_over_seeds(ax, curve, colour(shared[key]), f"ladder: {label(shared[key])}", None, alpha=0.6)
            who = label(shared[key]) if len(shared) > 1 else ""
            draw_recommendation(ax, recs.get(key, {}), colour(shared[key]), who)
        for verdict, c in VERDICT_COLOURS.items():
            mine = [r for r in rows if verdicts[r["sae"]] == verdict and r.get(metric) is not None]
            if mine:
                ax.plot([r["l0"] for r in mine], [r[metric] for r in mine], marker="o", markersize=9, color=c,
                        markeredgecolor="black", linestyle="none", label=f"audited SAE: {verdict} ({len(mine)})")
        if metric == "probe_f1_k1" and rows[0].get("probe_raw_f1_k1") is not None:
            ax.axhline(rows[0]["probe_raw_f1_k1"], color="0.35", linestyle=":",
                       label=f"raw activations: {rows[0]['probe_raw_f1_k1']:.2f}")
        # ticks at the measured L0s to 3 figures (9.22, not 9.21869)
        l0_axis(ax, [float(f"{r['l0']:.3g}") for r in rows], "measured L0 (held-out tokens)")
        ax.set_ylabel(ylabel)
        if why := no_recommendation_text(data.recommendation):
            note(ax, why.replace("no recommended L0", "no recommended L0, so no verdict"))
        legend(ax)
    fig.suptitle(f"{data.experiment}: audit of {len(rows)} SAEs, verdict on each L0 "
                 f"({', '.join(f'{sum(v == x for v in verdicts.values())} {x}' for x in VERDICTS)})")
    fig.tight_layout()
    return fig
