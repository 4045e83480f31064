"""The ZF plot (Lee et al. 2025, as coded in visualization/zf-plot.ipynb): ‖z‖ against ‖f̃‖ per held-out input."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sae.figures import FigureData
from sae.io import read_tensors

NORM_Z, NORM_F = "quasi_orthogonality.norm_z", "quasi_orthogonality.norm_f"
# official zf-plot.ipynb: bands for ε(h − 1) in {0.25, 0.5, 1}
BAND_E = (1.0, 0.5, 0.25)


def band(e: float, x: np.ndarray, y_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edges y = x·√(1/(1 ± e)) of the band for e = ε(h − 1); the upper one capped at y_max."""
    upper = x * np.sqrt(1 / (1 - e)) if e < 1 else np.full_like(x, y_max)
    return x * np.sqrt(1 / (1 + e)), np.minimum(upper, y_max)


def draw(data: FigureData) -> plt.Figure:
    """One panel per architecture; every SAE of it as a colour."""
    by_arch: dict[str, list] = {}
    for point, path in data.tensors:
        tensors = read_tensors(path)
        if NORM_Z in tensors:
            by_arch.setdefault(point.architecture, []).append((point, tensors[NORM_Z].numpy(), tensors[NORM_F].numpy()))
    if not by_arch:
        raise ValueError(f"{data.experiment}: no SAE exported {NORM_Z} (is metrics.quasi_orthogonality enabled?)")
    fig, axes = plt.subplots(1, len(by_arch), figsize=(4.6 * len(by_arch), 4.4), squeeze=False)
    for ax, (arch, saes) in zip(axes[0], sorted(by_arch.items())):
        top = max(max(z.max(), f.max()) for _, z, f in saes) * 1.05
        x = np.linspace(0, top, 100)
        for e in BAND_E:
            ax.fill_between(x, *band(e, x, top), color="tab:gray", alpha=0.12, linewidth=0)
        ax.plot(x, x, color="black", linewidth=1, label="y = x")
        colours = plt.cm.viridis(np.linspace(0, 0.9, len(saes)))
        for colour, (point, z, f) in zip(colours, sorted(saes, key=lambda s: _order(s[0]))):
            ax.scatter(z, f, s=3, alpha=0.35, color=colour, label=_label(point), rasterized=True)
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel(r"$\|z\|_2$ (input)")
        ax.set_ylabel(r"$\|\tilde f\|_2$ (decoder-scaled activations, $\|b_{dec}\|$)")
        ax.set_title(f"{arch}: above = over-activation", fontsize=10)
        ax.legend(fontsize=7, markerscale=3, loc="upper left")
    fig.suptitle(f"{data.experiment}: ZF plot")
    fig.tight_layout()
    return fig


def _order(point) -> tuple:
    return point.width, sorted(point.options.items()), point.l0 or 0.0, point.seed


def _label(point) -> str:
    parts = [f"L0 {point.l0_label}"] if point.l0 is not None else []
    parts += [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(point.options.items())]
    return ", ".join(parts + [f"seed {point.seed}"])
