"""Measured L0 against variance explained: a better trade-off is not a truer SAE (Sparse but Wrong, fig. 2).

Drawn with the paper's uncentred variance explained, 1 − Σ‖x − x̂‖²/Σ‖x‖² (its
`calculate_variance_explained`); the centred one is in the sweep table as `variance_explained`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from sae.figures import FigureData
from sae.figures.style import GT_STYLE, mark_true_l0
from sae.sweep import curve_key, curve_label

# the paper's form (main_toy_model_experiments.ipynb: divided by Σ‖x‖², not by Σ‖x − x̄‖²)
METRIC = "variance_explained_uncentred"


def draw(data: FigureData) -> plt.Figure:
    """Every trained SAE as a point; the ground-truth SAE's curve for comparison."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    keys = sorted({curve_key(r) for r in data.rows})
    for key in keys:
        pts = sorted((r["l0_measured"], r[METRIC]) for r in data.rows if curve_key(r) == key)
        ax.plot(*zip(*pts), marker="o", markersize=4, linestyle="none", alpha=0.8, label=curve_label(key, len(keys)))
    if data.ground_truth:
        gt = sorted(data.ground_truth, key=lambda r: r["l0_measured"])
        ax.plot([r["l0_measured"] for r in gt], [r[METRIC] for r in gt], **GT_STYLE)
    mark_true_l0(ax, data.true_l0)
    ax.set_xlabel("measured L0")
    ax.set_ylabel("variance explained, uncentred: 1 − Σ‖x − x̂‖² / Σ‖x‖²")
    ax.set_title(f"{data.experiment}: L0 vs variance explained", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
