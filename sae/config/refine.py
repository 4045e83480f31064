"""`refine`: after the coarse grid, add L0 values and seeds inside the recommended interval, round by round."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveInt

from sae.options import Strict


class RefineConfig(Strict):
    rounds: PositiveInt = Field(1, description="Rounds of refinement; each recommends again from every point so far.")
    points: PositiveInt = Field(
        2, description="New L0 values per round inside the interval, each at the midpoint of the widest gap of the "
        "grid there (nearest the recommendation among equal ones).")
    seeds: list[NonNegativeInt] | None = Field(
        None, description="Seeds every L0 inside the interval gets (new and existing L0s); default: the grid's seeds.")
    samples: PositiveInt | None = Field(
        None, description="Training samples of each added SAE; default: the experiment's training.samples.")
