"""TopK (Gao et al. 2024): each input keeps its k largest pre-activations."""

from sae.architectures import ArchitectureSpec

SPEC = ArchitectureSpec(
    name="topk",
    l0_meaning="k per input (integer)",
    sae_lens_fields=lambda width, l0, options: {"k": int(l0)},
    integer_l0=True,
    fusable=True,
)
