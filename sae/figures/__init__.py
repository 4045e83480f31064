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
from dataclasses import dataclass, field
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
    # the diagnostics (sae.metrics names) whose numbers it draws: with any of them disabled it has nothing
    # to show, and a blank placeholder reads as a finding ("no letter passed the gate"), so it is not drawn
    metrics: tuple[str, ...] = ()
    # a study-scope figure: (the experiment configs it would draw) -> whether they hold what it compares
    together: Callable[[list[Any]], bool] | None = None
    # drawn for audits (`saes:`) instead of trained grids: an audit has no grid L0s, which the others plot against
    for_audits: bool = False

    def __post_init__(self) -> None:
        if self.scope == "study" and self.inputs != ("sweep",):
            raise ValueError(f"figure {self.name}: a study-scope figure reads the sweep tables only")


def draws_for(spec: FigureSpec, experiment: Any) -> bool:
    """Whether `spec` is drawn for `experiment` (its validated config): source kind, its metrics enabled, then the
    figure's own test."""
    return (spec.for_audits == experiment.is_audit and applies(spec.applies_to, experiment.source.kind)
            and all(getattr(experiment.metrics, m).enabled for m in spec.metrics)
            and (spec.when is None or spec.when(experiment)))


def study_figure_experiments(spec: FigureSpec, experiments: dict[str, Any]) -> list[str]:
    """The experiments (name -> config) a study-scope figure draws; none where together they lack what it compares."""
    names = [n for n, e in experiments.items() if draws_for(spec, e)]
    return names if names and (spec.together is None or spec.together([experiments[n] for n in names])) else []


@dataclass
class FigureData:
    """The inputs a figure declared, read; the others stay empty."""

    experiment: str  # "" for a study-scope figure, whose rows carry their experiment
    rows: list[dict[str, Any]]
    recommendation: list[dict[str, Any]]
    ground_truth: list[dict[str, Any]]
    tensors: list[tuple[Any, Path]]  # (GridPoint, its tensors.safetensors), every SAE of the experiment
    # architecture -> its options as the experiment fixed them (architectures.<name>, defaults included): the
    # rows carry swept options only, and a figure about an option (λ_AFA) must find it where it is not swept
    fixed_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def option(self, row: dict[str, Any], name: str) -> Any:
        """A row's value of option `name`: swept (its column) or fixed by the experiment."""
        swept = row.get(f"option.{name}")
        return swept if swept is not None else self.fixed_options.get(row["architecture"], {}).get(name)

    @property
    def true_l0(self) -> float | None:
        return self.recommendation[0]["true_l0"] if self.recommendation else None


FIGURES: dict[str, FigureSpec] = discover(__name__, folders=True)


def fixed_options(experiment: Any) -> dict[str, dict[str, Any]]:
    """`FigureData.fixed_options` of an experiment (its validated config): its architectures' options."""
    return {arch: getattr(experiment.architectures, arch).model_dump(mode="json")
            for arch in (experiment.grid.architecture if experiment.grid else ()) if hasattr(experiment.architectures, arch)}


def code(name: str) -> ModuleType:
    return implementation(__name__, name)


def caption(name: str) -> Path:
    return Path(__file__).parent / name / "caption.rst"
