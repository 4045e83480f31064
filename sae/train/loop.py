"""`train_sae`: one SAE, trained by SAELens's `SAETrainer` step by step, resumable."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from sae_lens.training.sae_trainer import SAETrainer

from sae.architectures import ARCHITECTURES, build_training_sae, options_for
from sae.train.checkpoints import checkpoint_schedule, load_checkpoint, save_checkpoint
from sae.train.progress import check_finite, curve_point, logs_curve_at, progress_bar
from sae.train.spec import ResumableBatches, TrainResult, TrainSpec, trainer_config


def train_sae(spec: TrainSpec, batches: ResumableBatches, checkpoint_dir: Path | None = None,
              progress: bool = True) -> TrainResult:
    """Train one SAE; resume from `checkpoint_dir/latest` if an earlier run left one."""
    torch.manual_seed(spec.seed)
    sae = build_training_sae(spec.architecture, spec.d_in, spec.width, spec.l0, spec.options, spec.device)
    if spec.start is not None:
        spec.start.apply(sae)
    trainer = SAETrainer(cfg=trainer_config(spec), sae=sae, data_provider=iter(()))
    # an architecture may steer its own training after every step (the standard SAE's L1 controller)
    make_callback = ARCHITECTURES[spec.architecture].training_callback
    options = options_for(spec.architecture, spec.options)
    callback = make_callback(trainer, spec.l0, options) if make_callback is not None else None

    latest, checkpoint_at = checkpoint_schedule(spec, checkpoint_dir)
    curve: list[dict[str, float]] = []
    if latest is not None and latest.exists():
        curve = load_checkpoint(latest, trainer, batches)
    resumed_from = trainer.n_training_samples

    sae.to(spec.device)
    start = time.perf_counter()
    desc = f"train {spec.architecture} l0={'auto' if spec.l0 is None else format(spec.l0, 'g')}"
    with progress_bar(spec, trainer.n_training_steps, desc, progress) as pbar:
        while trainer.n_training_steps < spec.total_steps:
            trainer.maybe_reset_sparsity()
            out = trainer.step(next(batches))
            if callback is not None:
                callback.update(out)
            trainer.n_training_steps += 1
            if logs_curve_at(trainer.n_training_steps, spec):
                curve.append(curve_point(trainer, out))
                check_finite(curve[-1], spec)
                pbar.set_postfix(loss=f"{curve[-1]['loss']:.4f}", l0=f"{curve[-1]['l0']:.2f}", refresh=False)
            if trainer.n_training_steps in checkpoint_at:
                save_checkpoint(latest, trainer, batches, curve)
            pbar.update(1)
    wall = time.perf_counter() - start
    trainer.set_final_sae_metadata()
    return TrainResult(sae, curve, wall, trainer.n_training_samples, resumed_from)
