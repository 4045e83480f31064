"""The standard ReLU SAE with an L1 penalty, its coefficient steered towards a target L0.

SAELens has no target-L0 knob for L1 SAEs; a multiplicative controller on the
coefficient makes the grid's `l0` mean the same thing for every architecture.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, PositiveFloat

from sae.architectures import ArchitectureSpec
from sae.options import Strict


class StandardOptions(Strict):
    l1_init: PositiveFloat = Field(1.0, description="Initial L1 coefficient; the controller moves it from there.")


class L1Controller:
    """After every step, scale the L1 coefficient by (L0 / target)^gain, at most 10% a step."""

    gain = 0.02

    def __init__(self, trainer: Any, target: float, options: Any = None):
        self.scheduler = trainer.coefficient_schedulers["l1"]
        self.target = target

    def update(self, out: Any) -> None:
        l0 = (out.feature_acts != 0).sum(-1).float().mean().item()
        factor = math.exp(self.gain * math.log(max(l0, 1e-3) / self.target))
        self.scheduler.final_value *= min(max(factor, 0.9), 1.1)
        self.scheduler.current_value = self.scheduler.final_value


SPEC = ArchitectureSpec(
    name="standard",
    l0_meaning="the target of a multiplicative controller on the L1 coefficient (SAELens has no L0 knob for L1 SAEs)",
    sae_lens_fields=lambda width, l0, options: {"l1_coefficient": options.l1_init},
    options=StandardOptions,
    training_callback=L1Controller,
)
