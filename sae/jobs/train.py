"""Train one grid point's SAE, save it in SAELens format and record its MLflow child run."""

from __future__ import annotations

import shutil
from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.data import activation_scale, source_dim, training_batches
from sae.fused import plan_groups, train_fused
from sae.io import atomic_path, atomic_write_json
from sae.jobs.record import CURVE_FILE, SUMMARY_FILE, record_run
from sae.tracking import Tracking
from sae.runtime import resolve_device
from sae.train import TrainResult, TrainSpec, save_trained_sae, train_sae


def train_spec(exp: Experiment, point: GridPoint, d_in: int) -> TrainSpec:
    t = exp.training
    return TrainSpec(
        architecture=point.architecture, d_in=d_in, width=point.width, l0=point.l0, seed=point.seed,
        samples=t.samples, batch_size=t.batch_size, lr=t.lr, log_every=t.log_every,
        checkpoints=t.checkpoints, dead_feature_window=t.dead_feature_window, device=resolve_device(t.device),
        options={"matryoshka_prefixes": t.matryoshka_prefixes, "standard_l1_init": t.standard_l1_init},
    )


def _summary(result: TrainResult, group_size: int, scale: float) -> dict[str, float]:
    return {
        "activation_scale": scale,
        "wall_seconds": result.wall_seconds,
        "samples_per_second": result.samples_per_second,
        "samples": float(result.samples_trained),
        "resumed_from_samples": float(result.resumed_from_samples),
        "fused_group_size": float(group_size),
    } | {f"final_{k}": v for k, v in result.curve[-1].items() if k not in ("step", "samples")}


def _write_trained(result: TrainResult, directory: Path, scale: float, group_size: int = 1) -> None:
    save_trained_sae(result, directory / "sae", activation_scale=scale)
    atomic_write_json(directory / CURVE_FILE, result.curve)
    atomic_write_json(directory / SUMMARY_FILE, _summary(result, group_size, scale))


def train_group(exp: Experiment, points: list[GridPoint], source_dir: Path, out_dir: Path,
                checkpoint_dir: Path) -> None:
    """Train points that share a batch stream as stacked groups (split to fit memory); one folder per point."""
    d_in = source_dim(exp.source, source_dir)
    label = {p.l0: p.l0_label for p in points}
    scale = activation_scale(exp.source, source_dir, exp.training.normalize_activations)
    with atomic_path(out_dir) as tmp:
        for i, group in enumerate(plan_groups([train_spec(exp, p, d_in) for p in points])):
            first = group[0]
            batches = training_batches(exp.source, source_dir, first.batch_size, first.seed, first.device, scale)
            for spec, result in zip(group, train_fused(group, batches, checkpoint_dir / str(i)), strict=True):
                _write_trained(result, tmp / label[spec.l0], scale, len(group))
    shutil.rmtree(checkpoint_dir, ignore_errors=True)


def train_point(exp: Experiment, point: GridPoint, source_dir: Path, out_dir: Path, checkpoint_dir: Path,
                track: Tracking | None) -> None:
    """Train one SAE alone into `out_dir` (sae/, train.json, curve.json) and record its MLflow run."""
    spec = train_spec(exp, point, source_dim(exp.source, source_dir))
    scale = activation_scale(exp.source, source_dir, exp.training.normalize_activations)
    batches = training_batches(exp.source, source_dir, spec.batch_size, spec.seed, spec.device, scale)
    _write_trained(train_sae(spec, batches, checkpoint_dir), out_dir, scale)
    if track is not None:
        record_run(exp, point, out_dir, track)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
