"""What every training loop shows and records as it goes: the progress bar and the training curve."""

from __future__ import annotations

import math
from typing import Any

import torch
from sae_lens.training.sae_trainer import SAETrainer
from tqdm.auto import tqdm

from sae.train.spec import TrainSpec

CURVE_KEYS = {
    "losses/overall_loss": "loss",
    "losses/mse_loss": "mse_loss",
    "metrics/l0": "l0",
    "metrics/explained_variance": "explained_variance",
    "sparsity/dead_features": "dead_features",
}


def progress_bar(spec: TrainSpec, initial_step: int, desc: str, enabled: bool) -> tqdm:
    return tqdm(total=spec.total_steps, initial=initial_step, desc=desc, unit="step", disable=not enabled,
                mininterval=5.0)


def logs_curve_at(step: int, spec: TrainSpec) -> bool:
    """A curve point every `log_every` steps, and always one at the last step."""
    return step % spec.log_every == 0 or step == spec.total_steps


@torch.no_grad()
def curve_point(trainer: SAETrainer[Any, Any], out: Any) -> dict[str, float]:
    logged = trainer.build_train_step_log_dict(out, n_training_samples=trainer.n_training_samples)
    point = {short: float(logged[key]) for key, short in CURVE_KEYS.items() if key in logged}
    point["step"] = float(trainer.n_training_steps)
    point["samples"] = float(trainer.n_training_samples)
    if "l1" in trainer.coefficient_schedulers:
        point["l1_coefficient"] = trainer.coefficient_schedulers["l1"].final_value
    return point


class TrainingDiverged(RuntimeError):
    """A training loss stopped being finite: the SAE is garbage from there on, so its job stops."""


def check_finite(point: dict[str, float], spec: TrainSpec) -> None:
    """Stop a run whose curve point has a non-finite loss, naming the grid point and what to try."""
    if all(math.isfinite(point[k]) for k in ("loss", "mse_loss") if k in point):
        return
    l0 = "its own L0" if spec.l0 is None else f"L0 {spec.l0:g}"  # top_afa chooses its own
    raise TrainingDiverged(
        f"{spec.architecture} width {spec.width} {l0} seed {spec.seed}: the training loss became "
        f"{point.get('loss')} at step {int(point['step'])}. Lower training.lr (now {spec.lr:g}); if the inputs "
        "themselves are not finite, re-extract the activation store."
    )
