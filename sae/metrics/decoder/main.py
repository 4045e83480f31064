"""Decoder diagnostics of the incorrect-L0 paper (Chanin & Garriga-Alonso 2025, sec. 3)."""

from __future__ import annotations

from typing import Any

import torch

from sae.metrics.input_space import sae_input


def unit_rows(W_dec_HD: torch.Tensor) -> torch.Tensor:
    return W_dec_HD / W_dec_HD.norm(dim=-1, keepdim=True).clamp_min(1e-12)


@torch.no_grad()
def c_dec(W_dec_HD: torch.Tensor, chunk_size: int = 4096) -> float:
    """Mean over all pairs i < j of |cos(W_dec,i, W_dec,j)|.

    Chunked over rows so a 32k-latent decoder never materialises the full h x h matrix.
    """
    h = W_dec_HD.shape[0]
    if h < 2:
        raise ValueError("c_dec needs at least two latents")
    Wn_HD = unit_rows(W_dec_HD.double())
    total = 0.0
    for start in range(0, h, chunk_size):
        block_CH = (Wn_HD[start : start + chunk_size] @ Wn_HD.T).abs()
        # zero the diagonal: a latent's cosine with itself is not a pair
        rows = torch.arange(block_CH.shape[0], device=block_CH.device)
        block_CH[rows, rows + start] = 0.0
        total += block_CH.sum().item()
    # each unordered pair was counted twice
    return total / (h * (h - 1))


@torch.no_grad()
def s_n_dec(W_dec_HD: torch.Tensor, b_dec_D: torch.Tensor, x_BD: torch.Tensor, n: int) -> float:
    """The (n*b)-th largest entry of Z = (x - b_dec) W_dec^T, decoder rows unit-normed.

    Selection with kthvalue (linear time), not a sort: the k-th largest of N values
    is the (N - k + 1)-th smallest.
    """
    b, h = x_BD.shape[0], W_dec_HD.shape[0]
    if not 0 < n < h:
        raise ValueError(f"n must be in (0, {h}), got {n}")
    z_BH = (x_BD - b_dec_D) @ unit_rows(W_dec_HD).T
    flat = z_BH.flatten()
    k = n * b
    return flat.kthvalue(flat.numel() - k + 1).values.item()


def compute(ctx: Any, config: Any) -> dict[str, float]:
    """c_dec of the decoder; s_n_dec averaged over the held-out batches (n from the config, default width // 2).

    x − b_dec is taken in the SAE's input space (`sae.metrics.input_space`): b_dec of an SAE that standardises
    its input (top-AFA on llm sources) is in standardised units, so x is standardised as `encode` does.
    """
    W_dec_HD, b_dec_D = ctx.sae.W_dec.detach(), ctx.sae.b_dec.detach()
    n = config.resolved_s_n(W_dec_HD.shape[0])
    return {
        "c_dec": c_dec(W_dec_HD),
        "s_n_dec": sum(s_n_dec(W_dec_HD, b_dec_D, sae_input(ctx.sae, x_BD), n) for x_BD in ctx.batches)
        / len(ctx.batches),
        "s_n": float(n),
    }
