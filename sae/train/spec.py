"""What one SAE training run is (`TrainSpec`), what it returns (`TrainResult`) and its SAELens trainer config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from sae_lens.config import LoggingConfig, SAETrainerConfig


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
    l0: float | None  # None: the architecture chooses its own
    seed: int
    samples: int
    batch_size: int
    lr: float
    log_every: int = 100
    checkpoints: int = 0
    dead_feature_window: int = 1000
    device: str = "cpu"
    options: dict[str, Any] = field(default_factory=dict)
    # where the weights start (sae.train.start), instead of SAELens's random initialisation
    start: Any = field(default=None, compare=False)

    @property
    def total_steps(self) -> int:
        return self.samples // self.batch_size


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


def trainer_config(spec: TrainSpec) -> SAETrainerConfig:
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
