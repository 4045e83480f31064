"""A job's activation source, opened once: a toy model's folder or an activation store.

`open_source(config, source_dir, device)` is the one place that knows how each
`source.kind` produces batches; `source_dir` is the folder the source's rule wrote.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from sae.data.store import ActivationStore, StoreBatches
from sae.data.toy import ToyBatches, ToyModel


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


def _scaled(batches: Any, scale: float) -> Any:
    return batches if scale == 1.0 else _Scaled(batches, scale)


class ToyData:
    """A toy model's activations, and its ground truth."""

    kind = "toy"

    def __init__(self, source_dir: Path, device: str):
        self.model = ToyModel.load(source_dir, device)
        self.d_model = self.model.d_model
        self.true_features_FD: torch.Tensor | None = self.model.feature_vectors_FD
        self.true_l0: float | None = self.model.true_l0

    def activation_scale(self, normalize: bool) -> float:
        if normalize:
            raise ValueError("activation normalisation needs an activation store (llm source)")
        return 1.0

    def training_batches(self, batch_size: int, seed: int, scale: float = 1.0) -> Any:
        """Endless, resumable batches whose order depends only on `seed`."""
        return _scaled(ToyBatches(self.model, batch_size, seed), scale)

    def heldout_batches(self, n_batches: int, batch_size: int, seed: int) -> list[torch.Tensor]:
        """Fresh draws from the model's own stream of `seed` (the same for every SAE of an experiment)."""
        batches = ToyBatches(self.model, batch_size, seed)
        return [next(batches) for _ in range(n_batches)]


class StoreData:
    """A language model's activations from its store; no ground truth."""

    kind = "llm"
    true_features_FD = None
    true_l0 = None

    def __init__(self, source_dir: Path, device: str):
        self.directory, self.device = Path(source_dir), device
        self.store = ActivationStore(source_dir)
        self.d_model = self.store.d_model

    def activation_scale(self, normalize: bool) -> float:
        """SAELens's `expected_average_only_in` factor sqrt(d) / E||x||, from the store's mean norm; 1 when off."""
        return math.sqrt(self.d_model) / self.store.mean_norm if normalize else 1.0

    def training_batches(self, batch_size: int, seed: int, scale: float = 1.0) -> Any:
        """Endless, resumable shuffled batches of the training split whose order depends only on `seed`."""
        return _scaled(StoreBatches(self.directory, batch_size, seed, split="train", device=self.device), scale)

    def heldout_batches(self, n_batches: int, batch_size: int, seed: int) -> list[torch.Tensor]:
        """The held-out tail in store order (never trained on): whole batches while it lasts, at least one."""
        acts_ND = self.store.load("heldout", n_batches * batch_size).to(self.device)
        full = max(1, acts_ND.shape[0] // batch_size)
        return list(acts_ND[: full * batch_size].split(batch_size)) if acts_ND.shape[0] >= batch_size else [acts_ND]


def open_source(source: Any, source_dir: Path | str, device: str) -> ToyData | StoreData:
    """The experiment's source (its config `source`), read from the folder its rule wrote."""
    return (StoreData if source.kind == "llm" else ToyData)(Path(source_dir), device)
