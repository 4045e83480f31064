from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt

from sae.metrics import MetricConfig, MetricSpec


class DecoderConfig(MetricConfig):
    s_n: PositiveInt | None = Field(None, description="n of s_n_dec; default width // 2.")

    def check_experiment(self, experiment: Any) -> None:
        # an audit's widths are known once its SAEs are read: its import job checks them
        if self.s_n is not None and experiment.grid is not None and self.s_n >= min(experiment.grid.width):
            raise ValueError(f"metrics.decoder.s_n={self.s_n} must be smaller than every width")

    def resolved_s_n(self, width: int) -> int:
        # Sparse-but-wrong: n < h/2, and about h/2 works best.
        return self.s_n if self.s_n is not None else max(1, width // 2)


SPEC = MetricSpec(
    name="decoder",
    description="c_dec (mean |cos| of decoder-row pairs) and s_n_dec (n*b-th largest decoder projection), "
    "Sparse but Wrong sec. 3",
    applies_to="all",
    config=DecoderConfig,
)
