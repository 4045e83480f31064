"""Record a trained grid point: take it from its fused group's folder, and log its MLflow child run.

Kept free of torch and SAELens so that the per-point job after a fused group starts in seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sae import layout, tracking
from sae.config import Experiment, GridPoint
from sae.io import atomic_path, atomic_write_json, read_json, unreadable
from sae.layout import CURVE_FILE, SAE_FOLDER, SUMMARY_FILE
from sae.tracking import Tracking


def run_params(exp: Experiment, point: GridPoint) -> dict[str, Any]:
    """Every grid and training parameter of one SAE, flat, for MLflow."""
    params = point.model_dump(exclude={"options"}) | {f"training.{k}": v for k, v in exp.training.model_dump().items()}
    # the architecture's own options, fixed or swept: a swept one is a grid axis like l0
    params |= {f"options.{k}": v for k, v in exp.options(point).model_dump().items()}
    params |= {"source.kind": exp.source.kind, "source.preset": getattr(exp.source, "preset", None)}
    return params


def record_run(exp: Experiment, point: GridPoint, out_dir: Path, track: Tracking, key: str | None = None,
               extra_params: dict[str, Any] | None = None) -> str:
    """Create (or replace) the point's child run (or the run `key`, e.g. a continuation's) with its parameters,
    training curve and SAE."""
    params = run_params(exp, point) | (extra_params or {})
    run_id = tracking.start_child_run(track.uri, track.parent_run_id, key or point.key, params)
    summary = read_json(out_dir / SUMMARY_FILE)
    tracking.log_metrics(track.uri, run_id, metrics={f"train.{k}": v for k, v in summary.items()},
                         curve=read_json(out_dir / CURVE_FILE),
                         artifacts={"sae": out_dir / SAE_FOLDER, "train": out_dir / SUMMARY_FILE})
    return run_id


def adopt_from_group(exp: Experiment, point: GridPoint, group_dir: Path, out_dir: Path, track: Tracking | None) -> None:
    """Copy the point's SAE and training record out of its fused group, then record its run."""
    trained = layout.group_member_dir(group_dir, point.l0)
    # the group folder is a directory() output: Snakemake does not notice a file deleted inside it
    for name in layout.SAE_FILES:
        if not (trained / SAE_FOLDER / name).is_file():
            raise unreadable(trained / SAE_FOLDER / name, "is missing", group_dir)
    read_json(trained / SAE_FOLDER / layout.SAE_FILES[0], rebuild=group_dir)  # named here, not in every copy
    with atomic_path(out_dir / SAE_FOLDER) as tmp:
        shutil.copytree(trained / SAE_FOLDER, tmp)
    for name in (CURVE_FILE, SUMMARY_FILE):
        atomic_write_json(out_dir / name, read_json(trained / name, rebuild=group_dir))
    if track is not None:
        record_run(exp, point, out_dir, track)
