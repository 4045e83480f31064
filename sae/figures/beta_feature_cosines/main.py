"""Signed decoder-vs-feature cosines of balanced Matryoshka SAEs at β near 0, 0.25 and 1 (Feature Hedging, fig. 6)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt

from sae.figures import FigureData
from sae.figures.feature_cosines.main import TENSOR
from sae.figures.style import signed_cosine_heatmap
from sae.io import read_tensors

# the paper's panels: absorption (β = 0), balance (0.25), plain Matryoshka (1)
SHOWN_BETAS = (0.0, 0.25, 1.0)


def chosen_points(points: list[Any]) -> list[Any]:
    """The first curve's (width, L0, seed) points whose β is nearest each shown β, each once, by β."""
    swept = [p for p in points if p.architecture == "balanced_matryoshka" and "beta" in p.options]
    first = swept[0]
    same = [p for p in swept if (p.width, p.l0, p.seed) == (first.width, first.l0, first.seed)]
    nearest = {min(same, key=lambda p: abs(p.options["beta"] - b)) for b in SHOWN_BETAS}
    return sorted(nearest, key=lambda p: p.options["beta"])


def draw(data: FigureData) -> plt.Figure:
    """Latents in their own order: the Matryoshka prefixes come first."""
    paths = dict(data.tensors)
    chosen = chosen_points(list(paths))
    fig, axes = plt.subplots(1, len(chosen), figsize=(3.6 * len(chosen), 3.4), squeeze=False)
    image = None
    for ax, point in zip(axes[0], chosen):
        image = signed_cosine_heatmap(ax, read_tensors(paths[point])[TENSOR].numpy())
        ax.set_title(f"β = {point.options['beta']:g}", fontsize=10)
        ax.set_ylabel("SAE latent")
    fig.colorbar(image, ax=axes[0].tolist(), label="cos", shrink=0.9)
    first = chosen[0]
    fig.suptitle(f"{data.experiment}: cos(decoder, true features) by β ({first.architecture}, w = {first.width}, "
                 f"L0 = {first.l0_label}, seed {first.seed})", y=1.03)
    return fig
