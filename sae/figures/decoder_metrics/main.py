"""c_dec and s_n_dec against the target L0 (Sparse but Wrong, fig. 3): the L0 each selects."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sae.figures import FigureData
from sae.figures.style import GT_STYLE, mark, mark_true_l0
from sae.sweep import curve_label, mean_over_seeds, recommendation_key


def draw(data: FigureData) -> plt.Figure:
    """Mean over seeds with a +-1 std band; the minimum (and c_dec's elbow) marked; the ground-truth SAE where known."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    recs = {recommendation_key(r): r for r in data.recommendation}
    for ax, metric, ylabel in ((axes[0], "c_dec", r"$c_{dec}$ (mean |cos| of decoder pairs)"),
                               (axes[1], "s_n_dec", r"$s_n^{dec}$ (n·b-th decoder projection)")):
        curves = mean_over_seeds(data.rows, metric)
        for key, curve in curves.items():
            l0, mean, std = (np.array(c) for c in zip(*curve))
            line, = ax.plot(l0, mean, marker="o", markersize=4, label=curve_label(key, len(curves)))
            ax.fill_between(l0, mean - std, mean + std, color=line.get_color(), alpha=0.2)
            if key not in recs:  # an architecture that chooses its own L0 (top_afa): its points, nothing to mark
                continue
            best = recs[key]["l0_min_c_dec" if metric == "c_dec" else "l0_min_s_n_dec"]
            mark(ax, best, mean[list(l0).index(best)], "v", line.get_color(), f"minimum, L0 = {best:g}")
            if metric == "c_dec":
                elbow = recs[key]["l0_elbow_c_dec"]
                mark(ax, elbow, mean[list(l0).index(elbow)], "D", line.get_color(), f"elbow, L0 = {elbow:g}")
        if data.ground_truth:
            gt = sorted(data.ground_truth, key=lambda r: r["l0"])
            ax.plot([r["l0"] for r in gt], [r[metric] for r in gt], **GT_STYLE)
        mark_true_l0(ax, data.true_l0)
        ax.set_xlabel("target L0 (k); measured L0 for top_afa")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    fig.suptitle(f"{data.experiment}: decoder metrics vs L0")
    fig.tight_layout()
    return fig
