from sae.metrics import MetricSpec

SPEC = MetricSpec(
    name="ground_truth",
    description="MCC and recovered features against a toy model's true features; the decoder-vs-feature cosines",
    applies_to="toy",
)
