"""How each SAE is trained."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from sae.architectures import ARCHITECTURES
from sae.options import Strict


class TrainingConfig(Strict):
    samples: PositiveInt = Field(5_000_000, description="Training samples per SAE.")
    batch_size: PositiveInt = Field(1024, description="Samples per optimizer step.")
    lr: PositiveFloat = Field(3e-4, description="Adam learning rate (constant schedule).")
    log_every: PositiveInt = Field(100, description="Steps between logged training-curve points.")
    checkpoints: int = Field(4, ge=0, description="Checkpoints written during training, for resuming after a kill.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="`auto` picks CUDA when present.")
    normalize_activations: bool = Field(
        False,
        description="Scale activations by sqrt(d_model) / mean norm while training, folded into the saved weights "
        "afterwards (SAELens `expected_average_only_in`, recorded in cfg.json); llm sources only.",
    )
    dead_feature_window: PositiveInt = Field(
        1000, description="Steps without firing after which a latent counts as dead and gets the TopK auxiliary loss."
    )
    init: Literal["random", "true_features"] = Field(
        "random",
        description="Initial weights: SAELens's random ones, or (toy sources, width <= number of features, "
        "fused_group_size 1) decoder = the first `width` true features, encoder its transpose, biases zero.",
    )
    fused_group_size: PositiveInt = Field(
        64,
        description="Grid points that share architecture, width, options and seed (hence one batch stream) train "
        "together as one stacked group of at most this many (architectures sae.fused supports: "
        + ", ".join(name for name, spec in ARCHITECTURES.items() if spec.fusable)
        + "); 1 trains every point in its own job.",
    )

    @model_validator(mode="after")
    def _enough_steps(self) -> TrainingConfig:
        if self.samples < self.batch_size:
            raise ValueError(f"samples ({self.samples}) must be at least batch_size ({self.batch_size})")
        if self.init == "true_features" and self.fused_group_size != 1:
            raise ValueError("init: true_features needs fused_group_size: 1 (the fused trainer starts at random)")
        return self
