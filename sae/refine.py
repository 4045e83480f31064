"""Adaptive refinement: the grid points to add inside each curve's recommended interval.

Added points are ordinary grid points (same architecture, width and swept options as their curve); a
curve whose rule supports no choice gets none. Deterministic, so that a re-run plans the same points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from sae.config import GridPoint
from sae.config.refine import RefineConfig, Spacing
from sae.io import read_json
from sae.sweep import Row, curve_key, point_row, recommendation_key

# L0 values of added points are rounded to this many decimals: their folder names stay short, and a
# re-run computes the same names from the same interval.
DECIMALS = 2


def new_l0s(low: float, high: float, count: int, existing: Sequence[float], centre: float,
            spacing: Spacing = "log") -> list[float]:
    """Up to `count` new L0 values strictly inside (low, high): the midpoints of the widest gaps of the grid there.

    Bisection: each new point halves the widest gap left (the nearest to `centre`, the recommendation, among
    equal ones), so the grid becomes fine where the answer is least resolved, not evenly everywhere. With
    `spacing="log"` gaps are measured in log L0 and halved at their geometric mean, as a grid of powers of two is
    spaced; with "linear" in L0 itself, at the arithmetic mean.
    """
    scale = math.log if spacing == "log" else float
    grid = sorted({float(low), float(high)} | {e for e in existing if low < e < high})
    added: list[float] = []
    for _ in range(count):
        # widths rounded so that equal gaps (ln 4 - ln 2 and ln 32 - ln 16) tie and go to the nearest
        gaps = [(round(scale(b) - scale(a), 9), -abs((scale(a) + scale(b)) / 2 - scale(centre)), a, b)
                for a, b in zip(grid, grid[1:])]
        _, _, a, b = max(gaps)
        mid = round(math.sqrt(a * b) if spacing == "log" else (a + b) / 2, DECIMALS)
        if b - a <= 2 * 10**-DECIMALS or any(abs(mid - e) < 10**-DECIMALS for e in grid):
            break
        added.append(float(mid))
        grid = sorted([*grid, mid])
    return sorted(added)


def refine_points(points: Sequence[GridPoint], recommendations: Sequence[Row], refine: RefineConfig) -> list[GridPoint]:
    """Points to add: new L0s inside each supported interval, and every L0 inside it with the refine seeds."""
    have = {p.key for p in points}
    added: dict[str, GridPoint] = {}
    for rec in recommendations:
        if not rec["supported"]:
            continue
        curve = [p for p in points if p.l0 is not None and curve_key(point_row(p)) == recommendation_key(rec)]
        if not curve:
            continue
        low, high = rec["interval_low"], rec["interval_high"]
        swept = sorted({p.l0 for p in curve})
        new = new_l0s(low, high, refine.points, swept, rec["recommended_l0"], refine.spacing)
        l0s = [l0 for l0 in swept if low <= l0 <= high] + new
        seeds = refine.seeds if refine.seeds is not None else sorted({p.seed for p in curve})
        template = curve[0]
        for l0 in l0s:
            for seed in seeds:
                point = template.model_copy(update={"l0": l0, "seed": seed})
                if point.key not in have:
                    added[point.key] = point
    return sorted(added.values(), key=lambda p: (p.l0, p.seed, p.key))


def round_points(round_manifests: list[Path]) -> list[GridPoint]:
    """The points earlier rounds added, in round order."""
    return [GridPoint.model_validate(p) for manifest in round_manifests for p in read_json(manifest)]
