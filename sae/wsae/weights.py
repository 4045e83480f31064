"""Per-dimension monosemanticity scores s_i and the WSAE weights γ_i = s_i^α (normalised to mean 1)."""

from __future__ import annotations

from collections.abc import Callable

import torch


def variance_score(x_p_ND: torch.Tensor) -> torch.Tensor:
    """Ours, a data proxy: the smallest per-dimension variance over dimension i's variance.

    A dimension that superposes several unit-weight features of equal statistics has their
    summed variance, so this is about 1 / (features on it) without knowing the features.
    """
    var_D = x_p_ND.double().var(dim=0)
    return (var_D.min() / var_D).float()


def dimension_weights(score_D: torch.Tensor, alpha: float) -> torch.Tensor:
    """γ = s^α normalised to mean 1 (α = 0: every dimension 1, the plain SAE)."""
    gamma_D = score_D.double().pow(alpha)
    return (gamma_D / gamma_D.mean()).float()


def weighted_mse(gamma_D: torch.Tensor) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """A SAELens `mse_loss_fn`: per-element γ_i (x̂_i − x_i)², which SAELens sums over i and averages over inputs."""
    def loss(preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return gamma_D.to(preds.device) * (preds - target).pow(2)

    return loss
