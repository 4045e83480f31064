"""The per-token absorption fraction and full-absorption flag of SAEBench, as pure tensor functions.

Re-implemented from `sae_bench/evals/absorption/feature_absorption_calculator.py`
(`FeatureAbsorptionCalculator.calculate_absorption` and `_is_full_absorption`), vectorised over
tokens; `sae-bench` itself cannot be installed beside our pins. For a token whose residual x the
ground-truth probe p (unit) detects, each latent's share of the probe projection is
pi_i = a_i * cos(p, W_dec,i); P = x . p; M = sum of pi over the main latents; A = sum of the
top positive pi among the other latents with cos >= 0.1.
"""

from __future__ import annotations

import torch

# SAEBench feature_absorption.py constants
ABSORPTION_FRACTION_PROBE_COS_THRESHOLD = 0.1
ABSORPTION_PROBE_PROJECTION_PROPORTION_THRESHOLD = 0.4
ABSORPTION_FRACTION_MAX_ABSORBING_LATENTS = 3
FULL_ABSORPTION_PROBE_COS_THRESHOLD = 0.025
# feature_absorption_calculator.py: a main latent "fires" above this
EPS = 1e-8


def absorption_fraction(latents_NH: torch.Tensor, probe_proj_N: torch.Tensor, cos_H: torch.Tensor,
                        main: list[int]) -> torch.Tensor:
    """[N] absorption fraction: 0 when the main latents carry the probe projection, 1 when they carry none
    of it and other aligned latents do, else min(A, P - M) / (min(A, P - M) + M)."""
    proj_NH = latents_NH * cos_H
    main_mask_H = torch.zeros_like(cos_H, dtype=torch.bool)
    main_mask_H[main] = True
    main_N = proj_NH[:, main_mask_H].sum(-1)
    candidates_NH = (~main_mask_H & (cos_H >= ABSORPTION_FRACTION_PROBE_COS_THRESHOLD)) & (proj_NH > 0)
    others_NH = torch.where(candidates_NH, proj_NH, torch.zeros_like(proj_NH))
    k = min(ABSORPTION_FRACTION_MAX_ABSORBING_LATENTS, others_NH.shape[1])
    absorbing_N = others_NH.topk(k, dim=-1).values.sum(-1)
    unaccounted_N = probe_proj_N - main_N
    absorbed_N = torch.minimum(absorbing_N, unaccounted_N)
    partial_N = (absorbed_N / (absorbed_N + main_N)).clamp(0.0, 1.0)
    none_N = (main_N >= probe_proj_N) | (absorbing_N / probe_proj_N < ABSORPTION_PROBE_PROJECTION_PROPORTION_THRESHOLD)
    return torch.where(none_N, torch.zeros_like(partial_N),
                       torch.where(main_N <= 0, torch.ones_like(partial_N), partial_N))


def full_absorption(latents_NH: torch.Tensor, probe_proj_N: torch.Tensor, cos_H: torch.Tensor,
                    main: list[int]) -> torch.Tensor:
    """[N] bool: no main latent fires and a single probe-aligned latent carries >= 40% of the projection."""
    top_NH = latents_NH * cos_H
    top_value_N, top_index_N = top_NH.max(dim=-1)
    return ((latents_NH[:, main] < EPS).all(-1) & (cos_H[top_index_N] >= FULL_ABSORPTION_PROBE_COS_THRESHOLD)
            & (probe_proj_N >= 0)
            & (top_value_N / probe_proj_N >= ABSORPTION_PROBE_PROJECTION_PROPORTION_THRESHOLD))
