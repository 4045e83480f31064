"""LLM evaluations over seeds: probing F1 and absorption draw each L0's mean over seeds and their min–max band (with
two seeds the band's edges are the two seeds' values, not ±1 s.d.), and name the seeds in the legend."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from sae import figures
from sae.figures import FigureData

L0S = (8, 16, 32)
# per seed and L0: the numbers each figure draws (seed 1 higher by an L0-dependent amount)
F1 = {(l0, s): 0.55 + 0.01 * l0 ** 0.5 + s * 0.002 * l0 for l0 in L0S for s in (0, 1)}
ABSORPTION = {(l0, s): 0.6 - 0.01 * l0 + s * 0.05 for l0 in L0S for s in (0, 1)}


def rows():
    return [{"experiment": "llm", "architecture": "batchtopk", "width": 1024, "l0": float(l0), "seed": s,
             "c_dec": 0.1 / l0, "probe_f1_k1": F1[(l0, s)], "probe_f1_k16": F1[(l0, s)] + 0.1,
             "probe_raw_f1_k1": 0.4, "probe_raw_f1_k16": 0.8, "probe_chance_f1": 0.33,
             "absorption_fraction": ABSORPTION[(l0, s)], "absorption_full_rate": ABSORPTION[(l0, s)] / 2,
             "absorption_letters": 17} for l0 in L0S for s in (0, 1)]


def band(ax) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper edges of the one shaded band (fill_between) of `ax`, at the grid's L0s."""
    (poly,) = [c for c in ax.collections if c.get_label() == "min–max over seeds 0, 1"]
    vertices = poly.get_paths()[0].vertices
    at = {x: sorted(v for vx, v in vertices if vx == x) for x in L0S}
    return np.array([at[x][0] for x in L0S]), np.array([at[x][-1] for x in L0S])


@pytest.mark.parametrize(("figure", "values", "panel"), [("probing_f1", F1, 0), ("absorption", ABSORPTION, 0)])
def test_two_seeds_draw_their_mean_and_their_min_max(figure, values, panel):
    fig = figures.code(figure).draw(FigureData("llm", rows(), [], [], []))
    ax = fig.axes[panel]
    low, high = band(ax)
    assert low == pytest.approx([min(values[(l0, 0)], values[(l0, 1)]) for l0 in L0S])
    assert high == pytest.approx([max(values[(l0, 0)], values[(l0, 1)]) for l0 in L0S])
    mean = next(line for line in ax.get_lines() if len(line.get_xdata()) == len(L0S))
    assert mean.get_ydata() == pytest.approx([(values[(l0, 0)] + values[(l0, 1)]) / 2 for l0 in L0S])
    plt.close(fig)
