"""The ZF plot (Lee et al. 2025, as coded in visualization/zf-plot.ipynb): ‖z‖ against ‖f̃‖ per held-out input."""

from __future__ import annotations

import textwrap
from collections import defaultdict
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap, LogNorm, Normalize
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from sae.figures import FigureData
from sae.figures.style import (HUES, NAMES, Labeller, geometric, legend, note, point_fields, shades)
from sae.io import read_tensors

NORM_Z, NORM_F = "quasi_orthogonality.norm_z", "quasi_orthogonality.norm_f"
# official zf-plot.ipynb: bands for ε(h − 1) in {0.25, 0.5, 1}, widest drawn first and lightest
BAND_E = ((1.0, "0.90"), (0.5, "0.82"), (0.25, "0.72"))
MAX_LEGEND = 6  # more SAEs than this in a panel that differ in one number: a colour bar instead of a legend
POINTS_SHOWN = 6000  # per panel, split between its SAEs: more only overplots


def band(e: float, x: np.ndarray, y_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edges y = x·√(1/(1 ± e)) of the band for e = ε(h − 1); the upper one capped at y_max."""
    upper = x * np.sqrt(1 / (1 - e)) if e < 1 else np.full_like(x, y_max)
    return x * np.sqrt(1 / (1 + e)), np.minimum(upper, y_max)


def outliers(values: np.ndarray) -> bool:
    """A few inputs far beyond the rest (an LLM's first-token norms) squash a linear axis into a corner."""
    return values.size > 0 and values.max() > 6 * np.median(values)


def _panel(ax: plt.Axes, arch: str, saes: list[tuple[Any, np.ndarray, np.ndarray]]) -> None:
    fields = [point_fields(p) for p, _, _ in saes]
    label = Labeller(fields, leave_out=("seed",))
    variants = sorted({tuple(f[k] for k in label.varying) for f in fields},
                      key=lambda v: [(x is None, x if isinstance(x, (int, float)) else 0) for x in v])
    colours = dict(zip(variants, shades(arch, len(variants))))
    z_all = np.concatenate([z for _, z, _ in saes])
    f_all = np.concatenate([f for _, _, f in saes])
    log = outliers(z_all) or outliers(f_all)
    low = min(z_all.min(), f_all[f_all > 0].min()) * 0.8 if log else 0.0
    top = max(z_all.max(), f_all.max()) * 1.05
    x = np.geomspace(low, top, 200) if log else np.linspace(0, top, 200)
    for e, grey in BAND_E:
        ax.fill_between(x, *band(e, x, top), color=grey, linewidth=0, zorder=0, label=f"ε(h − 1) ≤ {e:g}")
    ax.plot(x, x, color="black", linewidth=1, label="y = x (norm carried exactly)")
    continuous = len(variants) > MAX_LEGEND and len(label.varying) == 1
    per_sae = max(100, POINTS_SHOWN // len(saes))
    drawn = set()
    for (point, z, f), fld in zip(saes, fields):
        variant = tuple(fld[k] for k in label.varying)
        first = variant not in drawn
        drawn.add(variant)
        ax.scatter(z[:per_sae], f[:per_sae], s=3, alpha=0.35, color=colours[variant], rasterized=True,
                   label=label(fld, architecture=False) or arch if first and not continuous else "_nolegend_")
    if continuous:  # one number varies over many SAEs (sbw_large's 13 L0s): a colour bar reads better than 13 dots
        values = [v[0] for v in variants]
        norm = (LogNorm if geometric(values) else Normalize)(min(values), max(values))
        # inset at the top left, above the widest band, where no input falls; the legend stays to the right
        bar = plt.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=ListedColormap(shades(arch, 256))),
                           cax=ax.inset_axes((0.05, 0.9, 0.42, 0.035)), orientation="horizontal")
        bar.set_label(f"{NAMES.get(label.varying[0], label.varying[0])} of the SAE", fontsize=7, labelpad=1)
        ticks = sorted({*values[:: max(1, len(values) // 4)], values[-1]})
        bar.set_ticks(ticks, labels=[f"{v:g}" for v in ticks], fontsize=7)
        bar.ax.minorticks_off()
        bar.ax.xaxis.set_ticks_position("bottom")
    if log:
        for axis, scale in ((ax.xaxis, ax.set_xscale), (ax.yaxis, ax.set_yscale)):
            scale("log")
            axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(NullFormatter())  # 2×10², 3×10², … overlapped
    ax.set_xlim(low or 0, top)
    ax.set_ylim(low or 0, top)
    seeds = sorted({p.seed for p, _, _ in saes})
    ax.set_title(f"{arch}" + (f", seeds {', '.join(map(str, seeds))} pooled" if len(seeds) > 1 else "")
                 + ": above y = x, the SAE over-activates", fontsize=9)
    ax.set_xlabel(r"$\|z\|_2$ (input)" + (", log" if log else ""))
    ax.set_ylabel(r"$\|\tilde{f}\|_2$: activations × decoder-row norms, and $\|b_{dec}\|$", fontsize=9)
    legend(ax, outside=True, markerscale=3)
    for handle in ax.get_legend().legend_handles:  # the dots are faint on purpose (overplotting); their key is not
        if handle is not None and hasattr(handle, "get_offsets"):
            handle.set_alpha(1)


def draw(data: FigureData) -> plt.Figure:
    """One panel per architecture; a colour per SAE but its seed."""
    by_arch: dict[str, list] = defaultdict(list)
    zero: dict[str, tuple[int, int]] = {}  # architecture -> (zero inputs, inputs) of its first SAE: all share them
    for point, path in data.tensors:
        tensors = read_tensors(path)
        if NORM_Z in tensors:
            z, f = tensors[NORM_Z].numpy(), tensors[NORM_F].numpy()
            # as ε_LBO does: an input that is exactly zero sits at (0, ‖b_dec‖) whatever the decoder
            zero.setdefault(point.architecture, (int((z == 0).sum()), len(z)))
            by_arch[point.architecture].append((point, z[z > 0], f[z > 0]))
    if not by_arch:
        raise ValueError(f"{data.experiment}: no SAE exported {NORM_Z} (is metrics.quasi_orthogonality enabled?)")
    order = sorted(by_arch, key=lambda a: list(HUES).index(a) if a in HUES else len(HUES))
    fig, axes = plt.subplots(1, len(order), figsize=(6.8 * len(order), 4.6), squeeze=False)
    for ax, arch in zip(axes[0], order):
        saes = sorted(by_arch[arch], key=lambda s: (s[0].width, sorted(s[0].options.items()), s[0].l0 or 0, s[0].seed))
        _panel(ax, arch, saes)
        if zero[arch][0]:
            note(ax, f"{zero[arch][0]} of the {zero[arch][1]} held-out inputs are exactly zero (z = 0): left out, "
                     "as from ε_LBO")
    # one panel is narrower than the title: wrap it rather than let it run off the canvas
    fig.suptitle(textwrap.fill(f"{data.experiment}: ZF plot (shaded: where ε-quasi-orthogonal decoder rows allow "
                               "‖f̃‖)", width=60 * len(order)))
    fig.tight_layout()
    return fig
