"""Normalised MSE against ε_LBO per SAE: the companion of the ZF plot (Lee et al. 2025)."""

from __future__ import annotations

import math
import statistics

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from sae.figures import FigureData
from sae.figures.style import Labeller, Palette, curve_fields, legend, note
from sae.sweep import curve_key

EPS, NMSE = "eps_lbo_median", "normalised_mse"


def _spans_decades(values: list[float]) -> bool:
    return min(values) > 0 and max(values) / min(values) > 10


def draw(data: FigureData) -> plt.Figure:
    """A point per SAE in its curve's colour (one per architecture, width and swept option; seeds alike); a curve
    over several L0s joined in L0 order, its ends named."""
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    rows = [r for r in data.rows if r.get(EPS) is not None and r.get(NMSE) is not None and math.isfinite(r[EPS])]
    shared = curve_fields(rows)
    colour, label = Palette(shared.values()), Labeller(shared.values())
    for key, fields in shared.items():
        mine = sorted((r for r in rows if curve_key(r) == key), key=lambda r: (r["l0_measured"] or 0, r["seed"]))
        l0s = sorted({r["l0"] for r in mine if r["l0"] is not None})
        span = f" (target L0 {l0s[0]:g}–{l0s[-1]:g})" if len(l0s) > 1 else ""
        ax.plot([r[EPS] for r in mine], [r[NMSE] for r in mine], marker="o", markersize=5, color=colour(fields),
                linestyle="none", label=label(fields) + span)
        if len(l0s) > 1:
            # joined through the means over seeds in target-L0 order (seeds joined would zigzag); the two ends
            # name the direction of the curve, as every label would overlap
            ends = [[statistics.fmean(r[m] for r in mine if r["l0"] == at) for m in (EPS, NMSE, "l0_measured")]
                    for at in l0s]
            seeds = len({r["seed"] for r in mine})
            ax.plot([e[0] for e in ends], [e[1] for e in ends], color=colour(fields), linewidth=0.7,
                    label=f"{label(fields)}: mean over {seeds} seeds, in L0 order" if seeds > 1 else "_nolegend_")
            for eps, nmse, measured in (ends[0], ends[-1]):
                ax.annotate(f"L0 {measured:.3g}", (eps, nmse), fontsize=7, xytext=(4, 2), textcoords="offset points",
                            color=colour(fields))
    ax.margins(x=0.12)  # room for the end labels
    ax.xaxis.set_major_locator(MaxNLocator(6))
    if _spans_decades([r[EPS] for r in rows]):
        ax.set_xscale("log")
    if _spans_decades([r[NMSE] for r in rows]):
        ax.set_yscale("log")
    ax.set_xlabel(r"median $\epsilon_{LBO}$ over held-out inputs (lower: closer to quasi-orthogonal)")
    ax.set_ylabel("normalised MSE")
    zeros = [r for r in rows if r.get("eps_lbo_zero_inputs")]
    if zeros:
        most = max(zeros, key=lambda r: r["eps_lbo_zero_inputs"])
        of = f" of {most['eps_lbo_inputs']:.0f}" if most.get("eps_lbo_inputs") else ""
        note(ax, f"ε_LBO leaves out the held-out inputs that are exactly zero ({most['eps_lbo_zero_inputs']:.0f}{of} "
                 "per SAE here): there it is 1/(h − 1) whatever the decoder")
    ax.set_title(f"{data.experiment}: reconstruction vs quasi-orthogonality, one point per SAE", fontsize=9)
    legend(ax, outside=True)
    fig.tight_layout()
    return fig
