"""Absorption fraction and full-absorption rate against L0, one curve per width."""

from __future__ import annotations

import matplotlib.pyplot as plt

from sae.figures import FigureData
from sae.sweep import curve_key, curve_label, mean_over_seeds


def draw(data: FigureData) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    rows = [r for r in data.rows if r.get("absorption_fraction") is not None]
    if not rows:
        for ax in axes:
            ax.text(0.5, 0.5, "absorption not computed, or no letter passed the probe gate", ha="center",
                    va="center", transform=ax.transAxes, fontsize=8)
        return fig
    for ax, metric, ylabel in ((axes[0], "absorption_fraction", "mean absorption fraction"),
                               (axes[1], "absorption_full_rate", "mean full-absorption rate")):
        curves = mean_over_seeds(rows, metric)
        for key, curve in curves.items():
            letters = next(r["absorption_letters"] for r in rows if curve_key(r) == key)
            ax.errorbar([p[0] for p in curve], [p[1] for p in curve], yerr=[p[2] for p in curve], marker="o",
                        markersize=4, capsize=2, label=f"{curve_label(key, len(curves))} ({letters:g} letters)")
        ax.set_xscale("log")
        ax.set_xlabel("L0 (grid)")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    fig.suptitle(f"{data.experiment}: first-letter feature absorption")
    fig.tight_layout()
    return fig
