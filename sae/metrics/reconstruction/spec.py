from sae.metrics import MetricSpec

SPEC = MetricSpec(
    name="reconstruction",
    description="Measured L0, dead latents, MSE and variance explained on held-out activations, centred "
    "(`variance_explained`, as SAELens and SAEBench) and uncentred (`variance_explained_uncentred`, as Sparse but Wrong)",
    applies_to="all",
)
