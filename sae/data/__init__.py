"""Activation sources: the one place that knows how each `source.kind` produces batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from sae.data.toy import ToyBatches, ToyModel


def source_dim(source: Any, source_dir: Path) -> int:
    return ToyModel.load(source_dir).d_model


def training_batches(source: Any, source_dir: Path, batch_size: int, seed: int, device: str) -> ToyBatches:
    """Endless, resumable training batches whose order depends only on `seed`."""
    return ToyBatches(ToyModel.load(source_dir, device), batch_size, seed)


def heldout_batches(source: Any, source_dir: Path, n_batches: int, batch_size: int, seed: int,
                    device: str) -> list[torch.Tensor]:
    """Held-out evaluation batches, the same for every SAE of an experiment."""
    batches = ToyBatches(ToyModel.load(source_dir, device), batch_size, seed)
    return [next(batches) for _ in range(n_batches)]


def true_features(source: Any, source_dir: Path) -> torch.Tensor | None:
    """The ground-truth feature directions [F, D] when the source has them (toy models)."""
    return ToyModel.load(source_dir).feature_vectors_FD
