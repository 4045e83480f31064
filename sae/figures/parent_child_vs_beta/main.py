"""Parent/child cosines of balanced Matryoshka SAEs against beta (Feature Hedging, sec. 5): where is zero?"""

from __future__ import annotations

import statistics
from collections import defaultdict

import matplotlib.pyplot as plt
from matplotlib.ticker import NullLocator

from sae.figures import FigureData
from sae.figures.style import legend

BETA = "option.beta"
SERIES = (
    ("parent_child_dec_cos", "parent latent decoder · child (+: hedging)"),
    ("parent_child_enc_cos", "parent latent encoder · child (−: absorption)"),
    ("child_parent_dec_cos", "child latent decoder · parent (+: absorption)"),
)


def by_beta(rows: list[dict], metric: str) -> tuple[list[float], list[float], list[float], list[float]]:
    """Sorted betas of the balanced Matryoshka rows, and `metric`'s mean, min and max over the rest (seeds)."""
    grouped: dict[float, list[float]] = defaultdict(list)
    for row in rows:
        if row["architecture"] == "balanced_matryoshka" and row.get(metric) not in (None, ""):
            grouped[float(row[BETA])].append(float(row[metric]))
    betas = sorted(grouped)
    return (betas, [statistics.fmean(grouped[b]) for b in betas], [min(grouped[b]) for b in betas],
            [max(grouped[b]) for b in betas])


def draw(data: FigureData) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 4.4))
    seeds = sorted({r["seed"] for r in data.rows if r["architecture"] == "balanced_matryoshka"})
    betas: list[float] = []
    for (metric, label), colour in zip(SERIES, ("tab:purple", "tab:cyan", "tab:brown")):
        betas, mean, low, high = by_beta(data.rows, metric)
        if betas:
            ax.plot(betas, mean, marker="o", color=colour, label=label)
            if len(seeds) > 1:
                ax.fill_between(betas, low, high, color=colour, alpha=0.15, linewidth=0,
                                label=f"min–max over seeds {', '.join(map(str, seeds))}")
    ax.axhline(0, color="black", linewidth=1.0, linestyle="--", label="zero: neither")
    ax.set_xscale("symlog", linthresh=0.1)
    # every swept β named on the axis (0.25 and 0.5 had no tick on the symlog scale)
    ax.set_xticks(betas, [f"{b:g}" for b in betas])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("β (inner prefix loss weights β^m … β; symlog scale)")
    ax.set_ylabel("cosine")
    legend(ax, outside=True)
    title = f"{data.experiment}: parent/child cosines against β"
    fig.suptitle(title + (f" (seed {seeds[0]})" if len(seeds) == 1 else ""))
    fig.tight_layout()
    return fig
