"""c_dec and s_n_dec against the target L0 (Sparse but Wrong, fig. 3), with the recommended L0 and its interval."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sae.figures import FigureData
from sae.figures.style import GT_STYLE, mark, mark_true_l0
from sae.sweep import curve_label, mean_over_seeds, recommendation_key


def draw(data: FigureData) -> plt.Figure:
    """Mean over seeds with a +-1 std band; the recommendation and its interval shaded; the ground-truth SAE."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    recs = {recommendation_key(r): r for r in data.recommendation}
    for ax, metric, ylabel in ((axes[0], "c_dec", r"$c_{dec}$ (mean |cos| of decoder pairs)"),
                               (axes[1], "s_n_dec", r"$s_n^{dec}$ (n·b-th decoder projection)")):
        curves = mean_over_seeds(data.rows, metric)
        for key, curve in curves.items():
            l0, mean, std = (np.array(c) for c in zip(*curve))
            line, = ax.plot(l0, mean, marker="o", markersize=4, label=curve_label(key, len(curves)))
            color = line.get_color()
            ax.fill_between(l0, mean - std, mean + std, color=color, alpha=0.2)
            rec = recs.get(key, {})
            # only interior choices are marked: an edge of the grid is not a minimum
            for column, marker, name in (("l0_min_c_dec", "v", "interior minimum"), ("l0_elbow_c_dec", "D", "elbow"),
                                         ("l0_floor_s_n_dec", "v", "floor (zero) reached")):
                at = rec.get(column)
                if at is not None and column.endswith(metric):
                    mark(ax, at, float(np.interp(at, l0, mean)), marker, color, f"{name}, L0 = {at:.3g}")
            if rec.get("recommended_l0") is not None:
                ax.axvspan(rec["interval_low"], rec["interval_high"], color=color, alpha=0.12)
                ax.axvline(rec["recommended_l0"], color=color, linewidth=1.5,
                           label=f"recommended L0 = {rec['recommended_l0']:.3g} "
                                 f"[{rec['interval_low']:.3g}, {rec['interval_high']:.3g}] ({rec['rule']})")
        if data.ground_truth:
            gt = sorted(data.ground_truth, key=lambda r: r["l0"])
            ax.plot([r["l0"] for r in gt], [r[metric] for r in gt], **GT_STYLE)
        mark_true_l0(ax, data.true_l0)
        ax.set_xlabel("target L0 (k); measured L0 for top_afa")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
    fig.suptitle(f"{data.experiment}: decoder metrics vs L0")
    fig.tight_layout()
    return fig
