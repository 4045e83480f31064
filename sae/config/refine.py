"""`refine`: after the coarse grid, add L0 values and seeds inside the recommended interval, round by round."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt

from sae.options import Strict

Spacing = Literal["log", "linear"]


class RefineConfig(Strict):
    rounds: PositiveInt = Field(1, description="Rounds of refinement; each recommends again from every point so far.")
    points: PositiveInt = Field(
        2, description="New L0 values per round inside the interval, each at the midpoint of the widest gap of the "
        "grid there (nearest the recommendation among equal ones).")
    spacing: Spacing = Field(
        "log", description="How gaps are measured and halved: 'log' in log L0 at the geometric mean (fits grids "
        "such as 2, 4, 8, 16, 32), 'linear' in L0 at the arithmetic mean.")
    seeds: list[NonNegativeInt] | None = Field(
        None, description="Seeds every L0 inside the interval gets (new and existing L0s); default: the grid's seeds.")
    samples: PositiveInt | None = Field(
        None, description="Training samples of each added SAE; default: the experiment's training.samples.")
