"""Every registered per-SAE diagnostic that applies, composed into one flat dict of named numbers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from sae import metrics


@dataclass(frozen=True)
class SAEContext:
    """What a per-SAE metric sees: the SAE, the experiment's held-out batches, and its opened source."""

    sae: Any
    batches: list[torch.Tensor]
    source: Any  # sae.data.sources.ToyData | StoreData: true_features_FD is None without a ground truth
    # the grid point's folder (sae.layout POINT_DIR) for metrics that read more of it; None for the ground truth
    point_dir: Path | None = None


@torch.no_grad()
def evaluate_sae(ctx: SAEContext, experiment: Any) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """The metrics of every enabled per-SAE diagnostic, and the tensors some export (keyed `<diagnostic>.<name>`)."""
    values: dict[str, float] = {}
    tensors: dict[str, torch.Tensor] = {}
    for spec in metrics.enabled(experiment, "sae"):
        code, config = metrics.code(spec.name), getattr(experiment.metrics, spec.name)
        new = code.compute(ctx, config)
        clash = sorted(set(new) & set(values))
        if clash:
            raise ValueError(f"diagnostic {spec.name} returns {clash}, which another diagnostic already returned")
        values |= new
        if hasattr(code, "tensors"):
            tensors |= {f"{spec.name}.{name}": t for name, t in code.tensors(ctx, config).items()}
    return values, tensors
