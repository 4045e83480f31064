"""Every figure, drawn from sweep tables (never from weights), saved as PNG and PDF."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402

from sae.io import atomic_path  # noqa: E402
from sae.sweep import Row, mean_over_seeds  # noqa: E402

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


def _mark_true_l0(ax: plt.Axes, true_l0: float | None) -> None:
    if true_l0 is not None:
        ax.axvline(true_l0, color="tab:red", linestyle="--", linewidth=1.2, label=f"true L0 = {true_l0:.2f}")


def _mark(ax: plt.Axes, x: float, y: float, marker: str, color: str, label: str) -> None:
    """A large outlined marker on one point of a curve: the L0 a rule selects."""
    ax.plot([x], [y], marker=marker, markersize=10, color=color, markeredgecolor="black", linestyle="none", label=label)


def _line_label(arch: str, width: int, n_keys: int) -> str:
    return arch if n_keys == 1 else f"{arch}, w={width}"


def decoder_metrics_figure(
    rows: Sequence[Row], recommendations: Sequence[Row], true_l0: float | None,
    ground_truth: Sequence[Row] = (), title: str = "",
) -> plt.Figure:
    """c_dec and s_n_dec against target L0: mean over seeds with a +-1 std band."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    recs = {(r["architecture"], r["width"]): r for r in recommendations}
    for ax, metric, ylabel in ((axes[0], "c_dec", r"$c_{dec}$ (mean |cos| of decoder pairs)"),
                               (axes[1], "s_n_dec", r"$s_n^{dec}$ (n·b-th decoder projection)")):
        curves = mean_over_seeds(rows, metric)
        for (arch, width), curve in curves.items():
            l0, mean, std = (np.array(c) for c in zip(*curve))
            line, = ax.plot(l0, mean, marker="o", markersize=4, label=_line_label(arch, width, len(curves)))
            ax.fill_between(l0, mean - std, mean + std, color=line.get_color(), alpha=0.2)
            best = recs[(arch, width)]["l0_min_c_dec" if metric == "c_dec" else "l0_min_s_n_dec"]
            _mark(ax, best, mean[list(l0).index(best)], "v", line.get_color(), f"minimum, L0 = {best:g}")
            if metric == "c_dec":
                elbow = recs[(arch, width)]["l0_elbow_c_dec"]
                _mark(ax, elbow, mean[list(l0).index(elbow)], "D", line.get_color(), f"elbow, L0 = {elbow:g}")
        if ground_truth:
            gt = sorted(ground_truth, key=lambda r: r["l0"])
            ax.plot([r["l0"] for r in gt], [r[metric] for r in gt], **GT_STYLE)
        _mark_true_l0(ax, true_l0)
        ax.set_xlabel("target L0 (k)")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    fig.suptitle(title or "Decoder metrics vs L0: minimum marks the L0 they select")
    fig.tight_layout()
    return fig


def variance_explained_figure(rows: Sequence[Row], ground_truth: Sequence[Row], true_l0: float | None,
                              title: str = "") -> plt.Figure:
    """Measured L0 against variance explained; the ground-truth SAE's curve for comparison."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    keys = sorted({(r["architecture"], r["width"]) for r in rows})
    for arch, width in keys:
        pts = sorted((r["l0_measured"], r["variance_explained"]) for r in rows
                     if (r["architecture"], r["width"]) == (arch, width))
        ax.plot(*zip(*pts), marker="o", markersize=4, linestyle="none", alpha=0.8,
                label=_line_label(arch, width, len(keys)))
    if ground_truth:
        gt = sorted(ground_truth, key=lambda r: r["l0_measured"])
        ax.plot([r["l0_measured"] for r in gt], [r["variance_explained"] for r in gt], **GT_STYLE)
    _mark_true_l0(ax, true_l0)
    ax.set_xlabel("measured L0")
    ax.set_ylabel("variance explained")
    ax.set_title(title or "Sparsity vs reconstruction: a better trade-off is not a truer SAE", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def matched_order(cos_HF: np.ndarray) -> np.ndarray:
    """Latent order that puts the Hungarian match of feature j in row j, unmatched latents last."""
    rows, cols = linear_sum_assignment(-cos_HF)
    matched = rows[np.argsort(cols)]
    rest = np.setdiff1d(np.arange(cos_HF.shape[0]), matched)
    return np.concatenate([matched, rest])


def cosine_heatmaps_figure(panels: Sequence[tuple[str, Any]], title: str = "") -> plt.Figure:
    """|cos(decoder latent, true feature)| for several SAEs, latents ordered to match features."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.0), squeeze=False)
    image = None
    for ax, (label, cos_HF) in zip(axes[0], panels):
        cos_HF = np.asarray(cos_HF)
        image = ax.imshow(cos_HF[matched_order(cos_HF)], vmin=0, vmax=1, cmap="viridis",
                          aspect="auto", interpolation="nearest")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("true feature")
        ax.set_ylabel("SAE latent (matched order)")
        ax.grid(False)
    fig.colorbar(image, ax=axes[0].tolist(), label="|cos|", shrink=0.9)
    fig.suptitle(title or "Decoder vs true features: off-diagonal mass = mixed features")
    return fig


def splice_cost_figure(rows: Sequence[Row], recommendations: Sequence[Row], title: str = "") -> plt.Figure:
    """Measured L0 against the CE-loss increase and the KL of the spliced model; the L0 c_dec selects."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    recs = {(r["architecture"], r["width"]): r for r in recommendations}
    keys = sorted({(r["architecture"], r["width"]) for r in rows})
    for ax, metric, ylabel in ((axes[0], "ce_loss_increase", "CE-loss increase (nats)"),
                               (axes[1], "kl_div", "KL(clean || spliced) (nats)")):
        for arch, width in keys:
            mine = [r for r in rows if (r["architecture"], r["width"]) == (arch, width)]
            pts = sorted((r["l0_measured"], r[metric]) for r in mine)
            line, = ax.plot(*zip(*pts), marker="o", markersize=4, label=_line_label(arch, width, len(keys)))
            elbow = recs[(arch, width)]["l0_elbow_c_dec"]
            at = [r for r in mine if r["l0"] == elbow]
            _mark(ax, statistics.fmean(r["l0_measured"] for r in at), statistics.fmean(r[metric] for r in at),
                  "D", line.get_color(), f"c_dec elbow, L0 = {elbow:g}")
        ax.set_xscale("log")
        ax.set_xlabel("measured L0")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    fig.suptitle(title or "Cost of splicing the SAE into the model")
    fig.tight_layout()
    return fig
