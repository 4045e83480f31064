"""Mean sparse-probing F1 against L0, c_dec on a second axis; the c_dec elbow and the F1 peak marked."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sae.figures import FigureData
from sae.figures.style import mark
from sae.sweep import curve_key, curve_label, mean_over_seeds, recommendation_key

KS = (1, 16)


def _ks(rows: list[dict]) -> list[int]:
    return [k for k in KS if rows and all(r.get(f"probe_f1_k{k}") is not None for r in rows)]


def draw(data: FigureData) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    # the SAEs that were probed (an experiment may hold architectures whose evaluation was switched off)
    rows = [r for r in data.rows if any(r.get(f"probe_f1_k{k}") is not None for k in KS)]
    ks = _ks(rows)
    if not ks:
        ax.text(0.5, 0.5, "sparse probing not computed", ha="center", va="center", transform=ax.transAxes)
        return fig
    recs = {recommendation_key(r): r for r in data.recommendation}
    c_dec = mean_over_seeds(rows, "c_dec")
    twin = ax.twinx()
    n_keys = len(c_dec)
    for key, c_curve in c_dec.items():
        for k, style in zip(ks, ("-", "--"), strict=False):
            curve = mean_over_seeds([r for r in rows if curve_key(r) == key], f"probe_f1_k{k}")[key]
            l0s, f1s = [p[0] for p in curve], [p[1] for p in curve]
            line, = ax.plot(l0s, f1s, style, marker="o", markersize=4, label=f"F1, k = {k} ({curve_label(key, n_keys)})")
            peak = max(curve, key=lambda p: p[1])
            mark(ax, peak[0], peak[1], "*", line.get_color(), f"F1 peak k = {k}: L0 = {peak[0]:g}")
            raw = [r[f"probe_raw_f1_k{k}"] for r in rows if curve_key(r) == key]
            ax.axhline(raw[0], color=line.get_color(), linestyle=":", linewidth=1, label=f"raw activations, k = {k}")
        twin.plot([p[0] for p in c_curve], [p[1] for p in c_curve], color="gray", marker="s", markersize=3,
                  label="c_dec")
        elbow = recs.get(key, {}).get("l0_elbow_c_dec")
        if elbow is not None:  # sae.recommend gives none where the falling branch has no knee
            at = float(np.interp(elbow, [p[0] for p in c_curve], [p[1] for p in c_curve]))
            mark(twin, elbow, at, "D", "gray", f"c_dec elbow: L0 = {elbow:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("L0 (grid)")
    ax.set_ylabel("mean test F1 (weighted)")
    twin.set_ylabel("c_dec")
    twin.spines["right"].set_visible(True)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3)
    ax.set_title(f"{data.experiment}: sparse probing vs L0")
    fig.tight_layout()
    return fig
