"""Registry of figures: one folder per figure, `spec.py` (declaration), `main.py` (drawing), `caption.rst`.

A figure declares where it applies and which of the experiment's outputs it reads
(`FigureInput`); the workflow derives one rule per figure, `rule all`, and the report
captions from the registry. `main.draw(data: FigureData) -> matplotlib Figure` draws it
from tables and exported tensors, never from SAE weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from sae.registry import AppliesTo, discover, implementation

# sweep: sweep.csv rows; recommendation: recommendation.json (it carries the true L0);
# ground_truth: the toy ground-truth SAE's metrics per L0; tensors: every SAE's exported tensors
FigureInput = Literal["sweep", "recommendation", "ground_truth", "tensors"]


@dataclass(frozen=True)
class FigureSpec:
    name: str
    applies_to: AppliesTo
    inputs: tuple[FigureInput, ...]


@dataclass
class FigureData:
    """The inputs a figure declared, read; the others stay empty."""

    experiment: str
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
