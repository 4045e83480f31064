"""Hedging degree against width (Feature Hedging, fig. 4): narrower SAEs hedge more."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.ticker import NullLocator

from sae.figures import FigureData
from sae.figures.style import Labeller, Palette, fields, legend, seeds_text


def curve(row: dict[str, Any]) -> tuple:
    """What a curve over width shares: architecture, swept options, L0 (width is the x axis, seeds are pooled)."""
    return tuple((k, v) for k, v in fields(row).items() if k not in ("width", "seed"))


def by_width(rows: list[dict[str, Any]], metric: str) -> dict[tuple, list[tuple[int, float, float, float]]]:
    """curve -> sorted [(width, mean, min, max over seeds)] of `metric`."""
    grouped: dict[tuple, list[float]] = defaultdict(list)
    for row in rows:
        if row.get(metric) is not None:  # SAEs of an architecture the experiment does not hedge-test
            grouped[(curve(row), int(row["width"]))].append(float(row[metric]))
    curves: dict[tuple, list[tuple[int, float, float, float]]] = defaultdict(list)
    for (key, width), values in sorted(grouped.items()):
        curves[key].append((width, statistics.fmean(values), min(values), max(values)))
    return dict(curves)


def draw(data: FigureData) -> plt.Figure:
    """h per width (mean over seeds, their min–max shaded); beside it p against the random-span baseline p_base."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    rows = [r for r in data.rows if r.get("hedging_h") is not None]
    items = {curve(r): dict(curve(r)) for r in rows}
    colour = Palette(items.values())
    # the L0 and options are named even where they take one value: they are what each curve holds fixed
    name = Labeller(items.values())
    band = seeds_text(rows) if len({r["seed"] for r in rows}) > 1 else None

    def label(key: tuple) -> str:
        extra = [f"L0 = {v:g}" for k, v in key if k == "l0" and v is not None and "l0" not in name.varying]
        return ", ".join([name(items[key]), *extra])

    for key, points in by_width(rows, "hedging_h").items():
        widths, mean, low, high = zip(*points)
        axes[0].plot(widths, mean, marker="o", color=colour(items[key]), label=label(key))
        if len({r["seed"] for r in rows}) > 1:  # every curve's band, one legend entry for them
            axes[0].fill_between(widths, low, high, color=colour(items[key]), alpha=0.18, linewidth=0,
                                 label=band or "_nolegend_")
            band = None
    axes[0].axhline(0, color="black", linewidth=0.8)
    axes[0].set_ylabel("hedging degree h")
    p_base = by_width(rows, "hedging_p_base")
    spread = by_width(rows, "hedging_p_base_std")
    for key, points in by_width(rows, "hedging_p").items():
        widths, mean, _, _ = zip(*points)
        c = colour(items[key])
        axes[1].plot(widths, mean, marker="o", color=c, label=f"p, {label(key)}")
        base = [p[1] for p in p_base[key]]
        sd = [p[1] for p in spread[key]]
        axes[1].plot(widths, base, marker="x", linestyle=":", color=c, label=f"p_base (random span), {label(key)}")
        axes[1].fill_between(widths, [b - s for b, s in zip(base, sd)], [b + s for b, s in zip(base, sd)], color=c,
                             alpha=0.12, linewidth=0, label="p_base ± s.d. over its random draws")
    axes[1].set_ylabel("p: old latents' change in the new span")
    all_widths = sorted({int(r["width"]) for r in rows})
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(all_widths, [str(w) for w in all_widths])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("SAE width (latents, log scale)")
        legend(ax)
    fig.suptitle(f"{data.experiment}: hedging degree against width")
    fig.tight_layout()
    return fig
