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

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

from pydantic import Field

from sae import layout
from sae.options import Strict
from sae.registry import AppliesTo, applies, discover, implementation


class MetricConfig(Strict):
    enabled: bool = Field(True, description="Compute this diagnostic.")

    def check_experiment(self, experiment: Any) -> None:
        """Raise ValueError when the setting cannot work for `experiment` (no I/O)."""


@dataclass(frozen=True)
class Continuation:
    """A trained SAE trained further from its weights (a warm start) that a per-SAE metric reads beside it."""

    variant: str  # its folder: sae.layout.CONTINUED_FOLDER
    extend_by: int  # new latents
    samples: int


@dataclass(frozen=True)
class SharedInput:
    """Data a per-experiment evaluation reads, built once per `identity` by the builder `kind`
    (`sae.jobs.shared_input.BUILDERS`) and shared by every SAE and experiment that declares the same."""

    kind: str
    identity: Mapping[str, Any] = field(compare=False)  # what it is a function of: its name hashes it
    params: Mapping[str, Any] = field(compare=False)  # what the builder needs, as JSON
    device: str = "cpu"

    @property
    def name(self) -> str:
        digest = hashlib.sha1(json.dumps(self.identity, sort_keys=True).encode()).hexdigest()[:10]
        return f"{self.kind}_{digest}"

    @property
    def manifest(self) -> str:
        return layout.SHARED_INPUT_MANIFEST.format(name=self.name)


@dataclass(frozen=True)
class MetricSpec:
    name: str
    description: str
    applies_to: AppliesTo
    scope: Literal["sae", "experiment"] = "sae"
    config: type[MetricConfig] = MetricConfig
    # cores a per-experiment evaluation job asks for (it runs a language model)
    threads: int = 1
    # (its config, a grid point, training.samples) -> the continuations of the point's SAE a per-SAE metric
    # reads beside it (`SAEContext.point_dir`); the plan trains them before the evaluation
    continuations: Callable[[Any, Any, int], list[Continuation]] | None = None
    # (the experiment's source, its config) -> {name: SharedInput}: data a per-experiment evaluation reads,
    # built once per identity by the plan and handed to `main.prepare` as `lm.inputs[name]`
    shared_inputs: Callable[[Any, Any], dict[str, SharedInput]] | None = None
    # False: `prepare` reads only its shared inputs, so the job skips loading the language model
    needs_model: bool = True


METRICS: dict[str, MetricSpec] = discover(__name__, folders=True)


def enabled(experiment: Any, scope: str) -> list[MetricSpec]:
    """The diagnostics of `scope` that run on `experiment`: applicable to its source and switched on."""
    return [spec for spec in METRICS.values()
            if spec.scope == scope and applies(spec.applies_to, experiment.source.kind)
            and getattr(experiment.metrics, spec.name).enabled]


def code(name: str) -> ModuleType:
    return implementation(__name__, name)
