"""The WSAE synthetic study (Cui et al. 2025, figure 3): four metrics against the feature sparsity S."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

import matplotlib.pyplot as plt

from sae.figures.style import NAMES, Palette, fields, fmt, legend

# (metric, panel title, its value for a perfect recovery of the true features: the ground-truth reference)
PANELS = (("l_gt", "ground-truth error $L_{GT}$", 0.0),
          ("l_gt_monosemantic", "$L_{GT}$, features with their own dimension", 0.0),
          ("x_p_error", "reconstruction error of $x_p$", 0.0),
          ("monosemanticity", "monosemanticity (matched R²)", 1.0))


def curve_label(row: dict[str, Any]) -> str:
    options = {k: v for k, v in fields(row).items() if k not in ("architecture", "width", "l0", "seed")}
    if row["architecture"].startswith("wsae") and options.get("alpha") == 0:
        return f"SAE ({row['architecture']}, α = 0)"
    return ", ".join([row["architecture"], *(f"{NAMES.get(k, k)} = {fmt(v)}" for k, v in options.items())])


def mean_over_seeds(rows: list[dict[str, Any]], metric: str) -> dict[str, list[tuple[float, float, float, float]]]:
    """curve label -> [(S, mean, min, max of `metric` over the rows at that S)], sorted by S."""
    grouped: dict[tuple[str, float], list[float]] = defaultdict(list)
    for row in rows:
        grouped[(curve_label(row), row["feature_sparsity"])].append(row[metric])
    curves: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
    for (label, s), values in sorted(grouped.items()):
        curves[label].append((s, statistics.fmean(values), min(values), max(values)))
    return dict(curves)


def draw(data: Any) -> plt.Figure:
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.0))
    colour_of = Palette({k: v for k, v in fields(r).items() if k not in ("l0", "seed")} for r in data.rows)
    colours = {curve_label(r): colour_of({k: v for k, v in fields(r).items() if k not in ("l0", "seed")})
               for r in data.rows}
    seeds = sorted({r["seed"] for r in data.rows})
    for ax, (metric, title, perfect) in zip(axes, PANELS):
        band = f"min–max over seeds {', '.join(map(str, seeds))}"
        for i, (label, curve) in enumerate(mean_over_seeds(data.rows, metric).items()):
            s, mean, low, high = zip(*curve)
            ax.plot(s, mean, marker="o", color=colours[label], label=label)
            if len(seeds) > 1:  # every curve's band, one legend entry for them
                ax.fill_between(s, low, high, color=colours[label], alpha=0.18, linewidth=0,
                                label=band if i == 0 else "_nolegend_")
        ax.axhline(perfect, color="black", linestyle=":", linewidth=1, label="true features recovered exactly")
        ax.set_xlabel("feature sparsity S")
        ax.set_title(title, fontsize=10)
    legend(axes[-1], outside=True)
    fig.suptitle(f"WSAE synthetic study over {len({r['experiment'] for r in data.rows})} experiments, "
                 + (f"mean over seeds {', '.join(map(str, seeds))}" if len(seeds) > 1 else f"seed {seeds[0]}"))
    fig.tight_layout()
    return fig
