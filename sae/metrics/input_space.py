"""The space an SAE encodes in: its input after SAELens's run-time normalisation, before b_dec is subtracted.

An SAE that standardises each input inside `encode` (`normalize_activations: layer_norm`, top-AFA
on llm sources: x ← (x − mean)/(std + 1e-5) per token, the official `input_unit_norm`) has its
b_dec, decoder-scaled activations and reconstruction in standardised units. Metrics that compare
the input with those (ε_LBO's ‖z‖ against ‖f̃‖, s_n_dec's x − b_dec) must read the input in the
same space; for an SAE without run-time normalisation (`none`, or `expected_average_only_in` whose
scale is folded into the saved weights) this is the raw activation.
"""

from __future__ import annotations

from typing import Any

import torch

# what SAELens's run-time normalisation functions leave on the SAE for the output side to undo
_STATE = ("ln_mu", "ln_std", "x_norm_coeff")


@torch.no_grad()
def sae_input(sae: Any, x_BD: torch.Tensor) -> torch.Tensor:
    """`x_BD` as `sae.encode` sees it before subtracting b_dec (SAELens `process_sae_in` without the bias)."""
    x_BD = sae.run_time_activation_norm_fn_in(x_BD.to(sae.dtype))
    for name in _STATE:
        sae.__dict__.pop(name, None)
    return x_BD



@torch.no_grad()
def sae_reconstruction(sae: Any, acts_BH: torch.Tensor) -> torch.Tensor:
    """`sae.decode(acts_BH)` left in the SAE's input space (its run-time normalisation not undone)."""
    undo = sae.run_time_activation_norm_fn_out
    sae.run_time_activation_norm_fn_out = lambda x: x
    try:
        return sae.decode(acts_BH)
    finally:
        sae.run_time_activation_norm_fn_out = undo
        for name in _STATE:
            sae.__dict__.pop(name, None)
