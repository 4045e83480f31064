"""`train_fused`: a group of SAEs on one shared batch stream, resumable, returning one result per member."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from sae_lens.training.sae_trainer import SAETrainer

from sae.architectures import build_training_sae
from sae.fused.plan import check_group
from sae.fused.selection import Scratch
from sae.fused.state import (
    Group,
    load_group_checkpoint,
    save_group_checkpoint,
    stack_group,
    sync_trainer,
    write_back,
)
from sae.fused.step import Hyper, StepOut, build_hyper, member_output, train_step
from sae.runtime import resolve_device
from sae.train.checkpoints import checkpoint_schedule
from sae.train.progress import check_finite, curve_point, logs_curve_at, progress_bar
from sae.train.spec import ResumableBatches, TrainResult, TrainSpec, trainer_config


def train_fused(specs: Sequence[TrainSpec], batches: ResumableBatches, checkpoint_dir: Path | None = None,
                progress: bool = True, autocast: bool = False) -> list[TrainResult]:
    """Train every spec on one shared batch stream; one `TrainResult` per spec, in order.

    Each result's SAE is a SAELens TrainingSAE with the member's final weights and
    end-of-training metadata, ready for `save_inference_model`. Resumes from
    `checkpoint_dir/latest` if an earlier run left one. `autocast` runs the forward
    pass in bfloat16 (SAELens's `autocast` option).
    """
    check_group(specs)
    device = resolve_device(specs[0].device)
    specs = list(specs)
    saes = []
    for spec in specs:
        # Seeded per member, exactly as train_sae, so each init is bit-identical to single training.
        torch.manual_seed(spec.seed)
        saes.append(build_training_sae(spec.architecture, spec.d_in, spec.width, spec.l0, spec.options, device))
    trainer_cfg = trainer_config(specs[0])
    trainers = [SAETrainer(cfg=trainer_config(s), sae=sae, data_provider=iter(())) for s, sae in zip(specs, saes)]
    hyper = build_hyper(saes, specs[0].architecture, specs[0].batch_size, device)
    group = stack_group(saes, specs[0].lr, trainer_cfg)
    autocast_ctx = torch.autocast(torch.device(device).type, dtype=torch.bfloat16) if autocast else nullcontext()
    scratch = Scratch(matmul_outputs=not autocast)

    # check_group gave every member the same samples, batch_size, log_every and checkpoints: one schedule
    spec = specs[0]
    latest, checkpoint_at = checkpoint_schedule(spec, checkpoint_dir)
    curves: list[list[dict[str, float]]] = [[] for _ in specs]
    if latest is not None and latest.exists():
        curves = load_group_checkpoint(latest, group, specs, batches)
    resumed_from = group.n_training_samples

    start = time.perf_counter()
    with progress_bar(spec, group.n_training_steps, f"train fused {spec.architecture} x{len(specs)}",
                      progress) as pbar:
        while group.n_training_steps < spec.total_steps:
            # SAETrainer.maybe_reset_sparsity: a new firing-frequency window every feature_sampling_window steps.
            if group.n_training_steps > 0 and group.n_training_steps % trainer_cfg.feature_sampling_window == 0:
                group.act_freq_GH.zero_()
                group.n_frac_active_samples = 0
            x_BD = next(batches).to(device=device, dtype=group.params["W_enc"].dtype)
            group.n_training_samples += x_BD.shape[0]
            out = train_step(group, x_BD, hyper, trainer_cfg.dead_feature_window, autocast_ctx, scratch)
            group.n_training_steps += 1
            if logs_curve_at(group.n_training_steps, spec):
                _log_curves(curves, trainers, group, out, hyper)
                for member, curve in zip(specs, curves, strict=True):
                    check_finite(curve[-1], member)
                pbar.set_postfix(loss=f"{curves[0][-1]['loss']:.4f}", refresh=False)
            if group.n_training_steps in checkpoint_at:
                save_group_checkpoint(latest, group, specs, batches, curves)
            pbar.update(1)
    wall = time.perf_counter() - start

    write_back(saes, group)
    for g, trainer in enumerate(trainers):
        sync_trainer(trainer, group, g)
        trainer.set_final_sae_metadata()
    return [TrainResult(sae, curve, wall, group.n_training_samples, resumed_from) for sae, curve in zip(saes, curves)]


def _log_curves(curves: list[list[dict[str, float]]], trainers: Sequence[SAETrainer[Any, Any]], group: Group,
                out: StepOut, hyper: Hyper) -> None:
    # SAELens's own log dict, per member: the curve has exactly train_sae's keys and definitions.
    for g, trainer in enumerate(trainers):
        sync_trainer(trainer, group, g)
        curves[g].append(curve_point(trainer, member_output(out, group, hyper, g)))
