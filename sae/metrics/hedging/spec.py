from __future__ import annotations

from pydantic import Field, PositiveInt

from sae.metrics import Continuation, MetricConfig, MetricSpec

# Feature Hedging, `hedging_paper/evals/hedging_eval.py`: N = 64 new latents, 50 random baselines
PAPER_NEW_LATENTS, PAPER_BASELINES = 64, 50


class HedgingConfig(MetricConfig):
    enabled: bool = Field(
        False, description="Train two continuations of every SAE (a control, and one extended with new latents) "
        "and measure how much the old latents move into the new ones' span.")
    new_latents: PositiveInt = Field(
        PAPER_NEW_LATENTS, description="N, latents added to the extended copy (at most the SAE's width).")
    baselines: PositiveInt = Field(PAPER_BASELINES, description="Random subspaces averaged into p_base.")
    samples: PositiveInt | None = Field(
        None, description="Samples each continuation trains; default the original's (training.samples).")

    def extend_by(self, width: int) -> int:
        # fewer new latents than N for narrow SAEs, so the new span stays small beside the old one (ours)
        return min(self.new_latents, width)


VARIANTS = ("control", "extended")


SPEC = MetricSpec(
    name="hedging",
    description="Hedging degree h = max(0, (p - p_base) / (1 - p_base)) from a control and an extended "
    "continuation of the SAE, Feature Hedging sec. 4 (off by default: it trains two more SAEs per point)",
    applies_to="all",
    config=HedgingConfig,
    continuations=lambda config, point, samples: [
        Continuation(variant, config.extend_by(point.width) if variant == "extended" else 0, config.samples or samples)
        for variant in VARIANTS],
)
