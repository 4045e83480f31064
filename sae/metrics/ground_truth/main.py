"""Comparisons with the true features of a toy model."""

from __future__ import annotations

from typing import Any

import torch
from sae_lens.synthetic import mean_correlation_coefficient
from sae_lens.util import cosine_similarities

from sae.architectures import build_training_sae


@torch.no_grad()
def feature_cosines(W_dec_HD: torch.Tensor, features_FD: torch.Tensor) -> torch.Tensor:
    """|cos| between every decoder row (rows) and every true feature (columns)."""
    return cosine_similarities(W_dec_HD, features_FD).abs()


@torch.no_grad()
def ground_truth_metrics(W_dec_HD: torch.Tensor, features_FD: torch.Tensor) -> dict[str, float]:
    """MCC (Hungarian matching of |cos|) and how many true features some latent recovers."""
    cos_HF = feature_cosines(W_dec_HD, features_FD)
    return {
        "mcc": mean_correlation_coefficient(W_dec_HD, features_FD),
        "features_recovered_0.9": float((cos_HF.max(dim=0).values > 0.9).sum().item()),
        "mean_max_cos_per_feature": cos_HF.max(dim=0).values.mean().item(),
    }


@torch.no_grad()
def ground_truth_sae(features_FD: torch.Tensor, l0: float) -> Any:
    """A BatchTopK SAE whose decoder is the true features and whose encoder is matched.

    For orthonormal features x . f_i is the true coefficient, so at k = true L0 it
    is the ideal SAE; at other k it shows what the true features cost in MSE.
    """
    num_features, d_model = features_FD.shape
    sae = build_training_sae("batchtopk", d_in=d_model, width=num_features, l0=l0, options={},
                             device=str(features_FD.device))
    sae.W_dec.data = features_FD.clone()
    sae.W_enc.data = features_FD.T.clone(memory_format=torch.contiguous_format)  # savable with safetensors
    sae.b_enc.data.zero_()
    sae.b_dec.data.zero_()
    return sae.eval()


def compute(ctx: Any, config: Any) -> dict[str, float]:
    return ground_truth_metrics(ctx.sae.W_dec.detach(), ctx.source.true_features_FD)


def tensors(ctx: Any, config: Any) -> dict[str, torch.Tensor]:
    """The signed cosine matrix [latents, features], for the decoder-vs-feature heatmaps (the sign tells
    hedging from absorption, and shows the negative components anti-correlated features leave)."""
    return {"cos_HF": cosine_similarities(ctx.sae.W_dec.detach(), ctx.source.true_features_FD)}
