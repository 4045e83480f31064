"""Balanced Matryoshka BatchTopK (Chanin et al. 2025, "Feature Hedging"): inner prefix losses weighted by beta."""

from pydantic import Field

from sae.architectures import ArchitectureSpec
from sae.architectures.matryoshka_batchtopk import MatryoshkaOptions, matryoshka_widths


class BalancedMatryoshkaOptions(MatryoshkaOptions):
    beta: float = Field(
        0.25, ge=0,
        description="Inner prefix losses weighted beta^m, ..., beta (innermost first), the full width 1: "
        "0 is plain BatchTopK, 1 plain Matryoshka; 0.25 balances hedging and absorption in the paper's toy.")


SPEC = ArchitectureSpec(
    name="balanced_matryoshka",
    l0_meaning="k, the mean number of active latents over a batch (fractional allowed)",
    sae_lens_fields=lambda width, l0, options: {
        "k": float(l0), "matryoshka_widths": matryoshka_widths(width, options.prefixes), "beta": options.beta},
    options=BalancedMatryoshkaOptions,
    sae_lens_classes="sae.architectures._balanced_matryoshka_sae",
)
