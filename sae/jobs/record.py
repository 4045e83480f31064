"""MLflow child runs of trained SAEs: their parameters, training curves and SAE folders, written in one batch.

Kept free of torch and SAELens.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sae import tracking
from sae.config import Experiment, GridPoint
from sae.io import read_json
from sae.layout import CURVE_FILE, SAE_FOLDER, SUMMARY_FILE
from sae.tracking import RunLog, Tracking


def run_params(exp: Experiment, point: GridPoint) -> dict[str, Any]:
    """Every grid and training parameter of one SAE, flat, for MLflow."""
    params = point.model_dump(exclude={"options"}) | {f"training.{k}": v for k, v in exp.training.model_dump().items()}
    # the architecture's own options, fixed or swept: a swept one is a grid axis like l0
    params |= {f"options.{k}": v for k, v in exp.options(point).model_dump().items()}
    params |= {"source.kind": exp.source.kind, "source.preset": getattr(exp.source, "preset", None)}
    return params


def record_runs(track: Tracking, trained: Sequence[tuple[str, dict[str, Any], Path]], finish: bool = False) -> dict[str, str]:
    """Create (or replace) the child run of each trained SAE (its run key, parameters and folder holding `sae/`,
    `train.json` and `curve.json`) with its training record and SAE; returns run key -> run id."""
    ids = tracking.start_child_runs(track.uri, track.parent_run_id, {key: params for key, params, _ in trained})
    tracking.write_runs(track.uri, {
        ids[key]: RunLog(metrics={f"train.{k}": v for k, v in read_json(folder / SUMMARY_FILE).items()},
                         curve=read_json(folder / CURVE_FILE),
                         artifacts={"sae": folder / SAE_FOLDER, "train": folder / SUMMARY_FILE})
        for key, _, folder in trained
    }, finish=finish)
    return ids
