"""Registry of diagnostics: one folder per diagnostic family, `spec.py` (declaration) beside `main.py` (code).

Two scopes. A per-SAE metric (`scope="sae"`) is computed by `sae.evaluate` for every SAE
its source kind allows: `main.compute(ctx, config) -> dict[str, float]`, a pure function
of the SAE and the held-out data in `ctx` (`sae.evaluate.SAEContext`), and optionally
`main.tensors(ctx, config) -> dict[str, Tensor]` for figures that need more than numbers.
A per-experiment evaluation (`scope="experiment"`, LLM sources) runs once per experiment
with the language model loaded once (`sae.llm_eval`): `main.prepare(lm, config)` builds
what every SAE shares, `main.compute(prepared, sae) -> dict[str, float]` scores one SAE.
Each declares its config sub-model (with an `enabled` switch), which appears in the
study config as `metrics.<name>`; the sweep table merges whatever the enabled ones return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from pydantic import Field

from sae.options import Strict
from sae.registry import AppliesTo, applies, discover, implementation


class MetricConfig(Strict):
    enabled: bool = Field(True, description="Compute this diagnostic.")

    def check_experiment(self, experiment: Any) -> None:
        """Raise ValueError when the setting cannot work for `experiment` (no I/O)."""


@dataclass(frozen=True)
class MetricSpec:
    name: str
    description: str
    applies_to: AppliesTo
    scope: Literal["sae", "experiment"] = "sae"
    config: type[MetricConfig] = MetricConfig
    # cores a per-experiment evaluation job asks for (it runs a language model)
    threads: int = 1
    # (its config) -> sae.layout patterns of a grid point, beside its SAE, that a per-SAE metric reads
    # (`SAEContext.point_dir`); the evaluation job waits for them
    point_inputs: Callable[[Any], list[str]] | None = None
    # outputs of data rules a per-experiment evaluation reads (names known to the workflow's
    # `evaluation_reads`), handed to `main.prepare` as `lm.inputs[name]`
    reads: tuple[str, ...] = ()
    # False: `prepare` reads only `reads` files, so the job skips loading the language model
    needs_model: bool = True


METRICS: dict[str, MetricSpec] = discover(__name__, folders=True)


def enabled(experiment: Any, scope: str) -> list[MetricSpec]:
    """The diagnostics of `scope` that run on `experiment`: applicable to its source and switched on."""
    return [spec for spec in METRICS.values()
            if spec.scope == scope and applies(spec.applies_to, experiment.source.kind)
            and getattr(experiment.metrics, spec.name).enabled]


def point_inputs(experiment: Any) -> list[str]:
    """The per-point patterns every enabled per-SAE metric of `experiment` reads beside the SAE."""
    return [pattern for spec in enabled(experiment, "sae") if spec.point_inputs is not None
            for pattern in spec.point_inputs(getattr(experiment.metrics, spec.name))]


def code(name: str) -> ModuleType:
    return implementation(__name__, name)
