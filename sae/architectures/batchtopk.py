"""BatchTopK (Bussmann et al. 2024): the k * B largest activations of a batch, a threshold at inference."""

from sae.architectures import ArchitectureSpec

SPEC = ArchitectureSpec(
    name="batchtopk",
    l0_meaning="k, the mean number of active latents over a batch (fractional allowed)",
    sae_lens_fields=lambda width, l0, options: {"k": float(l0)},
    fusable=True,
)
