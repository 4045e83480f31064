"""Registry of figures: one folder per figure, `spec.py` (declaration), `main.py` (drawing), `caption.rst`.

A figure declares where it applies and which of the experiment's outputs it reads
(`FigureInput`); the workflow derives one rule per figure, `rule all`, and the report
captions from the registry. A study-scope figure (`scope="study"`) is drawn once per study,
from the sweep tables of every experiment it applies to (e.g. one curve point per experiment
when the experiments differ in their source). `main.draw(data: FigureData) -> matplotlib Figure` draws it
from tables and exported tensors, never from SAE weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from sae.registry import AppliesTo, applies, discover, implementation

# sweep: sweep.csv rows; recommendation: recommendation.json (it carries the true L0);
# ground_truth: the toy ground-truth SAE's metrics per L0; tensors: every SAE's exported tensors
FigureInput = Literal["sweep", "recommendation", "ground_truth", "tensors"]


@dataclass(frozen=True)
class FigureSpec:
    name: str
    applies_to: AppliesTo
    inputs: tuple[FigureInput, ...]
    # (experiment config) -> whether the experiment has what the figure shows (e.g. a swept option)
    when: Callable[[Any], bool] | None = None
    # "study": one figure over every experiment it applies to; it reads their sweep tables (inputs ("sweep",))
    scope: Literal["experiment", "study"] = "experiment"

    def __post_init__(self) -> None:
        if self.scope == "study" and self.inputs != ("sweep",):
            raise ValueError(f"figure {self.name}: a study-scope figure reads the sweep tables only")


def draws_for(spec: FigureSpec, experiment: Any) -> bool:
    """Whether `spec` is drawn for `experiment` (its validated config): source kind, then the figure's own test."""
    return applies(spec.applies_to, experiment.source.kind) and (spec.when is None or spec.when(experiment))


@dataclass
class FigureData:
    """The inputs a figure declared, read; the others stay empty."""

    experiment: str  # "" for a study-scope figure, whose rows carry their experiment
    rows: list[dict[str, Any]]
    recommendation: list[dict[str, Any]]
    ground_truth: list[dict[str, Any]]
    tensors: list[tuple[Any, Path]]  # (GridPoint, its tensors.safetensors), every SAE of the experiment

    @property
    def true_l0(self) -> float | None:
        return self.recommendation[0]["true_l0"] if self.recommendation else None


FIGURES: dict[str, FigureSpec] = discover(__name__, folders=True)


def code(name: str) -> ModuleType:
    return implementation(__name__, name)


def caption(name: str) -> Path:
    return Path(__file__).parent / name / "caption.rst"
