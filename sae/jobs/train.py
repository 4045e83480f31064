"""Train one grid point's SAE, or a fused group of them; save in SAELens format and record MLflow child runs."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from sae import layout
from sae.config import Experiment, GridPoint
from sae.data.llm import sae_metadata
from sae.data.sources import open_source
from sae.fused.loop import train_fused
from sae.fused.plan import plan_groups
from sae.io import atomic_path, atomic_write_json
from sae.jobs.record import record_run
from sae.runtime import resolve_device
from sae.tracking import Tracking
from sae.train.loop import train_sae
from sae.train.save import save_trained_sae
from sae.train.spec import TrainResult, TrainSpec
from sae.train.start import TrueFeatures


def train_spec(exp: Experiment, point: GridPoint, d_in: int) -> TrainSpec:
    t = exp.training
    return TrainSpec(
        architecture=point.architecture, d_in=d_in, width=point.width, l0=point.l0, seed=point.seed,
        samples=t.samples, batch_size=t.batch_size, lr=t.lr, log_every=t.log_every,
        checkpoints=t.checkpoints, dead_feature_window=t.dead_feature_window, device=resolve_device(t.device),
        options=exp.options(point).model_dump(),
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


def _metadata(exp: Experiment) -> dict | None:
    return sae_metadata(exp.source) if exp.source.kind == "llm" else None


def write_trained(result: TrainResult, directory: Path, scale: float, group_size: int = 1,
                  metadata: dict | None = None) -> None:
    save_trained_sae(result, directory / layout.SAE_FOLDER, activation_scale=scale, metadata=metadata)
    atomic_write_json(directory / layout.CURVE_FILE, result.curve)
    atomic_write_json(directory / layout.SUMMARY_FILE, _summary(result, group_size, scale))


def train_group(exp: Experiment, points: list[GridPoint], source_dir: Path, out_dir: Path,
                checkpoint_dir: Path) -> None:
    """Train points that share a batch stream as stacked groups (split to fit memory); one folder per point."""
    device = resolve_device(exp.training.device)
    source = open_source(exp.source, source_dir, device)
    scale = source.activation_scale(exp.training.normalize_activations)
    with atomic_path(out_dir) as tmp:
        for i, group in enumerate(plan_groups([train_spec(exp, p, source.d_model) for p in points])):
            batches = source.training_batches(group[0].batch_size, group[0].seed, scale)
            for spec, result in zip(group, train_fused(group, batches, checkpoint_dir / str(i)), strict=True):
                write_trained(result, layout.group_member_dir(tmp, spec.l0), scale, len(group), _metadata(exp))
    shutil.rmtree(checkpoint_dir, ignore_errors=True)


def train_point(exp: Experiment, point: GridPoint, source_dir: Path, out_dir: Path, checkpoint_dir: Path,
                track: Tracking | None) -> None:
    """Train one SAE alone into `out_dir` (sae/, train.json, curve.json) and record its MLflow run."""
    source = open_source(exp.source, source_dir, resolve_device(exp.training.device))
    spec = train_spec(exp, point, source.d_model)
    if exp.training.init == "true_features":
        spec = replace(spec, start=TrueFeatures(source.true_features_FD))
    scale = source.activation_scale(exp.training.normalize_activations)
    write_trained(train_sae(spec, source.training_batches(spec.batch_size, spec.seed, scale), checkpoint_dir),
                  out_dir, scale, metadata=_metadata(exp))
    if track is not None:
        record_run(exp, point, out_dir, track)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
