"""JumpReLU with the quadratic L0 penalty of Gemma Scope 2, which pulls the L0 towards a target."""

from pydantic import Field, PositiveFloat

from sae.architectures import ArchitectureSpec
from sae.options import Strict


class JumpReLUOptions(Strict):
    l0_coefficient: PositiveFloat = Field(1.0, description="Coefficient of SAELens's quadratic L0 penalty.")


SPEC = ArchitectureSpec(
    name="jumprelu",
    l0_meaning="the target of SAELens's quadratic L0 penalty (Gemma Scope 2)",
    sae_lens_fields=lambda width, l0, options: {
        "jumprelu_sparsity_loss_mode": "quadratic", "target_l0": float(l0), "l0_coefficient": options.l0_coefficient},
    options=JumpReLUOptions,
)
