"""c_dec and s_n_dec against the target L0 (Sparse but Wrong, fig. 3), with the recommended L0 and its interval."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sae.figures import FigureData
from sae.figures.style import (GT_STYLE, HUES, curves, draw_over_seeds, draw_recommendation,
                               l0_axis, legend, mark, mark_true_l0, no_recommendation_text, note, over_seeds,
                               seeds_text)

SELECTED = (("l0_min_c_dec", "v", "c_dec interior minimum"), ("l0_elbow_c_dec", "D", "c_dec elbow"),
            ("l0_floor_s_n_dec", "^", "s_n_dec reaches zero"))


def draw(data: FigureData) -> plt.Figure:
    """Mean over seeds, their min–max shaded; the recommendation and its interval; the ground-truth SAE."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    recs, rows, shared, colour, label = curves(data)
    for ax, metric, ylabel in ((axes[0], "c_dec", r"$c_{dec}$ (mean |cos| of decoder pairs)"),
                               (axes[1], "s_n_dec", r"$s_n^{dec}$ (n·b-th decoder projection)")):
        band = seeds_text(rows) if len({r["seed"] for r in rows}) > 1 else None
        for i, (key, curve) in enumerate(over_seeds(rows, metric).items()):
            c = colour(shared[key])
            draw_over_seeds(ax, curve, c, label(shared[key]), band if i == 0 else None)  # one entry for the bands
            l0, mean = np.array([p[0] for p in curve]), np.array([p[1] for p in curve])
            rec = recs.get(key, {})
            # only interior choices are marked: an edge of the grid is not a minimum
            for column, marker, name in SELECTED:
                at = rec.get(column)
                if at is not None and column.endswith(metric):
                    mark(ax, at, float(np.interp(at, l0, mean)), marker, c, f"{name}, L0 = {at:.3g}")
            draw_recommendation(ax, rec, c, label(shared[key]) if len(shared) > 1 else "")
        own = [r for r in data.rows if r["l0"] is None and r.get(metric) is not None]
        if own:  # architectures that pick their own L0 (top_afa): a point per SAE where it landed
            ax.plot([r["l0_measured"] for r in own], [r[metric] for r in own], marker="D", markersize=6,
                    linestyle="none", color=HUES.get(own[0]["architecture"], ("tab:gray",))[0], markeredgecolor="black",
                    label=f"{own[0]['architecture']} at the L0 it chose (measured), per SAE")
        if data.ground_truth:
            gt = sorted(data.ground_truth, key=lambda r: r["l0"])
            ax.plot([r["l0"] for r in gt], [r[metric] for r in gt], **GT_STYLE)
        mark_true_l0(ax, data.true_l0)
        l0_axis(ax, [r["l0"] for r in rows], "target L0 k" + ("; top-AFA: measured L0" if own else ""))
        ax.set_ylabel(ylabel)
        if why := no_recommendation_text(data.recommendation):
            note(ax, why)
        legend(ax)
    fig.suptitle(f"{data.experiment}: decoder metrics vs L0")
    fig.tight_layout()
    return fig
