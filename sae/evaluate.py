"""Every per-SAE diagnostic, composed into one flat dict of named numbers."""

from __future__ import annotations

from typing import Any

import torch

from sae.metrics.decoder import c_dec, s_n_dec
from sae.metrics.ground_truth import feature_cosines, ground_truth_metrics
from sae.metrics.reconstruction import reconstruction_metrics


@torch.no_grad()
def sae_metrics(sae: Any, eval_batches: list[torch.Tensor], n: int) -> dict[str, float]:
    """Decoder metrics, sparsity and reconstruction of one SAE on held-out batches."""
    W_dec_HD, b_dec_D = sae.W_dec.detach(), sae.b_dec.detach()
    metrics = {
        "c_dec": c_dec(W_dec_HD),
        "s_n_dec": sum(s_n_dec(W_dec_HD, b_dec_D, x_BD, n) for x_BD in eval_batches) / len(eval_batches),
        "s_n": float(n),
    }
    metrics |= reconstruction_metrics(sae, torch.cat(eval_batches), batch_size=eval_batches[0].shape[0])
    return metrics


@torch.no_grad()
def toy_sae_metrics(
    sae: Any, eval_batches: list[torch.Tensor], n: int, features_FD: torch.Tensor
) -> tuple[dict[str, float], torch.Tensor]:
    """`sae_metrics` plus the comparison with the true features; also returns the |cos| matrix."""
    metrics = sae_metrics(sae, eval_batches, n) | ground_truth_metrics(sae.W_dec.detach(), features_FD)
    return metrics, feature_cosines(sae.W_dec.detach(), features_FD)
