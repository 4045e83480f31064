from pydantic import Field, PositiveInt

from sae.metrics import MetricConfig, MetricSpec


class SpliceConfig(MetricConfig):
    contexts: PositiveInt = Field(
        8, description="Held-out contexts on which an LLM SAE is spliced into the model (CE-loss increase, KL)."
    )


SPEC = MetricSpec(
    name="splice_costs",
    description="Next-token CE-loss increase and KL to the clean model with the SAE spliced in",
    applies_to="llm",
    scope="experiment",
    config=SpliceConfig,
    threads=2,
)
