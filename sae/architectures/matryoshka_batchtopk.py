"""Matryoshka BatchTopK (Bussmann et al. 2025): nested prefixes of the latents each reconstruct the input."""

from typing import Annotated

from pydantic import Field

from sae.architectures import ArchitectureSpec
from sae.options import Strict


class MatryoshkaOptions(Strict):
    prefixes: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        [0.25, 0.5], description="Inner Matryoshka prefix sizes as fractions of the width."
    )


def matryoshka_widths(width: int, prefixes: list[float]) -> list[int]:
    """SAELens's `matryoshka_widths`: the inner prefix sizes in latents, then the full width."""
    inner = sorted({max(1, round(width * p)) for p in prefixes if round(width * p) < width})
    return [*inner, width]


SPEC = ArchitectureSpec(
    name="matryoshka_batchtopk",
    l0_meaning="k, the mean number of active latents over a batch (fractional allowed)",
    sae_lens_fields=lambda width, l0, options: {
        "k": float(l0), "matryoshka_widths": matryoshka_widths(width, options.prefixes)},
    options=MatryoshkaOptions,
)
