"""Continuations of trained SAEs (warm starts) that per-SAE metrics declared (`sae.plan.continuations`): a
control of the same width, or a copy extended with new latents; each in `<point>/continued/<variant>/`."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sae import layout
from sae.config import Experiment, GridPoint
from sae.data.sources import open_source
from sae.jobs.record import record_runs, run_params
from sae.jobs.train import sae_file_metadata, train_spec, write_trained
from sae.metrics import Continuation
from sae.plan import continuations
from sae.runtime import resolve_device
from sae.tracking import Tracking
from sae.train.loop import train_sae
from sae.train.start import WarmStart


def continued_dir(point_dir: Path, variant: str) -> Path:
    return Path(point_dir) / layout.CONTINUED_FOLDER.format(variant=variant)


def continue_sae(exp: Experiment, point: GridPoint, continuation: Continuation, source, point_dir: Path) -> Path:
    """Train the point's SAE (in `point_dir`) further as `continuation` says; returns the continuation's folder.

    Checkpoints and resuming work as for any training job; a fresh optimizer starts, as in the official
    code's continuation runs.
    """
    out_dir = continued_dir(point_dir, continuation.variant)
    scale = source.activation_scale(exp.training.normalize_activations)
    spec = train_spec(exp, point, source.d_model)
    spec = replace(spec, width=spec.width + continuation.extend_by, samples=continuation.samples,
                   start=WarmStart(point_dir / layout.SAE_FOLDER, continuation.extend_by, seed=point.seed,
                                   activation_scale=scale))
    # every continuation reads the same stream (seed + 1, ours), not the original's: only the extension differs
    batches = source.training_batches(spec.batch_size, spec.seed + 1, scale)
    checkpoint_dir = out_dir / "checkpoints"
    write_trained(train_sae(spec, batches, checkpoint_dir), out_dir, scale, metadata=sae_file_metadata(exp))
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return out_dir


def continue_job(exp: Experiment, points: Sequence[GridPoint], source_dir: Path, point_dirs: Sequence[Path],
                 track: Tracking | None) -> None:
    """Every declared continuation of every point, then their MLflow runs (`<point>/continued/<variant>`)."""
    source = open_source(exp.source, source_dir, resolve_device(exp.training.device))
    trained = []
    for point, point_dir in zip(points, point_dirs, strict=True):
        for c in continuations(exp, point):
            out_dir = continue_sae(exp, point, c, source, point_dir)
            params = run_params(exp, point) | {"continued.variant": c.variant, "continued.extend_by": c.extend_by,
                                               "continued.samples": c.samples}
            trained.append((layout.continued_key(point.key, c.variant), params, out_dir))
    if track is not None:
        record_runs(track, trained, finish=True)  # no evaluation job finishes a continuation's run
