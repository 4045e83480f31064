"""Normalised MSE against ε_LBO per SAE: the companion of the ZF plot (Lee et al. 2025)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from sae.figures import FigureData


def draw(data: FigureData) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 4.4))
    for arch in sorted({r["architecture"] for r in data.rows}):
        mine = [r for r in data.rows if r["architecture"] == arch]
        ax.scatter([r["eps_lbo_median"] for r in mine], [r["normalised_mse"] for r in mine], s=22, label=arch)
        for r in mine:
            ax.annotate(f"{r['l0_measured']:.3g}", (r["eps_lbo_median"], r["normalised_mse"]), fontsize=6,
                        xytext=(3, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"median $\epsilon_{LBO}$")
    ax.set_ylabel("normalised MSE")
    ax.set_title(f"{data.experiment}: reconstruction vs quasi-orthogonality (labels: measured L0)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
