"""Hedging degree (Feature Hedging, Chanin et al. 2025, sec. 4; `hedging_paper/evals/hedging_eval.py`).

An SAE trained for T samples is continued for T more twice: a control of the same width and a
copy extended with N new latents (`sae.train.start.WarmStart`). If the old latents had merged
features they could not afford latents for, the extended copy moves them out of the new
latents' span: with decoder norms folded, Delta_i = W_dec^ext_i - W_dec^ctrl_i and Q an
orthonormal basis of the new decoder rows, p = mean_i |QQ^T Delta_i| / mean_i |W_dec^ctrl_i|;
p_base is p with N random directions instead (the movement any N-dimensional span catches),
and h = max(0, (p - p_base) / (1 - p_base)).
"""

from __future__ import annotations

import statistics
from typing import Any

import torch

from sae import layout
from sae.architectures import load_sae
from sae.metrics.hedging.spec import VARIANTS


def span_projection_norms(delta_HD: torch.Tensor, directions_ND: torch.Tensor) -> torch.Tensor:
    """|QQ^T Delta_i| per row, Q an orthonormal basis of the directions' span (QR, truncated to their rank)."""
    q_DN, r_NN = torch.linalg.qr(directions_ND.T)
    q_DR = q_DN[:, : int(torch.linalg.matrix_rank(r_NN))]
    return (delta_HD @ q_DR).norm(dim=-1)  # Q orthonormal: |Q Q^T d| = |Q^T d|


@torch.no_grad()
def hedging_degree(control_W_dec_HD: torch.Tensor, extended_W_dec_KD: torch.Tensor, baselines: int,
                   generator: torch.Generator) -> dict[str, float]:
    """h, p, p_base (mean and std over `baselines` random spans) from folded decoders; the extended one has K > H rows."""
    width = control_W_dec_HD.shape[0]
    delta_HD = extended_W_dec_KD[:width] - control_W_dec_HD
    new_ND = extended_W_dec_KD[width:]
    control_norm = control_W_dec_HD.norm(dim=-1).mean().item()
    p = span_projection_norms(delta_HD, new_ND).mean().item() / control_norm
    p_random = [span_projection_norms(delta_HD, torch.randn(new_ND.shape, generator=generator).to(new_ND)).mean().item()
                / control_norm for _ in range(baselines)]
    p_base = statistics.fmean(p_random)
    return {
        "hedging_h": max(0.0, (p - p_base) / (1 - p_base)),
        "hedging_p": p,
        "hedging_p_base": p_base,
        "hedging_p_base_std": statistics.stdev(p_random) if baselines > 1 else 0.0,
        "hedging_new_latents": float(new_ND.shape[0]),
    }


def compute(ctx: Any, config: Any) -> dict[str, float]:
    if ctx.point_dir is None:
        return {}  # the ground-truth SAE has no continuations
    control, extended = (load_sae(ctx.point_dir / layout.CONTINUED_FOLDER.format(variant=v) / layout.SAE_FOLDER,
                                  str(ctx.sae.W_dec.device)) for v in VARIANTS)
    control.fold_W_dec_norm()
    extended.fold_W_dec_norm()
    return hedging_degree(control.W_dec, extended.W_dec, config.baselines, torch.Generator().manual_seed(0))
