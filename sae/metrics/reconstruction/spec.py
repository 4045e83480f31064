from sae.metrics import MetricSpec

SPEC = MetricSpec(
    name="reconstruction",
    description="Measured L0, dead latents, MSE and variance explained on held-out activations",
    applies_to="all",
)
