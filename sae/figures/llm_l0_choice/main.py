"""On the language model: the L0 top-AFA picks for itself beside the target-L0 sweep's c_dec curve and its elbow."""

from __future__ import annotations

import statistics
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullLocator

from sae.figures.style import HUES, Palette, curve_fields, draw_recommendation, fmt, legend, mark, note, over_seeds
from sae.recommend import recommend_l0
from sae.sweep import recommendation_key


def draw(data: Any) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 4.6))
    experiments = sorted({r.get("experiment", "") for r in data.rows})
    targets = [r for r in data.rows if r["l0"] is not None and r.get("c_dec") is not None]
    own = [r for r in data.rows if r["l0"] is None and r.get("l0_measured") is not None]
    for experiment in experiments:
        rows = [r for r in targets if r.get("experiment", "") == experiment]
        shared = curve_fields(rows)
        colour = Palette(shared.values())
        recs = {recommendation_key(r): r for r in recommend_l0(rows, None)}
        for key, curve in over_seeds(rows, "c_dec").items():
            l0s, c_dec = [p[0] for p in curve], [p[1] for p in curve]
            who = f"{experiment}: {key[0]}, w = {key[1]}"
            ax.plot(l0s, c_dec, marker="o", markersize=4, color=colour(shared[key]), label=f"c_dec, {who}")
            elbow = recs.get(key, {}).get("l0_elbow_c_dec")
            if elbow is not None:
                mark(ax, elbow, float(np.interp(elbow, l0s, c_dec)), "D", colour(shared[key]),
                     f"c_dec elbow: L0 = {elbow:.3g}")
            # drawn as in decoder_metrics: recommend_l0 on these rows is what the experiment's recommendation.json holds
            draw_recommendation(ax, recs.get(key, {}), colour(shared[key]), experiment)
    chosen = []
    for experiment in sorted({r.get("experiment", "") for r in own}):
        mine = [r for r in own if r.get("experiment", "") == experiment]
        lam = {r.get("option.afa_coefficient") for r in mine} - {None}
        at = statistics.fmean(r["l0_measured"] for r in mine)
        chosen.append(at)
        ax.axvline(at, color=HUES["top_afa"][0], linewidth=2,
                   label=f"top-AFA's own L0 = {at:.4g} ({experiment}, {len(mine)} SAE"
                         + ("s" if len(mine) > 1 else "") + (f", λ_AFA = {', '.join(fmt(v) for v in lam)}" if lam
                                                             else "") + ")")
    if not own:
        note(ax, "no top-AFA SAE among these experiments: only the target-L0 curves are drawn")
    if not targets:
        note(ax, "no target-L0 sweep among these experiments: no c_dec curve or elbow to compare with")
    ax.set_xscale("log")
    grid = sorted({r["l0"] for r in targets} | set(chosen))
    if 0 < len(grid) <= 12:  # the grid's own L0s and top-AFA's as ticks (8, 16, … rather than 10¹, 10²)
        ax.set_xticks(grid, [f"{v:.4g}" for v in grid])
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("L0 (target k; top-AFA: measured on held-out tokens), log scale")
    ax.set_ylabel("c_dec (mean |cos| of decoder pairs)")
    ax.set_title("The L0 top-AFA chooses beside the c_dec elbow, on the language model", fontsize=10)
    legend(ax, outside=True)
    fig.tight_layout()
    return fig
