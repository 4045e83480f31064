"""Top-AFA's self-chosen L0 per λ_AFA beside c_dec's recommended L0 and the true L0 (toy sources)."""

from __future__ import annotations

import statistics

import matplotlib.pyplot as plt

from sae.figures import FigureData
from sae.figures.style import (HUES, Labeller, Palette, curve_fields, draw_recommendation, fmt, legend, mark_true_l0,
                               no_recommendation_text, note)
from sae.sweep import recommendation_key


def draw(data: FigureData) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    # λ_AFA from the sweep column, or from the experiment's config where it is fixed (sbw_large: 1/32)
    chosen = [(data.option(r, "afa_coefficient"), r) for r in data.rows if r["architecture"] == "top_afa"]
    chosen = [(lam, r) for lam, r in chosen if lam is not None and r.get("l0_measured") is not None]
    lambdas = sorted({lam for lam, _ in chosen})
    colour = HUES["top_afa"][0]
    if chosen:
        seeds = sorted({r["seed"] for _, r in chosen})
        fixed = f" (λ_AFA = {fmt(lambdas[0])}, fixed)" if len(lambdas) == 1 else ""
        if len(seeds) > 1:
            ax.scatter([lam for lam, _ in chosen], [r["l0_measured"] for _, r in chosen], color=colour, s=22,
                       alpha=0.5, label=f"top-AFA: chosen L0 per SAE (seeds {', '.join(map(str, seeds))})")
        means = [statistics.fmean(r["l0_measured"] for lam, r in chosen if lam == at) for at in lambdas]
        # a line only joins different λ_AFA: two seeds at one λ are not a trend
        ax.plot(lambdas, means, color=colour, marker="D", markersize=7, markeredgecolor="black",
                linestyle="-" if len(lambdas) > 1 else "none",
                label=("top-AFA: chosen L0, mean over seeds" if len(seeds) > 1 else
                       f"top-AFA: chosen L0 (seed {seeds[0]})") + fixed)
        ax.set_xscale("log", base=2)
        ax.set_xlim(min(lambdas) / 2, max(lambdas) * 2)
        ax.set_xticks(lambdas, [fmt(lam) for lam in lambdas])
        ax.minorticks_off()
    else:
        note(ax, "no top-AFA SAE has a λ_AFA and a measured L0 in the sweep table")
    targets = [r for r in data.rows if r["l0"] is not None]
    shared = curve_fields(targets)
    palette, label = Palette(shared.values()), Labeller(shared.values())
    recs = [r for r in data.recommendation if recommendation_key(r) in shared]
    for rec in recs:
        key = recommendation_key(rec)
        draw_recommendation(ax, rec, palette(shared[key]), label(shared[key]), horizontal=True)
    if why := no_recommendation_text(recs):
        trained = ", ".join(f"{v:g}" for v in sorted({r["l0"] for r in targets}))
        note(ax, f"{why} (target-L0 SAEs trained at L0 {trained})")
    mark_true_l0(ax, data.true_l0, horizontal=True)
    ax.set_xlabel(r"$\lambda_{AFA}$ (top-AFA's coefficient)")
    ax.set_ylabel("L0")
    ax.set_title(f"{data.experiment}: the L0 top-AFA chooses, the recommended L0, and the truth", fontsize=9)
    legend(ax, outside=True)
    fig.tight_layout()
    return fig
