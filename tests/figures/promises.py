"""Read a drawn matplotlib Figure back: what each axis draws, what its legends name, what its notes say.

A figure keeps its promise when every axis draws something (or says why not), every legend entry names an
artist that has data, and the series its title names are in a legend or a note."""

from __future__ import annotations

import math
import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import Collection
from matplotlib.container import Container
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sae.figures.style import NOTE_GID


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


def ticks_cover(ax, values) -> bool:
    lo, hi = ax.get_xlim()
    return all(lo <= v <= hi for v in values if v is not None and math.isfinite(v))
