"""What the WSAE paper reports per SAE on the synthetic data (the metric definitions are ours where noted)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment


def _corr(a_NH: torch.Tensor, b_NF: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of every column of a with every column of b; 0 for a constant column."""
    a, b = a_NH.double() - a_NH.double().mean(0), b_NF.double() - b_NF.double().mean(0)
    norms = a.norm(dim=0).unsqueeze(1) * b.norm(dim=0).unsqueeze(0)
    return torch.where(norms > 0, a.T @ b / norms.clamp_min(1e-30), 0.0)


def match_latents(acts_NH: torch.Tensor, x_NF: torch.Tensor) -> np.ndarray:
    """Hungarian assignment of one latent per feature, maximising the total activation correlation (ours)."""
    latents, features = linear_sum_assignment(-_corr(acts_NH, x_NF).numpy())
    return latents[np.argsort(features)]


@torch.no_grad()
def wsae_metrics(sae: Any, x_NF: torch.Tensor, x_p_ND: torch.Tensor, monosemantic_F: torch.Tensor) -> dict[str, float]:
    """L_GT (all features, and the features with a dimension of their own), x_p error and monosemanticity.

    Ours: a matched latent's estimate of feature j is its activation times its decoder-row norm
    (the activation in the units of a unit dictionary column); L_GT is the mean over inputs of
    the summed squared errors over features, divided by the number of features.
    """
    acts_NH = sae.encode(x_p_ND)
    match_F = match_latents(acts_NH, x_NF)
    estimate_NF = (acts_NH * sae.W_dec.norm(dim=-1))[:, match_F]
    sq_err_NF = (estimate_NF - x_NF).double().pow(2)
    corr_F = _corr(acts_NH, x_NF)[match_F, torch.arange(x_NF.shape[1])]
    return {
        "l_gt": sq_err_NF.mean().item(),
        "l_gt_monosemantic": sq_err_NF[:, monosemantic_F].mean().item(),
        "x_p_error": (sae.decode(acts_NH) - x_p_ND).double().pow(2).sum(-1).mean().item(),
        # share of a matched latent's activation variance its feature explains (R² = corr²), mean over features
        "monosemanticity": corr_F.pow(2).mean().item(),
    }
