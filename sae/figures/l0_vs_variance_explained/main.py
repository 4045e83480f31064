"""Measured L0 against variance explained: a better trade-off is not a truer SAE (Sparse but Wrong, fig. 2).

Drawn with the paper's uncentred variance explained, 1 − Σ‖x − x̂‖²/Σ‖x‖² (its
`calculate_variance_explained`); the centred one is in the sweep table as `variance_explained`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from sae.figures import FigureData
from sae.figures.style import GT_STYLE, Labeller, Palette, curve_fields, l0_axis, legend, mark_true_l0, note
from sae.sweep import curve_key

# the paper's form (main_toy_model_experiments.ipynb: divided by Σ‖x‖², not by Σ‖x − x̄‖²)
METRIC = "variance_explained_uncentred"


def draw(data: FigureData) -> plt.Figure:
    """Every trained SAE as a point (seeds alike); the ground-truth SAE's curve for comparison."""
    fig, ax = plt.subplots(figsize=(7, 4.4))
    # a table written before the metric reported the paper's form: the centred one, and the figure says so
    metric = METRIC if any(r.get(METRIC) is not None for r in data.rows) else "variance_explained"
    rows = [r for r in data.rows if r.get("l0_measured") is not None and r.get(metric) is not None]
    shared = curve_fields(rows)
    colour, label = Palette(shared.values()), Labeller(shared.values())
    for key, fields in shared.items():
        pts = sorted((r["l0_measured"], r[metric]) for r in rows if curve_key(r) == key)
        ax.plot(*zip(*pts), marker="o", markersize=4, linestyle="none", alpha=0.85, color=colour(fields),
                label=label(fields))
    if metric != METRIC:
        note(ax, f"the sweep table predates {METRIC}: the centred variance explained is drawn")
    gt = sorted((r for r in data.ground_truth if r.get(metric) is not None), key=lambda r: r["l0_measured"])
    if gt:
        ax.plot([r["l0_measured"] for r in gt], [r[metric] for r in gt], **GT_STYLE)
    mark_true_l0(ax, data.true_l0)
    l0_axis(ax, [r["l0"] for r in rows if r["l0"] is not None] or [r["l0_measured"] for r in rows],
            "measured L0 (held-out inputs)")
    ax.set_ylabel("variance explained, uncentred: 1 − Σ‖x − x̂‖² / Σ‖x‖²" if metric == METRIC
                  else "variance explained (centred)")
    seeds = sorted({r["seed"] for r in rows})
    ax.set_title(f"{data.experiment}: L0 vs variance explained, one point per SAE"
                 + (f" (seeds {', '.join(map(str, seeds))})" if len(seeds) > 1 else ""), fontsize=10)
    legend(ax)
    fig.tight_layout()
    return fig
