"""The look every figure shares, the helpers that mark selected L0s, and atomic PNG + PDF output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from sae.io import atomic_path  # noqa: E402

plt.rcParams.update({"figure.dpi": 120, "savefig.dpi": 150, "axes.grid": True, "grid.alpha": 0.3,
                     "axes.spines.top": False, "axes.spines.right": False})
GT_STYLE = {"color": "black", "marker": "*", "linestyle": ":", "label": "ground-truth SAE"}


def save_figure(fig: plt.Figure, base: Path | str) -> list[Path]:
    """Write base.png and base.pdf atomically; return both paths."""
    paths = []
    for ext in ("png", "pdf"):
        target = Path(f"{base}.{ext}")
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, bbox_inches="tight")
        paths.append(target)
    plt.close(fig)
    return paths


def mark_true_l0(ax: plt.Axes, true_l0: float | None) -> None:
    if true_l0 is not None:
        ax.axvline(true_l0, color="tab:red", linestyle="--", linewidth=1.2, label=f"true L0 = {true_l0:.2f}")


def mark(ax: plt.Axes, x: float, y: float, marker: str, color: str, label: str) -> None:
    """A large outlined marker on one point of a curve: the L0 a rule selects."""
    ax.plot([x], [y], marker=marker, markersize=10, color=color, markeredgecolor="black", linestyle="none", label=label)


def signed_cosine_heatmap(ax: plt.Axes, cos_HF: Any) -> Any:
    """Signed cosines on a diverging scale centred at 0: hedging (+) and absorption (-) show in opposite colours."""
    image = ax.imshow(cos_HF, vmin=-1, vmax=1, cmap="RdBu_r", aspect="auto", interpolation="nearest")
    ax.set_xlabel("true feature")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(False)
    return image
