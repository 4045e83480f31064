"""Train a trained grid point's SAE further (a warm start): a control of the same width, or an extended copy."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from sae import layout, tracking
from sae.config import Experiment, GridPoint
from sae.data.sources import open_source
from sae.jobs.record import record_run
from sae.jobs.train import train_spec, write_trained
from sae.runtime import resolve_device
from sae.tracking import Tracking
from sae.train.loop import train_sae
from sae.train.start import WarmStart


def continue_point(exp: Experiment, point: GridPoint, variant: str, extend_by: int, samples: int, sae_dir: Path,
                   source_dir: Path, out_dir: Path, checkpoint_dir: Path, track: Tracking | None) -> None:
    """Continue the point's SAE in `sae_dir` for `samples` with `extend_by` new latents, into `out_dir`.

    Checkpoints, resuming and the MLflow run (named `<point>/continued/<variant>`) work as for any
    training job; a fresh optimizer starts, as in the official code's continuation runs.
    """
    source = open_source(exp.source, source_dir, resolve_device(exp.training.device))
    scale = source.activation_scale(exp.training.normalize_activations)
    spec = train_spec(exp, point, source.d_model)
    spec = replace(spec, width=spec.width + extend_by, samples=samples,
                   start=WarmStart(sae_dir, extend_by, seed=point.seed, activation_scale=scale))
    # both continuations read the same stream (seed + 1, ours), not the original's: only the extension differs
    batches = source.training_batches(spec.batch_size, spec.seed + 1, scale)
    write_trained(train_sae(spec, batches, checkpoint_dir), out_dir, scale)
    if track is not None:
        run_id = record_run(exp, point, out_dir, track, key=layout.continued_key(point.key, variant),
                            extra_params={"continued.variant": variant, "continued.extend_by": extend_by,
                                          "continued.samples": samples})
        tracking.log_metrics(track.uri, run_id, finish=True)  # no evaluation job finishes it
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
