"""The weighted SAE (Cui et al. 2025) with TopK activations: SAELens's TopK SAE (Gao et al. 2024) whose
reconstruction error is weighted per input dimension, Σ_i γ_i (x_i − x̂_i)², γ_i = s_i^α normalised to mean 1.

s_i and γ as for `wsae` (`sae.architectures.wsae`); the TopK auxiliary loss on dead latents is SAELens's,
unweighted. The SAELens classes live in `sae.architectures._wsae_topk_sae`; a trained one is saved and
loaded as a SAELens `topk` SAE.
"""

from __future__ import annotations

from sae.architectures import ArchitectureSpec
from sae.architectures.wsae import WeightOptions

SPEC = ArchitectureSpec(
    name="wsae_topk",
    l0_meaning="k per input (integer), as for `topk`",
    sae_lens_fields=lambda width, l0, options: {
        "k": int(l0), "alpha": options.alpha, "score_batches": options.score_batches},
    options=WeightOptions,
    integer_l0=True,
    sae_lens_classes="sae.architectures._wsae_topk_sae",
)
