"""Signed cos between decoder rows and true features below, nearest to and above the true L0 (Sparse but Wrong, fig. 1)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import linear_sum_assignment

from sae.figures import FigureData
from sae.figures.style import NAMES, fmt, point_fields, signed_cosine_heatmap
from sae.io import read_tensors

TENSOR = "ground_truth.cos_HF"


def heatmap_points(points: list[Any], true_l0: float) -> list[Any]:
    """The grid points just below, nearest to, and just above the true L0 (first curve and seed with an L0)."""
    def curve(p: Any) -> tuple[Any, ...]:
        return p.architecture, p.width, p.seed, sorted(p.options.items())

    first = next((p for p in points if p.l0 is not None), None)
    if first is None:  # only architectures that choose their own L0 (top_afa): the first three SAEs
        return points[:3]
    same = sorted((p for p in points if p.l0 is not None and curve(p) == curve(first)), key=lambda p: p.l0)
    at = min(same, key=lambda p: abs(p.l0 - true_l0))
    below = [p for p in same if p.l0 < at.l0]
    above = [p for p in same if p.l0 > at.l0]
    return [p for p in (below[len(below) // 2] if below else None, at, above[len(above) // 2] if above else None)
            if p is not None]


def matched_order(cos_HF: np.ndarray) -> np.ndarray:
    """Latent order that puts the Hungarian match (by |cos|) of feature j in row j, unmatched latents last."""
    rows, cols = linear_sum_assignment(-np.abs(cos_HF))
    matched = rows[np.argsort(cols)]
    rest = np.setdiff1d(np.arange(cos_HF.shape[0]), matched)
    return np.concatenate([matched, rest])


def _relation(point: Any, nearest: Any, true_l0: float) -> str:
    if point.l0 is None:
        return "its own L0"
    if point == nearest:
        return "nearest the true L0"
    return "below the true L0" if point.l0 < true_l0 else "above the true L0"


def which(chosen: list[Any]) -> str:
    """The SAE the panels show, by every field they share (architecture, width, swept options, seed)."""
    shared = dict(point_fields(chosen[0]))
    for point in chosen[1:]:
        shared = {k: v for k, v in shared.items() if point_fields(point).get(k) == v}
    return ", ".join([shared.pop("architecture", chosen[0].architecture)]
                     + [f"seed {v}" if k == "seed" else f"{NAMES.get(k, k)} = {fmt(v)}"
                        for k, v in shared.items() if k != "l0"])


def draw(data: FigureData) -> plt.Figure:
    """One heatmap per chosen SAE, latents ordered to match features."""
    paths = dict(data.tensors)
    chosen = heatmap_points(list(paths), data.true_l0)
    nearest = min(chosen, key=lambda p: abs(p.l0 - data.true_l0) if p.l0 is not None else float("inf"))
    fig, axes = plt.subplots(1, len(chosen), figsize=(4.2 * len(chosen), 4.0), squeeze=False)
    image = None
    for ax, point in zip(axes[0], chosen):
        cos_HF = read_tensors(paths[point])[TENSOR].numpy()
        image = signed_cosine_heatmap(ax, cos_HF[matched_order(cos_HF)])
        ax.set_title(f"L0 = {point.l0_label}, {_relation(point, nearest, data.true_l0)}", fontsize=10)
        ax.set_ylabel("SAE latent (matched order)")
    fig.colorbar(image, ax=axes[0].tolist(), label="cos", shrink=0.9)
    fig.suptitle(f"{data.experiment}: cos(decoder, true features) of {which(chosen)}", y=1.03)
    return fig
