"""The grid: architectures x widths x L0s x seeds, and architecture options swept as further axes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, create_model, field_validator, \
    model_validator

from sae import layout
from sae.architectures import ARCHITECTURES
from sae.options import Strict

Architecture = Literal[tuple(ARCHITECTURES)]  # type: ignore[valid-type]


def _sweep_model() -> type[Strict]:
    """`grid.sweep`: per architecture, per option of its own, the values to sweep."""
    fields: dict[str, Any] = {}
    for name, spec in ARCHITECTURES.items():
        options = {
            option: (list[info.annotation] | None,  # type: ignore[name-defined]
                     Field(None, min_length=1, description=f"Values to sweep: {info.description}"))
            for option, info in spec.options.model_fields.items()
        }
        if options:
            model = create_model(f"{spec.options.__name__}Sweep", __base__=Strict, **options)
            fields[name] = (model | None, Field(None, description=f"Axes over {name}'s options."))
    return create_model("Sweep", __base__=Strict, **fields)


Sweep = _sweep_model()


class GridConfig(Strict):
    """The product of these lists is the set of SAEs to train; each point is one training job."""

    architecture: list[Architecture] = Field(  # type: ignore[valid-type]
        min_length=1, description=f"SAE architectures: {sorted(ARCHITECTURES)}.")
    width: list[PositiveInt] = Field(min_length=1, description="Number of latents (d_sae).")
    l0: list[PositiveFloat] | None = Field(
        None, min_length=1,
        description="Target L0 of the architectures that take one: "
        + "; ".join(f"{name}: {spec.l0_meaning}" for name, spec in ARCHITECTURES.items() if spec.takes_l0) + ".",
    )
    seed: list[int] = Field([0], min_length=1, description="Seeds; a seed fixes both the SAE init and its data stream.")
    sweep: Sweep = Field(Sweep(), description="Architecture options swept as further grid axes "  # type: ignore[valid-type]
                         "(shown in output paths, MLflow parameters and the sweep table).")

    @field_validator("width", "l0", "seed")
    @classmethod
    def _unique(cls, values: list[Any] | None) -> list[Any] | None:
        if values is not None and len(set(values)) != len(values):
            raise ValueError(f"duplicate values {values}")
        return values

    @model_validator(mode="after")
    def _l0_fits_the_architectures(self) -> GridConfig:
        takes = [a for a in self.architecture if ARCHITECTURES[a].takes_l0]
        if takes and self.l0 is None:
            raise ValueError(f"l0 is required for architectures {takes}")
        if not takes and self.l0 is not None:
            raise ValueError(f"architectures {self.architecture} choose their own L0: leave out l0")
        fractional = [v for v in self.l0 or [] if not float(v).is_integer()]
        needs_int = [a for a in takes if ARCHITECTURES[a].integer_l0]
        if fractional and needs_int:
            raise ValueError(f"architectures {needs_int} need an integer l0, got {fractional}")
        too_wide = [(v, w) for v in self.l0 or [] for w in self.width if v > w]
        if too_wide:
            raise ValueError(f"l0 must not exceed width, got (l0, width) pairs {too_wide}")
        return self

    @model_validator(mode="after")
    def _sweep_known_architectures(self) -> GridConfig:
        for name in self.swept_architectures():
            if name not in self.architecture:
                raise ValueError(f"sweep.{name}: {name} is not in the grid's architectures")
            options = ARCHITECTURES[name].options
            for option, values in self.axes(name).items():
                for value in values:
                    options.model_validate({option: value})  # a bad value raises, naming the option
        return self

    def swept_architectures(self) -> list[str]:
        return [name for name in type(self.sweep).model_fields if getattr(self.sweep, name) is not None]

    def axes(self, architecture: str) -> dict[str, list[Any]]:
        """option -> values swept for `architecture` (empty when none)."""
        swept = getattr(self.sweep, architecture, None)
        return {} if swept is None else {k: v for k, v in swept.model_dump().items() if v is not None}


class GridPoint(BaseModel):
    """One SAE of the grid; `options` holds the values of the swept architecture options only."""

    model_config = ConfigDict(frozen=True)
    experiment: str
    architecture: str  # one of the registry's: GridConfig validated it
    width: int
    l0: float | None
    seed: int
    options: dict[str, Any] = {}
    # an audited SAE's name (sae.audit): its architecture and width are read from its files by the import job
    sae: str | None = None

    @property
    def path(self) -> str:
        """The point's folder below its experiment's."""
        if self.sae is not None:
            return layout.audited_point_path(self.sae)
        return layout.point_path(self.architecture, self.width, self.l0, self.seed, self.options)

    @property
    def key(self) -> str:
        return f"{self.experiment}/{self.path}"

    @property
    def l0_label(self) -> str:
        return "auto" if self.l0 is None else layout.format_number(self.l0)

    def __hash__(self) -> int:
        return hash(self.key)


def experiment_points(name: str, grid: GridConfig) -> Iterator[GridPoint]:
    """Every point of one experiment's grid, in config order (architecture, width, swept options, L0, seed)."""
    for arch in grid.architecture:
        axes = grid.axes(arch)
        l0s = grid.l0 if ARCHITECTURES[arch].takes_l0 else [None]
        for width, values, l0, seed in itertools.product(grid.width, itertools.product(*axes.values()), l0s, grid.seed):
            yield GridPoint(experiment=name, architecture=arch, width=width, l0=l0, seed=seed,
                            options=dict(zip(axes, values)))
