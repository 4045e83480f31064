"""Activation sources: the one place that knows how each `source.kind` produces batches.

`source_dir` is the folder the source's rule wrote: the toy model's for `toy`,
the activation store's for `llm`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from sae.data.store import ActivationStore, StoreBatches
from sae.data.toy import ToyBatches, ToyModel


def source_dim(source: Any, source_dir: Path) -> int:
    if source.kind == "llm":
        return ActivationStore(source_dir).d_model
    return ToyModel.load(source_dir).d_model


def activation_scale(source: Any, source_dir: Path, normalize: bool) -> float:
    """SAELens's `expected_average_only_in` factor sqrt(d) / E||x||, from the store's mean norm; 1 when off."""
    if not normalize:
        return 1.0
    store = ActivationStore(source_dir)
    return math.sqrt(store.d_model) / store.mean_norm


class _Scaled:
    """Resumable batches multiplied by a constant."""

    def __init__(self, inner: Any, scale: float):
        self.inner, self.scale = inner, scale

    def __iter__(self) -> _Scaled:
        return self

    def __next__(self) -> torch.Tensor:
        return next(self.inner) * self.scale

    def state_dict(self) -> dict[str, Any]:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state)


def training_batches(source: Any, source_dir: Path, batch_size: int, seed: int, device: str,
                     scale: float = 1.0) -> Any:
    """Endless, resumable training batches whose order depends only on `seed`."""
    if source.kind == "llm":
        batches = StoreBatches(source_dir, batch_size, seed, split="train", device=device)
    else:
        batches = ToyBatches(ToyModel.load(source_dir, device), batch_size, seed)
    return batches if scale == 1.0 else _Scaled(batches, scale)


def heldout_batches(source: Any, source_dir: Path, n_batches: int, batch_size: int, seed: int,
                    device: str) -> list[torch.Tensor]:
    """Held-out evaluation batches (never trained on for llm), the same for every SAE of an experiment."""
    if source.kind == "llm":
        # the held-out tail in store order: whole batches while it lasts, at least one
        acts_ND = ActivationStore(source_dir).load("heldout", n_batches * batch_size).to(device)
        full = max(1, acts_ND.shape[0] // batch_size)
        return list(acts_ND[: full * batch_size].split(batch_size)) if acts_ND.shape[0] >= batch_size else [acts_ND]
    batches = ToyBatches(ToyModel.load(source_dir, device), batch_size, seed)
    return [next(batches) for _ in range(n_batches)]


def true_features(source: Any, source_dir: Path) -> torch.Tensor | None:
    """The ground-truth feature directions [F, D] when the source has them (toy models)."""
    return ToyModel.load(source_dir).feature_vectors_FD if source.kind == "toy" else None
