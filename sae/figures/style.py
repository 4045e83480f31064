"""The look every figure shares: one colour per architecture (shades per swept value), labels that name what
varies, the recommendation / interval / truth drawn one way, min–max over seeds, and atomic PNG + PDF output."""

from __future__ import annotations

import math
import statistics
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator, NullLocator  # noqa: E402

from sae.io import atomic_path  # noqa: E402
from sae.sweep import OPTION_PREFIX, curve_key, recommendation_key  # noqa: E402

plt.rcParams.update({"figure.dpi": 120, "savefig.dpi": 150, "axes.grid": True, "grid.alpha": 0.3,
                     "axes.spines.top": False, "axes.spines.right": False})

# One hue per architecture in every figure of every study (top-AFA is orange wherever it appears); a swept
# value within it is a shade of that hue. Red is kept for the truth, black for the ground-truth SAE.
HUES = {"batchtopk": ("tab:blue", "Blues"), "top_afa": ("tab:orange", "Oranges"),
        "balanced_matryoshka": ("tab:green", "Greens"), "matryoshka_batchtopk": ("tab:olive", "YlGn"),
        "wsae": ("tab:purple", "Purples"), "wsae_topk": ("tab:pink", "RdPu"), "topk": ("tab:cyan", "GnBu"),
        "jumprelu": ("tab:brown", "YlOrBr"), "standard": ("tab:gray", "Greys"),
        "batchtopk_l0_search": ("darkslateblue", "PuBu")}
TRUTH = {"color": "tab:red", "linestyle": "--", "linewidth": 1.2}
GT_STYLE = {"color": "black", "marker": "*", "linestyle": ":", "label": "ground-truth SAE (decoder = true features)"}
NOTE_GID = "note"  # a figure's own words on what it does not draw (tests read it)

NAMES = {"width": "w", "l0": "L0", "seed": "seed", "beta": "β", "alpha": "α", "afa_coefficient": "λ_AFA",
         "l0_coefficient": "λ_L0", "l1_init": "λ_L1 init"}


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if 0 < value < 0.1 and math.log2(value).is_integer():  # λ_AFA 0.03125 reads as 1/32
            return f"1/{round(1 / value)}"
        return f"{value:.3g}"
    return str(value)


def fields(row: dict[str, Any]) -> dict[str, Any]:
    """A sweep row's identity: architecture, width, its swept options (unprefixed; None where not its own), L0, seed."""
    out = {k: row.get(k) for k in ("architecture", "width", "l0", "seed")}
    return out | {k.removeprefix(OPTION_PREFIX): v for k, v in sorted(row.items())
                  if k.startswith(OPTION_PREFIX) and v is not None}


def point_fields(point: Any) -> dict[str, Any]:
    return {"architecture": point.architecture, "width": point.width, "l0": point.l0, "seed": point.seed,
            **dict(sorted(point.options.items()))}


class Labeller:
    """Labels naming the architecture and every field that takes more than one value among what is drawn."""

    def __init__(self, items: Iterable[dict[str, Any]], leave_out: Sequence[str] = ()):
        items = list(items)
        keys = dict.fromkeys(k for item in items for k in item)
        self.varying = [k for k in keys if k != "architecture" and k not in leave_out
                        and len({repr(item.get(k)) for item in items}) > 1]

    def __call__(self, item: dict[str, Any], architecture: bool = True) -> str:
        parts = [item["architecture"]] if architecture else []
        for k in self.varying:
            if item.get(k) is not None:
                parts.append(f"seed {item[k]}" if k == "seed" else f"{NAMES.get(k, k)} = {fmt(item[k])}")
            elif k == "l0":
                parts.append("own L0")
        return ", ".join(parts)


def shades(architecture: str, n: int) -> list[Any]:
    """n colours of the architecture's hue, light to dark; its plain colour when n is 1."""
    base, cmap = HUES.get(architecture, ("tab:gray", "Greys"))
    return [base] if n == 1 else list(plt.get_cmap(cmap)(np.linspace(0.5, 0.95, n)))


def _order(value: Any) -> tuple:
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))


class Palette:
    """A colour per (architecture, width, swept options): the architecture's hue, shaded by the variant's rank."""

    def __init__(self, items: Iterable[dict[str, Any]]):
        variants: dict[str, set] = defaultdict(set)
        for item in items:
            variants[item["architecture"]].add(self.variant(item))
        self.colours = {}
        for arch, keys in variants.items():
            ordered = sorted(keys, key=lambda key: [_order(v) for _, v in key])
            self.colours |= {(arch, key): shade for key, shade in zip(ordered, shades(arch, len(ordered)))}

    @staticmethod
    def variant(item: dict[str, Any]) -> tuple:
        return tuple((k, v) for k, v in item.items() if k not in ("architecture", "l0", "seed") and v is not None)

    def __call__(self, item: dict[str, Any]) -> Any:
        return self.colours[(item["architecture"], self.variant(item))]


def curves(data: Any) -> tuple[dict[Any, dict[str, Any]], list[dict[str, Any]], dict[Any, dict[str, Any]], Palette,
                                Labeller]:
    """What a figure of curves over the target L0 starts from: the recommendation by curve key, the rows with a
    target L0 (an architecture that picks its own is drawn beside them), each curve's shared fields, its colour and
    its label."""
    recs = {recommendation_key(r): r for r in data.recommendation}
    rows = [r for r in data.rows if r["l0"] is not None]
    shared = curve_fields(rows)
    return recs, rows, shared, Palette(shared.values()), Labeller(shared.values())


def curve_fields(rows: Sequence[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    """curve key -> the fields its rows share (L0 and seed left out)."""
    return {curve_key(r): {k: v for k, v in fields(r).items() if k not in ("l0", "seed")} for r in rows}


def over_seeds(rows: Sequence[dict[str, Any]], metric: str, x: str = "l0") -> dict[Any, list[tuple]]:
    """curve key -> sorted [(x, mean, min, max, n)] of `metric` over the seeds at each x (rows with a value only);
    x "l0" is the target L0, or the measured one for an architecture that picks its own."""
    grouped: dict[tuple, list[float]] = defaultdict(list)
    for row in rows:
        at = row.get(x) if x != "l0" or row["l0"] is not None else row.get("l0_measured")
        if at is not None and row.get(metric) is not None and math.isfinite(float(row[metric])):
            grouped[(curve_key(row), float(at))].append(float(row[metric]))
    curves: dict[Any, list[tuple]] = defaultdict(list)
    for (key, at), values in sorted(grouped.items()):
        curves[key].append((at, statistics.fmean(values), min(values), max(values), len(values)))
    return dict(curves)


def draw_over_seeds(ax: plt.Axes, curve: list[tuple], colour: Any, label: str, band_label: str | None,
                    **line: Any) -> Any:
    """The mean over seeds as a line and, where more than one seed was drawn, their min–max as a band."""
    xs, mean, low, high, n = (np.array(c) for c in zip(*curve))
    handle, = ax.plot(xs, mean, marker="o", markersize=4, color=colour, label=label, **line)
    if n.max() > 1:
        ax.fill_between(xs, low, high, color=colour, alpha=0.18, linewidth=0, label=band_label or "_nolegend_")
    return handle


def seeds_text(rows: Sequence[dict[str, Any]]) -> str:
    seeds = sorted({r["seed"] for r in rows})
    return f"seed {seeds[0]}" if len(seeds) == 1 else f"min–max over seeds {', '.join(map(str, seeds))}"


def geometric(values: Iterable[float]) -> bool:
    """Whether a grid reads better on a log axis: positive, spanning ≥ 8×, and more even in ratio than in step
    (8, 16, …, 128 yes; 2, 4, 6, 8, 9, … 25 no)."""
    v = sorted({float(x) for x in values if x is not None})
    if len(v) < 3 or v[0] <= 0 or v[-1] / v[0] < 8:
        return len(v) >= 2 and v[0] > 0 and v[-1] / v[0] >= 30
    ratios, steps = np.diff(np.log(v)), np.diff(v)
    return ratios.std() / ratios.mean() < steps.std() / steps.mean()


def l0_axis(ax: plt.Axes, values: Iterable[float], label: str) -> None:
    """Log for a geometric grid, ticked at the grid's own values (8, 16, … rather than 10¹, 10²)."""
    values = sorted({float(v) for v in values if v is not None})
    log = geometric(values)
    ax.set_xscale("log" if log else "linear")
    if log and len(values) <= 12:
        ax.set_xticks(values, [f"{v:g}" for v in values])
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(label + (" (log scale)" if log else ""))


def mark_true_l0(ax: plt.Axes, true_l0: float | None, horizontal: bool = False) -> None:
    if true_l0 is not None:
        line = ax.axhline if horizontal else ax.axvline
        line(true_l0, **TRUTH, label=f"true L0 = {true_l0:.4g}")


def draw_recommendation(ax: plt.Axes, rec: dict[str, Any], colour: Any, who: str = "",
                        horizontal: bool = False) -> bool:
    """The recommended L0 as a solid line in its curve's colour, its interval as a hatched band; False if none."""
    if rec.get("recommended_l0") is None:
        return False
    span, line = (ax.axhspan, ax.axhline) if horizontal else (ax.axvspan, ax.axvline)
    prefix = f"{who}: " if who else ""
    span(rec["interval_low"], rec["interval_high"], facecolor=colour, alpha=0.10, edgecolor=colour, hatch="//",
         linewidth=0, label=f"{prefix}interval [{rec['interval_low']:.3g}, {rec['interval_high']:.3g}]")
    line(rec["recommended_l0"], color=colour, linewidth=1.8,
         label=f"{prefix}recommended L0 = {rec['recommended_l0']:.3g} ({rec['rule']})")
    return True


def no_recommendation_text(recs: Sequence[dict[str, Any]]) -> str | None:
    """Why a figure that would show a recommended L0 shows none (sae.recommend's flag), or None."""
    missing = [r for r in recs if r.get("recommended_l0") is None]
    if not missing or len(missing) < len(recs):
        return None
    return "no recommended L0: " + (missing[0].get("flag") or "the curve supports none")


def mark(ax: plt.Axes, x: float, y: float, marker: str, color: Any, label: str) -> None:
    """A large outlined marker on one point of a curve: the L0 a rule selects."""
    ax.plot([x], [y], marker=marker, markersize=10, color=color, markeredgecolor="black", linestyle="none", label=label)


def note(ax: plt.Axes, text: str) -> None:
    """Words below the axes (under its x label, clear of the data) on what is not drawn and why: in the figure,
    not only in a log."""
    ax.annotate("\n".join(textwrap.wrap(text, 80)), xy=(0.5, 0), xycoords="axes fraction", xytext=(0, -34),
                textcoords="offset points", ha="center", va="top", fontsize=7.5, style="italic", color="0.25",
                gid=NOTE_GID)


def legend(ax: plt.Axes, handles: list | None = None, outside: bool | None = None, **kw: Any) -> None:
    """Inside where it fits beside the data (few entries), else to the right of the axes."""
    handles = handles if handles is not None else ax.get_legend_handles_labels()[0]
    if outside is None:
        outside = len(handles) > 5
    where = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0} if outside else {"loc": "best"}
    ax.legend(handles=handles, fontsize=7, **(where | kw))


def save_figure(fig: plt.Figure, base: Path | str) -> list[Path]:
    """Write base.png and base.pdf atomically; return both paths."""
    paths = []
    for ext in ("png", "pdf"):
        target = Path(f"{base}.{ext}")
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, bbox_inches="tight")
        paths.append(target)
    plt.close(fig)
    return paths


def signed_cosine_heatmap(ax: plt.Axes, cos_HF: Any) -> Any:
    """Signed cosines on a diverging scale centred at 0: hedging (+) and absorption (-) show in opposite colours."""
    image = ax.imshow(cos_HF, vmin=-1, vmax=1, cmap="RdBu_r", aspect="auto", interpolation="nearest")
    ax.set_xlabel("true feature")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(False)
    return image
