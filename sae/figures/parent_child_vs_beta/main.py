"""Parent/child cosines of balanced Matryoshka SAEs against beta (Feature Hedging, sec. 5): where is zero?"""

from __future__ import annotations

import statistics
from collections import defaultdict

import matplotlib.pyplot as plt

from sae.figures import FigureData

BETA = "option.beta"
SERIES = (
    ("parent_child_dec_cos", "parent latent decoder · child (+: hedging)"),
    ("parent_child_enc_cos", "parent latent encoder · child (−: absorption)"),
    ("child_parent_dec_cos", "child latent decoder · parent (+: absorption)"),
)


def mean_by_beta(rows: list[dict], metric: str) -> tuple[list[float], list[float]]:
    """Sorted betas of the balanced Matryoshka rows, and `metric` averaged over the rest of the grid (seeds)."""
    grouped: dict[float, list[float]] = defaultdict(list)
    for row in rows:
        if row["architecture"] == "balanced_matryoshka" and row.get(metric) not in (None, ""):
            grouped[float(row[BETA])].append(float(row[metric]))
    betas = sorted(grouped)
    return betas, [statistics.fmean(grouped[b]) for b in betas]


def draw(data: FigureData) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for metric, label in SERIES:
        betas, means = mean_by_beta(data.rows, metric)
        if betas:
            ax.plot(betas, means, marker="o", label=label)
    ax.axhline(0, color="black", linewidth=1.0, linestyle="--", label="zero: neither")
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlabel("β (inner prefix loss weights β^m … β)")
    ax.set_ylabel("cosine")
    ax.legend(fontsize=8)
    fig.suptitle(f"{data.experiment}: parent/child cosines against β")
    fig.tight_layout()
    return fig
