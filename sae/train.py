"""One training entry point for every source and architecture.

The loop drives SAELens's `SAETrainer` through its public seams (`step`,
`maybe_reset_sparsity`, `save_trainer_state`, `load_trainer_state`), as
SAELens's own `MultiSAETrainer` does, so that it can record a training curve
without W&B and write resumable checkpoints that include the data stream.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from sae_lens.config import LoggingConfig, SAETrainerConfig
from sae_lens.training.sae_trainer import SAETrainer
from tqdm.auto import tqdm

from sae.architectures import build_training_sae
from sae.io import atomic_path

CURVE_KEYS = {
    "losses/overall_loss": "loss",
    "losses/mse_loss": "mse_loss",
    "metrics/l0": "l0",
    "metrics/explained_variance": "explained_variance",
    "sparsity/dead_features": "dead_features",
}
EXTRA_STATE_FILE = "loop_state.pt"


class ResumableBatches(Protocol):
    def __next__(self) -> torch.Tensor: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class TrainSpec:
    """Everything that defines one SAE's training run, independent of where data comes from."""

    architecture: str
    d_in: int
    width: int
    l0: float
    seed: int
    samples: int
    batch_size: int
    lr: float
    log_every: int = 100
    checkpoints: int = 0
    dead_feature_window: int = 1000
    device: str = "cpu"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    sae: Any
    curve: list[dict[str, float]]
    wall_seconds: float
    samples_trained: int
    resumed_from_samples: int

    @property
    def samples_per_second(self) -> float:
        return (self.samples_trained - self.resumed_from_samples) / max(self.wall_seconds, 1e-9)


def _trainer_config(spec: TrainSpec) -> SAETrainerConfig:
    return SAETrainerConfig(
        total_training_samples=spec.samples,
        train_batch_size_samples=spec.batch_size,
        lr=spec.lr,
        lr_end=spec.lr,
        lr_scheduler_name="constant",
        device=spec.device,
        dead_feature_window=spec.dead_feature_window,
        logger=LoggingConfig(log_to_wandb=False),
    )


class _L1Controller:
    """Steers a standard SAE's L1 coefficient towards a target L0.

    SAELens has no target-L0 knob for L1 SAEs; a multiplicative controller on the
    coefficient makes `l0` mean the same thing for every architecture.
    """

    gain = 0.02

    def __init__(self, trainer: SAETrainer[Any, Any], target: float):
        self.scheduler = trainer.coefficient_schedulers["l1"]
        self.target = target

    def update(self, feature_acts_BH: torch.Tensor) -> None:
        l0 = (feature_acts_BH != 0).sum(-1).float().mean().item()
        factor = math.exp(self.gain * math.log(max(l0, 1e-3) / self.target))
        self.scheduler.final_value *= min(max(factor, 0.9), 1.1)
        self.scheduler.current_value = self.scheduler.final_value


def _save_checkpoint(path: Path, trainer: SAETrainer[Any, Any], batches: ResumableBatches,
                     curve: list[dict[str, float]]) -> None:
    with atomic_path(path) as tmp:
        trainer.sae.save_model(tmp)
        trainer.save_trainer_state(tmp)
        torch.save(
            {
                "data": batches.state_dict(),
                "curve": curve,
                "coefficients": {n: s.final_value for n, s in trainer.coefficient_schedulers.items()},
            },
            tmp / EXTRA_STATE_FILE,
        )


def _load_checkpoint(path: Path, trainer: SAETrainer[Any, Any], batches: ResumableBatches) -> list[dict[str, float]]:
    trainer.sae.load_weights_from_checkpoint(path)
    trainer.load_trainer_state(path)
    extra = torch.load(path / EXTRA_STATE_FILE, map_location="cpu", weights_only=False)
    batches.load_state_dict(extra["data"])
    for name, value in extra["coefficients"].items():
        trainer.coefficient_schedulers[name].final_value = value
        trainer.coefficient_schedulers[name].current_value = value
    return extra["curve"]


def _checkpoint_steps(total_steps: int, n: int) -> set[int]:
    return {round(total_steps * (i + 1) / (n + 1)) for i in range(n)} - {0, total_steps}


def train_sae(spec: TrainSpec, batches: ResumableBatches, checkpoint_dir: Path | None = None,
              progress: bool = True) -> TrainResult:
    """Train one SAE; resume from `checkpoint_dir/latest` if an earlier run left one."""
    torch.manual_seed(spec.seed)
    sae = build_training_sae(spec.architecture, spec.d_in, spec.width, spec.l0, spec.options, spec.device)
    trainer = SAETrainer(cfg=_trainer_config(spec), sae=sae, data_provider=iter(()))
    controller = _L1Controller(trainer, spec.l0) if spec.architecture == "standard" else None

    latest = checkpoint_dir / "latest" if checkpoint_dir is not None else None
    curve: list[dict[str, float]] = []
    if latest is not None and latest.exists():
        curve = _load_checkpoint(latest, trainer, batches)
    resumed_from = trainer.n_training_samples

    total_steps = spec.samples // spec.batch_size
    checkpoint_at = _checkpoint_steps(total_steps, spec.checkpoints) if latest is not None else set()
    sae.to(spec.device)
    start = time.perf_counter()
    with tqdm(total=total_steps, initial=trainer.n_training_steps, desc=f"train {spec.architecture} l0={spec.l0:g}",
              unit="step", disable=not progress, mininterval=5.0) as pbar:
        while trainer.n_training_steps < total_steps:
            trainer.maybe_reset_sparsity()
            out = trainer.step(next(batches))
            if controller is not None:
                controller.update(out.feature_acts)
            trainer.n_training_steps += 1
            if trainer.n_training_steps % spec.log_every == 0 or trainer.n_training_steps == total_steps:
                curve.append(_curve_point(trainer, out))
                pbar.set_postfix(loss=f"{curve[-1]['loss']:.4f}", l0=f"{curve[-1]['l0']:.2f}", refresh=False)
            if trainer.n_training_steps in checkpoint_at:
                _save_checkpoint(latest, trainer, batches, curve)
            pbar.update(1)
    wall = time.perf_counter() - start
    trainer.set_final_sae_metadata()
    return TrainResult(sae, curve, wall, trainer.n_training_samples, resumed_from)


@torch.no_grad()
def _curve_point(trainer: SAETrainer[Any, Any], out: Any) -> dict[str, float]:
    logged = trainer.build_train_step_log_dict(out, n_training_samples=trainer.n_training_samples)
    point = {short: float(logged[key]) for key, short in CURVE_KEYS.items() if key in logged}
    point["step"] = float(trainer.n_training_steps)
    point["samples"] = float(trainer.n_training_samples)
    if "l1" in trainer.coefficient_schedulers:
        point["l1_coefficient"] = trainer.coefficient_schedulers["l1"].final_value
    return point


def save_trained_sae(result: TrainResult, directory: Path, activation_scale: float = 1.0) -> None:
    """Write the SAE in SAELens inference format (loadable with `SAE.load_from_disk`), atomically.

    An SAE trained on activations scaled by `activation_scale` gets the scale folded
    into its weights, so the saved SAE takes raw activations; cfg.json records it
    as SAELens's own trainer does (`normalize_activations: expected_average_only_in`).
    """
    if activation_scale != 1.0:
        result.sae.fold_activation_norm_scaling_factor(activation_scale)
        result.sae.cfg.normalize_activations = "expected_average_only_in"
    with atomic_path(directory) as tmp:
        result.sae.save_inference_model(tmp)
