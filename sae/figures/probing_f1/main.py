"""Mean sparse-probing F1 against L0, c_dec on a second axis; the c_dec elbow and the F1 peak marked."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sae.figures import FigureData
from sae.figures.style import (Labeller, Palette, curve_fields, draw_over_seeds, l0_axis, mark, over_seeds,
                               seeds_text)
from sae.sweep import curve_key, recommendation_key

KS = (1, 16)
STYLES = ("-", "--")


def _ks(rows: list[dict]) -> list[int]:
    return [k for k in KS if rows and all(r.get(f"probe_f1_k{k}") is not None for r in rows)]


def _mark_peak(ax: plt.Axes, curve: list[tuple], k: int, colour: object) -> None:
    """A star where F1 peaks inside the grid; at an edge of the grid nothing brackets it, and the marker says so."""
    l0s = [p[0] for p in curve]
    at, f1 = max(((p[0], p[1]) for p in curve), key=lambda p: p[1])
    if l0s[0] < at < l0s[-1]:
        mark(ax, at, f1, "*", colour, f"F1 peak, k = {k}: L0 = {at:g}")
    else:
        ax.plot([at], [f1], marker="*", markersize=11, markerfacecolor="none", markeredgecolor=colour,
                linestyle="none", label=f"F1 highest at the grid's edge, k = {k} (L0 = {at:g}): no peak bracketed")


def draw(data: FigureData) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 5.2))
    # the SAEs that were probed (an experiment may hold architectures whose evaluation was switched off)
    rows = [r for r in data.rows if r["l0"] is not None and any(r.get(f"probe_f1_k{k}") is not None for k in KS)]
    ks = _ks(rows)
    recs = {recommendation_key(r): r for r in data.recommendation}
    shared = curve_fields(rows)
    colour, label = Palette(shared.values()), Labeller(shared.values())
    band = seeds_text(rows) if len({r["seed"] for r in rows}) > 1 else None
    twin = ax.twinx()
    for key, fields in shared.items():
        mine = [r for r in rows if curve_key(r) == key]
        name = label(fields)
        for k, style in zip(ks, STYLES):
            curve = over_seeds(mine, f"probe_f1_k{k}")[key]
            draw_over_seeds(ax, curve, colour(fields), f"F1, k = {k} ({name})", band, linestyle=style)
            band = None
            _mark_peak(ax, curve, k, colour(fields))
            ax.axhline(mine[0][f"probe_raw_f1_k{k}"], color="0.35", linestyle=":", linewidth=1.2 if k == 1 else 0.8,
                       label=f"raw activations, k = {k}: {mine[0][f'probe_raw_f1_k{k}']:.2f}")
        c_curve = over_seeds(mine, "c_dec")[key]
        l0s, c_dec = [p[0] for p in c_curve], [p[1] for p in c_curve]
        twin.plot(l0s, c_dec, color="0.5", marker="s", markersize=3, linewidth=1, label=f"c_dec ({name}), right axis")
        elbow = recs.get(key, {}).get("l0_elbow_c_dec")
        if elbow is not None:  # sae.recommend gives none where the falling branch has no knee
            mark(twin, elbow, float(np.interp(elbow, l0s, c_dec)), "D", "0.5", f"c_dec elbow: L0 = {elbow:.3g}")
    if rows and rows[0].get("probe_chance_f1") is not None:
        chance = rows[0]["probe_chance_f1"]
        ax.axhline(chance, color="black", linestyle="-.", linewidth=1,
                   label=f"constant classifier (majority answer): {chance:.2f}")
    l0_axis(ax, [r["l0"] for r in rows], "target L0 k")
    ax.set_ylabel("mean test F1 (weighted, over the probing datasets)")
    twin.set_ylabel("c_dec (mean |cos| of decoder pairs)")
    twin.spines["right"].set_visible(True)
    twin.grid(False)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    ax.set_title(f"{data.experiment}: sparse probing vs L0", fontsize=10)
    fig.tight_layout()
    return fig
