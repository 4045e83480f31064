"""Read a drawn matplotlib Figure back: what each axis draws, what its legends name, what its notes say.

A figure keeps its promise when every axis draws something (or says why not), every legend entry names an
artist that has data, and the series its title names are in a legend or a note."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import Collection
from matplotlib.container import Container
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sae.figures.style import NOTE_GID


# figure -> what its title promises, as regexes over its legends, notes, titles and labels
PROMISES = {
    "decoder_metrics": (r"recommended L0|no recommended L0", r"true L0|^target"),
    "l0_choice": (r"top-AFA: chosen L0", r"recommended L0|no recommended L0", r"true L0"),
    "l0_vs_variance_explained": (r"ground-truth SAE|measured L0",),
    "zf_plot": (r"y = x", r"ε\(h − 1\)"),
    "nmse_vs_eps_lbo": (r"ε_LBO|epsilon",),
    "probing_f1": (r"F1, k = 1", r"c_dec", r"constant classifier|raw activations"),
    "hedging_vs_width": (r"h|hedging",),
    "splice_cost": (r"CE|KL",),
    "llm_l0_choice": (r"top-AFA's own L0", r"c_dec elbow"),
    "seed_agreement": (r"seed agreement highest", r"recommended L0|no recommended L0", r"true L0"),
    "audit_verdicts": (r"^audited SAE: ", r"recommended L0|no recommended L0", r"F1|raw activations"),
}


def has_data(artist) -> bool:
    if isinstance(artist, Line2D):
        x, y = (np.asarray(v, dtype=float) for v in artist.get_data())
        return x.size > 0 and bool(np.isfinite(x).any() and np.isfinite(y).any())
    if isinstance(artist, Container):
        return any(has_data(a) for a in artist.get_children())
    if isinstance(artist, Collection):
        offsets = artist.get_offsets()
        return len(offsets) > 0 and np.isfinite(np.asarray(offsets, dtype=float)).any() or \
            any(len(p.vertices) for p in artist.get_paths())
    if isinstance(artist, (Patch, AxesImage)):
        return artist.get_visible()
    return False


def artists(ax) -> list:
    return [*ax.lines, *ax.collections, *ax.patches, *ax.images, *ax.containers]


def notes(fig: plt.Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == NOTE_GID]


def legend_texts(fig: plt.Figure) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    return [t.get_text() for leg in legends if leg is not None for t in leg.get_texts()]


def problems(fig: plt.Figure, promised: tuple[str, ...] = ()) -> list[str]:
    """What the figure promises and does not draw; empty when it keeps every promise."""
    found = []
    said = notes(fig)
    for i, ax in enumerate(fig.axes):
        if ax.get_label() == "<colorbar>":
            continue
        if not any(has_data(a) for a in artists(ax)) and not [t for t in ax.texts if t.get_gid() == NOTE_GID]:
            found.append(f"axis {i} ({ax.get_title() or ax.get_ylabel()!r}) draws nothing and says not why")
    every = [a for ax in fig.axes for a in artists(ax)]
    for text in legend_texts(fig):
        named = [a for a in every if a.get_label() == text]
        if not any(has_data(a) for a in named):
            found.append(f"legend entry {text!r} names nothing drawn")
    words = legend_texts(fig) + said + [ax.get_title() for ax in fig.axes] + \
        [t.get_text() for t in fig.texts] + [ax.get_xlabel() for ax in fig.axes] + [ax.get_ylabel() for ax in fig.axes]
    for promise in promised:
        if not any(re.search(promise, w) for w in words):
            found.append(f"promised {promise!r} is neither drawn nor explained")
    return found


def study_figure_problems(results_dir, study) -> dict[str, list[str]]:
    """Every figure of a finished study drawn again from its outputs, as the figure jobs draw it: figure -> problems."""
    from sae import figures, layout
    from sae.jobs.figure import _read_rows, figure_data
    from sae.refine import round_points
    from sae.plan import build_plan

    plan = build_plan(study)
    found = {}
    for name, e in plan.experiments.items():
        rounds = [layout.resolve(results_dir, e.round_manifest(r)) for r in range(1, e.rounds + 1)]
        points = [*e.points, *round_points(rounds)]
        for f in e.figures:
            fig = figures.code(f).draw(figure_data(f, name, results_dir, points, figures.fixed_options(e.config)))
            found[f"{name}/{f}"] = problems(fig, PROMISES.get(f, ()))
            plt.close(fig)
    for f, experiments in plan.study_figures.items():
        rows = [r for x in experiments
                for r in _read_rows(layout.resolve(results_dir, layout.SWEEP_TABLE, experiment=x))]
        fig = figures.code(f).draw(figures.FigureData("", rows, [], [], []))
        found[f] = problems(fig, PROMISES.get(f, ()))
        plt.close(fig)
    return {k: v for k, v in found.items() if v}
