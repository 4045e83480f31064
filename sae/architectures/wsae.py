"""The weighted SAE (WSAE, Cui et al. 2025, arXiv 2506.15963): a ReLU + L1 SAE whose reconstruction error
is weighted per input dimension, Σ_i γ_i (x_i − x̂_i)², γ_i = s_i^α normalised to mean 1.

In the grid, s_i is the data proxy of `sae.wsae.weights.variance_score` (smallest per-dimension
variance over dimension i's), estimated from the SAE's first `score_batches` training batches
(ours: the training jobs see the source only through its batches). The L1 coefficient is steered
to the grid's `l0` as for `standard`. The SAELens classes live in `sae.architectures._wsae_sae`;
a trained WSAE is saved and loaded as a SAELens `standard` SAE (γ only shapes training).
Its TopK form is `wsae_topk`.
"""

from __future__ import annotations

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt

from sae.architectures import ArchitectureSpec
from sae.architectures.standard import L1Controller
from sae.options import Strict


class WeightOptions(Strict):
    """The weighting, shared with `wsae_topk`."""

    alpha: NonNegativeFloat = Field(0.5, description="Exponent α of γ_i = s_i^α (0: the plain SAE); sweep it, "
                                    "e.g. [0, 0.5, 1].")
    score_batches: PositiveInt = Field(10, description="Training batches whose per-dimension variances give s_i.")


class WSAEOptions(WeightOptions):
    l1_init: PositiveFloat = Field(1.0, description="Initial L1 coefficient; the controller moves it from there.")


SPEC = ArchitectureSpec(
    name="wsae",
    l0_meaning="the target of the L1 controller, as for `standard`",
    sae_lens_fields=lambda width, l0, options: {
        "l1_coefficient": options.l1_init, "alpha": options.alpha, "score_batches": options.score_batches},
    options=WSAEOptions,
    sae_lens_classes="sae.architectures._wsae_sae",
    training_callback=L1Controller,
)
