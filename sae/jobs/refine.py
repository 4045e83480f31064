"""One round of adaptive refinement: recommend from every point so far, plan the points to add."""

from __future__ import annotations

from pathlib import Path

from sae import recommend, sweep
from sae.config import Experiment, GridPoint
from sae.io import atomic_write_json, read_json
from sae.refine import refine_points


def plan_round(exp: Experiment, points: list[GridPoint], metrics_jsons: list[Path], out: Path) -> list[GridPoint]:
    """Write (and return) the points this round adds; `points` are the coarse grid's, then earlier rounds'."""
    rows = [sweep.point_row(p) | read_json(m) for p, m in zip(points, metrics_jsons, strict=True)]
    added = refine_points(points, recommend.recommend_l0(rows, None), exp.refine)
    atomic_write_json(out, [p.model_dump(mode="json") for p in added])
    return added


def planned_points(plan_jsons: list[Path]) -> list[GridPoint]:
    """The points earlier rounds added, in round order."""
    return [GridPoint.model_validate(p) for plan in plan_jsons for p in read_json(plan)]
