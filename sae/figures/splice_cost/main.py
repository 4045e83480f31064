"""The cost of splicing each SAE into its language model, against measured L0; the L0 c_dec selects."""

from __future__ import annotations

import statistics

import matplotlib.pyplot as plt

from sae.figures import FigureData
from sae.figures.style import mark
from sae.sweep import curve_key, curve_label, recommendation_key


def draw(data: FigureData) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    recs = {recommendation_key(r): r for r in data.recommendation}
    keys = sorted({curve_key(r) for r in data.rows})
    for ax, metric, ylabel in ((axes[0], "ce_loss_increase", "CE-loss increase (nats)"),
                               (axes[1], "kl_div", "KL(clean || spliced) (nats)")):
        for key in keys:
            mine = [r for r in data.rows if curve_key(r) == key]
            pts = sorted((r["l0_measured"], r[metric]) for r in mine)
            line, = ax.plot(*zip(*pts), marker="o", markersize=4, label=curve_label(key, len(keys)))
            elbow = recs.get(key, {}).get("l0_elbow_c_dec")
            if elbow is not None:
                at = [r for r in mine if r["l0"] == elbow]
                mark(ax, statistics.fmean(r["l0_measured"] for r in at), statistics.fmean(r[metric] for r in at),
                     "D", line.get_color(), f"c_dec elbow, L0 = {elbow:g}")
        ax.set_xscale("log")
        ax.set_xlabel("measured L0")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    fig.suptitle(f"{data.experiment}: cost of splicing the SAE into the model")
    fig.tight_layout()
    return fig
