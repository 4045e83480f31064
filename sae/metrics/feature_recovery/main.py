"""The WSAE synthetic study's per-SAE numbers on any toy model (definitions in `sae.wsae.evaluate`)."""

from __future__ import annotations

from typing import Any

import torch

from sae.data.toy import ToyBatches
from sae.wsae.evaluate import wsae_metrics


def own_dimension(features_FD: torch.Tensor) -> torch.Tensor:
    """Features orthogonal to every other feature: on the superposed toy, those with an input dimension to themselves."""
    cos_FF = torch.nn.functional.normalize(features_FD.double(), dim=-1) @ \
        torch.nn.functional.normalize(features_FD.double(), dim=-1).T
    return (cos_FF - torch.eye(len(cos_FF), dtype=cos_FF.dtype)).abs().amax(dim=-1) < 1e-6


@torch.no_grad()
def compute(ctx: Any, config: Any) -> dict[str, float]:
    model = ctx.source.model
    x_p_ND, x_NF = ToyBatches(model, config.samples, config.seed).next_with_features()
    values = wsae_metrics(ctx.sae, x_NF, x_p_ND, own_dimension(model.feature_vectors_FD))
    return values | {"feature_sparsity": 1.0 - model.firing_probabilities_F.mean().item()}
