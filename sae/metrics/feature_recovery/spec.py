from __future__ import annotations

from pydantic import Field, PositiveInt

from sae.metrics import MetricConfig, MetricSpec


class FeatureRecoveryConfig(MetricConfig):
    # off unless asked for: the sbw toys' MCC (ground_truth) already says how well features are found
    enabled: bool = Field(False, description="Compute this diagnostic (the WSAE synthetic study turns it on).")
    samples: PositiveInt = Field(16384, description="Fresh draws of (true features, input) it is measured on.")
    seed: int = Field(10_000, description="Seed of those draws (the same for every SAE of the experiment).")


SPEC = MetricSpec(
    name="feature_recovery",
    description="The WSAE paper's synthetic-study metrics (Cui et al. 2025): L_GT with latents matched to true "
    "features by Hungarian assignment, L_GT of the features with an input dimension of their own, the input's "
    "reconstruction error, per-latent monosemanticity; and the toy's feature sparsity S",
    applies_to="toy",
    config=FeatureRecoveryConfig,
)
