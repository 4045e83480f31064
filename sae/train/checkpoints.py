"""When a run writes its resumable checkpoint, and the single-SAE trainer's checkpoint format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from sae_lens.training.sae_trainer import SAETrainer

from sae.io import atomic_path
from sae.train.spec import ResumableBatches, TrainSpec

EXTRA_STATE_FILE = "loop_state.pt"


def checkpoint_steps(total_steps: int, n: int) -> set[int]:
    """`n` steps spread evenly over the run, neither the first nor the last."""
    return {round(total_steps * (i + 1) / (n + 1)) for i in range(n)} - {0, total_steps}


def checkpoint_schedule(spec: TrainSpec, checkpoint_dir: Path | None) -> tuple[Path | None, set[int]]:
    """Where a run keeps its checkpoint (`checkpoint_dir/latest`) and after which steps it writes it.

    Without a `checkpoint_dir` there is nothing to resume from and nothing is written.
    """
    if checkpoint_dir is None:
        return None, set()
    return checkpoint_dir / "latest", checkpoint_steps(spec.total_steps, spec.checkpoints)


def save_checkpoint(path: Path, trainer: SAETrainer[Any, Any], batches: ResumableBatches,
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


def load_checkpoint(path: Path, trainer: SAETrainer[Any, Any], batches: ResumableBatches) -> list[dict[str, float]]:
    trainer.sae.load_weights_from_checkpoint(path)
    trainer.load_trainer_state(path)
    extra = torch.load(path / EXTRA_STATE_FILE, map_location="cpu", weights_only=False)
    batches.load_state_dict(extra["data"])
    for name, value in extra["coefficients"].items():
        trainer.coefficient_schedulers[name].final_value = value
        trainer.coefficient_schedulers[name].current_value = value
    return extra["curve"]
