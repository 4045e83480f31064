from sae.metrics import MetricSpec

SPEC = MetricSpec(
    name="hierarchy",
    description="On a toy with parent/child features: the parent latent's decoder and encoder cosine with each "
    "child (positive: hedging, negative: absorption) and the child latents' decoder cosine with the parent, "
    "Feature Hedging sec. 3-5",
    applies_to="toy",
)
