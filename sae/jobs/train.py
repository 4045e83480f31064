"""Train one grid point's SAE, save it in SAELens format and record its MLflow child run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sae import tracking
from sae.config import Experiment, GridPoint
from sae.data import source_dim, training_batches
from sae.io import atomic_write_json
from sae.tracking import Tracking
from sae.train import TrainSpec, resolve_device, save_trained_sae, train_sae


def train_spec(exp: Experiment, point: GridPoint, d_in: int) -> TrainSpec:
    t = exp.training
    return TrainSpec(
        architecture=point.architecture, d_in=d_in, width=point.width, l0=point.l0, seed=point.seed,
        samples=t.samples, batch_size=t.batch_size, lr=t.lr, log_every=t.log_every,
        checkpoints=t.checkpoints, device=resolve_device(t.device),
        options={"matryoshka_prefixes": t.matryoshka_prefixes, "standard_l1_init": t.standard_l1_init},
    )


def run_params(exp: Experiment, point: GridPoint) -> dict[str, Any]:
    """Every grid and training parameter of one SAE, flat, for MLflow."""
    params = point.model_dump() | {f"training.{k}": v for k, v in exp.training.model_dump().items()}
    params |= {"source.kind": exp.source.kind, "source.preset": getattr(exp.source, "preset", None)}
    return params


def train_point(exp: Experiment, point: GridPoint, source_dir: Path, sae_dir: Path, train_json: Path,
                checkpoint_dir: Path, track: Tracking | None) -> dict[str, float]:
    spec = train_spec(exp, point, source_dim(exp.source, source_dir))
    batches = training_batches(exp.source, source_dir, spec.batch_size, spec.seed, spec.device)
    result = train_sae(spec, batches, checkpoint_dir)
    summary = {
        "wall_seconds": result.wall_seconds,
        "samples_per_second": result.samples_per_second,
        "samples": float(result.samples_trained),
        "resumed_from_samples": float(result.resumed_from_samples),
    } | {f"final_{k}": v for k, v in result.curve[-1].items() if k not in ("step", "samples")}
    save_trained_sae(result, sae_dir)
    atomic_write_json(train_json, summary)
    if track is not None:
        run_id = tracking.start_child_run(track.uri, track.parent_run_id, point.key, run_params(exp, point))
        tracking.log_metrics(track.uri, run_id, metrics={f"train.{k}": v for k, v in summary.items()},
                             curve=result.curve, artifacts={"sae": sae_dir, "train": train_json})
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return summary
