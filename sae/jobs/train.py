"""A training job (`sae.plan.TrainJob`): its points trained together, each saved in its own folder in SAELens
format, and their MLflow child runs recorded in one batch."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sae import layout
from sae.config import Experiment, GridPoint
from sae.data.llm import sae_metadata
from sae.data.sources import open_source
from sae.fused.loop import train_fused
from sae.fused.plan import plan_groups
from sae.io import atomic_write_json
from sae.jobs.record import record_runs, run_params
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


def sae_file_metadata(exp: Experiment) -> dict | None:
    """What an LLM experiment's SAEs read (model, hook, context), for their cfg.json; None for a toy."""
    return sae_metadata(exp.source) if exp.source.kind == "llm" else None


def write_trained(result: TrainResult, directory: Path, scale: float, group_size: int = 1,
                  metadata: dict | None = None) -> None:
    save_trained_sae(result, directory / layout.SAE_FOLDER, activation_scale=scale, metadata=metadata)
    atomic_write_json(directory / layout.CURVE_FILE, result.curve)
    atomic_write_json(directory / layout.SUMMARY_FILE, _summary(result, group_size, scale))


def train_job(exp: Experiment, points: Sequence[GridPoint], source_dir: Path, point_dirs: Sequence[Path],
              checkpoint_dir: Path, track: Tracking | None) -> None:
    """Train the job's points into their folders (sae/, train.json, curve.json), then record their runs.

    One point trains alone; several share one batch stream and train as fused stacks, split further only
    where they do not fit the device's memory (`sae.fused.plan.plan_groups`).
    """
    source = open_source(exp.source, source_dir, resolve_device(exp.training.device))
    scale = source.activation_scale(exp.training.normalize_activations)
    metadata = sae_file_metadata(exp)
    specs = [train_spec(exp, p, source.d_model) for p in points]
    if len(specs) == 1:
        spec = specs[0]
        if exp.training.init == "true_features":
            spec = replace(spec, start=TrueFeatures(source.true_features_FD))
        result = train_sae(spec, source.training_batches(spec.batch_size, spec.seed, scale), checkpoint_dir)
        write_trained(result, point_dirs[0], scale, metadata=metadata)
    else:
        folder_of = {spec.l0: folder for spec, folder in zip(specs, point_dirs, strict=True)}
        for i, group in enumerate(plan_groups(specs)):
            batches = source.training_batches(group[0].batch_size, group[0].seed, scale)
            for spec, result in zip(group, train_fused(group, batches, checkpoint_dir / str(i)), strict=True):
                write_trained(result, folder_of[spec.l0], scale, len(group), metadata)
    if track is not None:
        record_runs(track, [(p.key, run_params(exp, p), d) for p, d in zip(points, point_dirs, strict=True)])
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
