"""Absorption fraction and full-absorption rate against L0, one curve per width."""

from __future__ import annotations

import matplotlib.pyplot as plt

from sae.figures import FigureData
from sae.figures.style import Labeller, Palette, curve_fields, draw_over_seeds, l0_axis, legend, note, over_seeds, \
    seeds_text
from sae.sweep import curve_key


def draw(data: FigureData) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    rows = [r for r in data.rows if r.get("absorption_fraction") is not None and r["l0"] is not None]
    shared = curve_fields(rows)
    colour, label = Palette(shared.values()), Labeller(shared.values())
    band = seeds_text(rows) if len({r["seed"] for r in rows}) > 1 else None
    for ax, metric, ylabel in ((axes[0], "absorption_fraction", "mean absorption fraction"),
                               (axes[1], "absorption_full_rate", "mean full-absorption rate")):
        if not rows:  # computed, but the gate let no letter through: say so where the curves would be
            note(ax, "no letter passed the probe gate (absorption.min_probe_f1): nothing to measure")
        for i, (key, curve) in enumerate(over_seeds(rows, metric).items()):
            letters = min(r["absorption_letters"] for r in rows if curve_key(r) == key)
            draw_over_seeds(ax, curve, colour(shared[key]), f"{label(shared[key])} ({letters:g} letters)",
                            band if i == 0 else None)
        l0_axis(ax, [r["l0"] for r in rows], "target L0 k")
        ax.set_ylabel(ylabel)
        if rows:
            legend(ax)
    fig.suptitle(f"{data.experiment}: first-letter feature absorption")
    fig.tight_layout()
    return fig
