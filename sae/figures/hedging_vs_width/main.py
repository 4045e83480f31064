"""Hedging degree against width (Feature Hedging, fig. 4): narrower SAEs hedge more."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.ticker import NullLocator

from sae.figures import FigureData
from sae.sweep import OPTION_PREFIX


def _curve_label(row: dict[str, Any]) -> str:
    options = ", ".join(f"{k.removeprefix(OPTION_PREFIX)}={row[k]}" for k in sorted(row) if k.startswith(OPTION_PREFIX))
    label = row["architecture"] + (f", L0 {row['l0']:g}" if row["l0"] is not None else "")
    return f"{label}, {options}" if options else label


def by_width(rows: list[dict[str, Any]], metric: str) -> dict[str, list[tuple[int, float, float]]]:
    """curve label -> sorted [(width, mean over seeds, std over seeds)] of `metric`."""
    grouped: dict[tuple[str, int], list[float]] = defaultdict(list)
    for row in rows:
        if row.get(metric) is not None:  # SAEs of an architecture the experiment does not hedge-test
            grouped[(_curve_label(row), int(row["width"]))].append(float(row[metric]))
    curves: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for (label, width), values in sorted(grouped.items()):
        curves[label].append((width, statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0))
    return dict(curves)


def draw(data: FigureData) -> plt.Figure:
    """h per width (mean over seeds, std as error bars); beside it p against the random-span baseline p_base."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, curve in by_width(data.rows, "hedging_h").items():
        widths, mean, std = zip(*curve)
        axes[0].errorbar(widths, mean, yerr=std, marker="o", capsize=3, label=label)
    axes[0].axhline(0, color="black", linewidth=0.8)
    axes[0].set_ylabel("hedging degree h")
    p_base = by_width(data.rows, "hedging_p_base")
    p_base_spread = by_width(data.rows, "hedging_p_base_std")
    for label, curve in by_width(data.rows, "hedging_p").items():
        widths, mean, _ = zip(*curve)
        line, = axes[1].plot(widths, mean, marker="o", label=f"p, {label}")
        _, base, _ = zip(*p_base[label])
        _, spread, _ = zip(*p_base_spread[label])
        axes[1].errorbar(widths, base, yerr=spread, marker="x", linestyle=":", color=line.get_color(), capsize=3,
                         label=f"p_base (50-draw spread), {label}")
    axes[1].set_ylabel("p: old latents' change in the new span")
    widths = sorted({int(row["width"]) for row in data.rows})
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(widths, [str(w) for w in widths])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("SAE width (latents)")
        ax.legend(fontsize=8)
    fig.suptitle(f"{data.experiment}: hedging degree against width")
    fig.tight_layout()
    return fig
