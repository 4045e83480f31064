from __future__ import annotations

from pydantic import Field, PositiveInt

from sae.metrics import MetricConfig, MetricSpec


class QuasiOrthogonalityConfig(MetricConfig):
    zf_points: PositiveInt = Field(2000, description="Held-out inputs whose (‖z‖, ‖f̃‖) the ZF plot draws.")


SPEC = MetricSpec(
    name="quasi_orthogonality",
    description="ε_LBO (mean, median over the held-out inputs that are not exactly zero; their number) and normalised MSE; per-input ‖z‖ and ‖f̃‖ for the "
    "ZF plot (Lee et al. 2025, arXiv 2503.24277)",
    applies_to="all",
    config=QuasiOrthogonalityConfig,
)
