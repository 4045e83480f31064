"""The WSAE synthetic study (Cui et al. 2025, figure 3): four metrics against the feature sparsity S."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

import matplotlib.pyplot as plt

from sae.sweep import OPTION_PREFIX

PANELS = (("l_gt", "ground-truth error $L_{GT}$"), ("l_gt_monosemantic", "$L_{GT}$, features with their own dimension"),
          ("x_p_error", "reconstruction error of $x_p$"), ("monosemanticity", "monosemanticity (matched R²)"))


def curve_label(row: dict[str, Any]) -> str:
    options = {k.removeprefix(OPTION_PREFIX): v for k, v in sorted(row.items()) if k.startswith(OPTION_PREFIX)}
    if row["architecture"].startswith("wsae") and options.get("alpha") == 0:
        return f"SAE ({row['architecture']}, α = 0)"
    return ", ".join([row["architecture"], *(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                                               for k, v in options.items())])


def mean_over_seeds(rows: list[dict[str, Any]], metric: str) -> dict[str, list[tuple[float, float]]]:
    """curve label -> [(S, mean of `metric` over the rows at that S)], sorted by S."""
    grouped: dict[tuple[str, float], list[float]] = defaultdict(list)
    for row in rows:
        grouped[(curve_label(row), row["feature_sparsity"])].append(row[metric])
    curves: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for (label, s), values in sorted(grouped.items()):
        curves[label].append((s, statistics.fmean(values)))
    return dict(curves)


def draw(data: Any) -> plt.Figure:
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    for ax, (metric, title) in zip(axes, PANELS):
        for label, curve in mean_over_seeds(data.rows, metric).items():
            ax.plot(*zip(*curve), marker="o", label=label)
        ax.set_xlabel("feature sparsity S")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    seeds = sorted({r["seed"] for r in data.rows})
    fig.suptitle(f"WSAE synthetic study, {len({r['experiment'] for r in data.rows})} experiments "
                 f"(mean over seeds {seeds})")
    fig.tight_layout()
    return fig
