"""Agreement between seeds (sae.seed_agreement) against the target L0, beside c_dec: where the decoders of
different seeds match best, against the recommended L0 that c_dec gives and the true L0 where known."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sae.figures import FigureData
from sae.figures.style import (curves, draw_over_seeds, draw_recommendation, l0_axis, legend,
                               mark, mark_true_l0, no_recommendation_text, note, over_seeds, seeds_text)
from sae.sweep import SEED_AGREEMENT


def draw(data: FigureData) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    recs, rows, shared, colour, label = curves(data)
    for ax, metric, ylabel in ((axes[0], "c_dec", r"$c_{dec}$ (mean |cos| of decoder pairs)"),
                               (axes[1], SEED_AGREEMENT, "seed agreement (matched mean |cos| between seeds)")):
        band = seeds_text(rows) if len({r["seed"] for r in rows}) > 2 or metric == "c_dec" else None
        for key, curve in over_seeds(rows, metric).items():
            c = colour(shared[key])
            draw_over_seeds(ax, curve, c, label(shared[key]), band)
            band = None
            rec = recs.get(key, {})
            peak = rec.get("l0_argmax_seed_agreement")
            if peak is not None:
                l0, mean = np.array([p[0] for p in curve]), np.array([p[1] for p in curve])
                mark(ax, peak, float(np.interp(peak, l0, mean)), "*", c, f"seed agreement highest: L0 = {peak:.3g}")
            draw_recommendation(ax, rec, c, label(shared[key]) if len(shared) > 1 else "")
        if metric == SEED_AGREEMENT and not any(r.get(SEED_AGREEMENT) is not None for r in rows):
            note(ax, "no L0 has two seeds of one curve: nothing to compare")
        mark_true_l0(ax, data.true_l0)
        l0_axis(ax, [r["l0"] for r in rows], "target L0 k")
        ax.set_ylabel(ylabel)
        if why := no_recommendation_text(data.recommendation):
            note(ax, why)
        legend(ax)
    fig.suptitle(f"{data.experiment}: agreement between seeds vs L0, beside c_dec")
    fig.tight_layout()
    return fig
