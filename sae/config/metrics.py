"""How each SAE is evaluated: the held-out data, and one section per registered diagnostic (`sae.metrics`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt, create_model

from sae.metrics import METRICS
from sae.options import Strict


class _HeldOut(Strict):
    eval_batches: PositiveInt = Field(8, description="Held-out batches: s_n_dec is averaged over them, the rest is computed on all.")
    eval_batch_size: PositiveInt = Field(4096, description="Inputs per held-out batch (b of s_n_dec).")
    eval_seed: int = Field(12345, description="Seed of the held-out data, shared by every SAE of an experiment.")


def _metrics_model() -> type[Strict]:
    sections: dict[str, Any] = {
        name: (spec.config, Field(default_factory=spec.config,
                                  description=f"{spec.description} ({spec.scope} scope, {spec.applies_to} sources)."))
        for name, spec in METRICS.items()
    }
    return create_model("MetricsConfig", __base__=_HeldOut, **sections)


MetricsConfig = _metrics_model()
