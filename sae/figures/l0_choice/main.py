"""Top-AFA's self-chosen L0 per λ_AFA beside c_dec's recommended L0 and the true L0 (toy sources)."""

from __future__ import annotations

import statistics

import matplotlib.pyplot as plt

from sae.figures import FigureData
from sae.sweep import curve_label, recommendation_key

LAMBDA = "option.afa_coefficient"


def draw(data: FigureData) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    chosen = [r for r in data.rows if r["l0"] is None and LAMBDA in r and r[LAMBDA] is not None]
    if chosen:
        lambdas = sorted({r[LAMBDA] for r in chosen})
        ax.scatter([r[LAMBDA] for r in chosen], [r["l0_measured"] for r in chosen], color="tab:blue", s=18, alpha=0.6)
        ax.plot(lambdas, [statistics.fmean(r["l0_measured"] for r in chosen if r[LAMBDA] == lam) for lam in lambdas],
                color="tab:blue", marker="o", label="top-AFA: chosen L0")
        ax.set_xscale("log", base=2)
    styles = iter(["tab:green", "tab:orange", "tab:purple", "tab:brown"])
    for rec in data.recommendation:
        colour = next(styles, "tab:gray")
        if rec.get("recommended_l0") is None:  # the curve supports no choice (sae.recommend says why)
            continue
        label = curve_label(recommendation_key(rec), len(data.recommendation))
        ax.axhspan(rec["interval_low"], rec["interval_high"], color=colour, alpha=0.12)
        ax.axhline(rec["recommended_l0"], color=colour, linestyle="-.",
                   label=f"{label}: recommended {rec['recommended_l0']:.3g} ({rec['rule']})")
    if data.true_l0 is not None:
        ax.axhline(data.true_l0, color="tab:red", linestyle="--", label=f"true L0 = {data.true_l0:.2f}")
    ax.set_xlabel(r"$\lambda_{AFA}$")
    ax.set_ylabel("L0")
    ax.set_title(f"{data.experiment}: the L0 top-AFA chooses, the recommended L0, and the truth", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
