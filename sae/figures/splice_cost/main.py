"""The cost of splicing each SAE into its language model, against measured L0; the L0 c_dec selects."""

from __future__ import annotations

import statistics

import matplotlib.pyplot as plt
import numpy as np

from sae.figures import FigureData
from sae.figures.style import Labeller, Palette, curve_fields, l0_axis, legend, mark
from sae.sweep import curve_key, recommendation_key


def draw(data: FigureData) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    recs = {recommendation_key(r): r for r in data.recommendation}
    rows = [r for r in data.rows if r.get("ce_loss_increase") is not None]
    shared = curve_fields(rows)
    colour, label = Palette(shared.values()), Labeller(shared.values())
    for ax, metric, ylabel in ((axes[0], "ce_loss_increase", "CE-loss increase (nats)"),
                               (axes[1], "kl_div", "KL(clean || spliced) (nats)")):
        for key, fields in shared.items():
            mine = [r for r in rows if curve_key(r) == key]
            pts = sorted((r["l0_measured"], r[metric]) for r in mine)
            ax.plot(*zip(*pts), marker="o", markersize=4, color=colour(fields), label=label(fields))
            elbow = recs.get(key, {}).get("l0_elbow_c_dec")
            if elbow is not None:
                # the elbow may fall between grid L0s: interpolated along the curve over target L0
                targets = sorted({r["l0"] for r in mine})
                means = [[statistics.fmean(r[c] for r in mine if r["l0"] == t) for t in targets]
                         for c in ("l0_measured", metric)]
                mark(ax, float(np.interp(elbow, targets, means[0])), float(np.interp(elbow, targets, means[1])),
                     "D", colour(fields), f"c_dec elbow, L0 = {elbow:.3g}")
        # the decision and the ticks from the grid (8, 16, …): the measured L0s (9.2, 15.3, …) make poor ticks
        l0_axis(ax, [r["l0"] for r in rows if r["l0"] is not None], "measured L0")
        ax.set_ylabel(ylabel)
        legend(ax)
    fig.suptitle(f"{data.experiment}: cost of splicing the SAE into the model")
    fig.tight_layout()
    return fig
