"""ε_LBO and the ZF plot's norms (Lee et al. 2025), as coded in the official `visualization/zf-plot.ipynb`.

If the h unit decoder rows (with b_dec/‖b_dec‖ as one more) are ε-quasi-orthogonal,
z = W^T f̃ gives (1 − ε(h−1))‖f̃‖² ≤ ‖z‖² ≤ (1 + ε(h−1))‖f̃‖²; ε_LBO is the smallest ε
that this input's norms need: |‖z‖² − ‖f̃‖²| / ((h − 1)‖f̃‖²); f̃ = [a_i ‖W_dec,i‖]_i followed by
‖b_dec‖; h is the width. z is the input in the SAE's own input space, b_dec not subtracted
(`sae.metrics.input_space`): the raw hook activation for an SAE that does not standardise, as the
official `visualization/zf-plot.ipynb` has it (cell "Running Experiments": `z = cache[sae.cfg.hook_name]`,
`f = sae.encode(z)`, `ztz = z @ z`; it scores only such SAEs), and the per-token standardised input
for one that does (top-AFA on llm sources), whose f̃ is in standardised units. The notebook's own
check `test_f_tilde` (ẑ = f̃·[W_dec rows / ‖row‖; b_dec / ‖b_dec‖]) needs z, ẑ and f̃ in one space;
raw z against standardised f̃ would measure only the scale gap (SmolLM2: ‖z‖ ≈ 100, ‖f̃‖ ≈ 24).
"""

from __future__ import annotations

from typing import Any

import torch

from sae.metrics.input_space import sae_input, sae_reconstruction


@torch.no_grad()
def f_tilde_norm(acts_NH: torch.Tensor, W_dec_HD: torch.Tensor, b_dec_D: torch.Tensor) -> torch.Tensor:
    """‖f̃‖ per input: the decoder-scaled activations and ‖b_dec‖ as one extra entry."""
    return ((acts_NH * W_dec_HD.norm(dim=-1)).pow(2).sum(-1) + b_dec_D.pow(2).sum()).sqrt()


def epsilon_lbo(norm_z_N: torch.Tensor, norm_f_N: torch.Tensor, h: int) -> torch.Tensor:
    """Per input; NaN where f̃ = 0 (an input with nothing active and no decoder bias bounds nothing)."""
    f2 = norm_f_N.double().pow(2)
    return ((norm_z_N.double().pow(2) - f2).abs() / ((h - 1) * f2)).where(f2 > 0, torch.nan)


@torch.no_grad()
def _norms(sae: Any, batches: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(‖z‖, ‖f̃‖, ‖z − ẑ‖²) of every input of `batches`, z and ẑ in the SAE's input space."""
    norm_z, norm_f, err = [], [], []
    for x_BD in batches:
        z_BD = sae_input(sae, x_BD)
        acts_BH = sae.encode(x_BD)
        err.append((sae_reconstruction(sae, acts_BH) - z_BD).double().pow(2).sum(-1))
        norm_z.append(z_BD.norm(dim=-1))
        norm_f.append(f_tilde_norm(acts_BH, sae.W_dec, sae.b_dec))
    return torch.cat(norm_z), torch.cat(norm_f), torch.cat(err)


def compute(ctx: Any, config: Any) -> dict[str, float]:
    norm_z, norm_f, err = _norms(ctx.sae, ctx.batches)
    # ours: an input that is exactly zero (most of a sparse toy's) gives 1/(h − 1) whenever b_dec ≠ 0, by
    # construction and whatever the decoder: it says nothing about quasi-orthogonality, so it is left out and counted
    nonzero = norm_z > 0
    eps = epsilon_lbo(norm_z[nonzero], norm_f[nonzero], ctx.sae.cfg.d_sae)
    return {
        "eps_lbo_mean": eps.nanmean().item() if eps.numel() else float("nan"),
        "eps_lbo_median": eps.nanmedian().item() if eps.numel() else float("nan"),
        "eps_lbo_zero_inputs": float((~nonzero).sum().item()),
        "eps_lbo_inputs": float(nonzero.numel()),  # what the zero count is out of
        # ours: normalised MSE as sum ‖z − ẑ‖² / sum ‖z‖² over the held-out inputs, in the SAE's input space
        # (standardised for a standardising SAE, where the official code computes its MSE)
        "normalised_mse": (err.sum() / norm_z.double().pow(2).sum()).item(),
    }


def tensors(ctx: Any, config: Any) -> dict[str, torch.Tensor]:
    """‖z‖ and ‖f̃‖ of the first `zf_points` held-out inputs, for the ZF plot."""
    norm_z, norm_f, _ = _norms(ctx.sae, [torch.cat(ctx.batches)[: config.zf_points]])
    return {"norm_z": norm_z[: config.zf_points], "norm_f": norm_f[: config.zf_points]}
