"""Sparsity and reconstruction of an SAE on held-out activations."""

from __future__ import annotations

from typing import Any

import torch


@torch.no_grad()
def reconstruction_metrics(sae: Any, x_ND: torch.Tensor, batch_size: int = 4096) -> dict[str, float]:
    """L0, dead latents, MSE and variance explained of `sae` (anything with encode/decode) on x.

    mse is the mean over inputs of the squared L2 error ||x - x_hat||^2 (summed over
    dimensions, as SAELens's training loss). Variance explained in two forms:
    `variance_explained` = 1 - sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 (centred, as SAELens and
    SAEBench compute it) and `variance_explained_uncentred` = 1 - sum ||x - x_hat||^2 / sum ||x||^2
    (Sparse but Wrong's `calculate_variance_explained`, main_toy_model_experiments.ipynb, with which its
    sparsity-reconstruction figure is drawn).
    """
    n = x_ND.shape[0]
    fired_H = None
    active = sq_err = 0.0
    for start in range(0, n, batch_size):
        x_BD = x_ND[start : start + batch_size]
        acts_BH = sae.encode(x_BD)
        x_hat_BD = sae.decode(acts_BH)
        active += (acts_BH != 0).sum().item()
        sq_err += (x_hat_BD - x_BD).double().pow(2).sum().item()
        batch_fired = (acts_BH != 0).any(dim=0)
        fired_H = batch_fired if fired_H is None else fired_H | batch_fired
    total_var = (x_ND.double() - x_ND.double().mean(0)).pow(2).sum().item()
    total_square = x_ND.double().pow(2).sum().item()
    dead = int((~fired_H).sum().item())
    return {
        "l0_measured": active / n,
        "dead_latents": float(dead),
        "dead_fraction": dead / fired_H.numel(),
        "mse": sq_err / n,
        "variance_explained": 1.0 - sq_err / total_var,
        "variance_explained_uncentred": 1.0 - sq_err / total_square,
    }


def compute(ctx: Any, config: Any) -> dict[str, float]:
    return reconstruction_metrics(ctx.sae, torch.cat(ctx.batches), batch_size=ctx.batches[0].shape[0])
