"""Where a training run's weights start, when not from SAELens's random initialisation.

`TrueFeatures`: a toy's true features (the Feature Hedging notebooks initialise their toy SAEs
so, `init_sae_to_match_model(noise_level=0)`, to study where training moves them).
`WarmStart`: a trained SAE, continued as is or extended with new latents.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

# Feature Hedging, `hedging_paper/saes/base_sae.py:extend_sae`: new latents start at norm 0.1
NEW_LATENT_NORM = 0.1
# How new latents start (see `new_latent_weights`): "paper_selection" (default) selects them on the paper's
# value; "paper_weights" copies the paper's weights, which SAELens's rescaled selection sees 10x smaller
NewLatentInit = Literal["paper_selection", "paper_weights"]


def new_latent_weights(g_KD: torch.Tensor, init: NewLatentInit, rescaled: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(encoder columns [D, K], decoder rows [K, D]) of K new latents from random directions g.

    The paper's `extend_sae` sets both to 0.1·ĝ, and its `BatchTopkSAE` selects latents on the
    pre-activation itself: 0.1·x·ĝ. A SAELens TopK/BatchTopK SAE with `rescale_acts_by_decoder_norm`
    (its default) selects on pre-activation·‖W_dec,i‖, so the same weights are selected on 0.01·x·ĝ
    and fire far less often. "paper_selection" keeps the paper's encoder column 0.1·ĝ (the same
    pre-activation) with a unit decoder row ĝ, so the selected value is the paper's 0.1·x·ĝ;
    without rescaling (or with "paper_weights") both are the paper's 0.1·ĝ.
    """
    unit_KD = g_KD / g_KD.norm(dim=-1, keepdim=True)
    encoder_DK = (NEW_LATENT_NORM * unit_KD).T
    if init == "paper_selection" and rescaled:
        return encoder_DK, unit_KD
    return encoder_DK, NEW_LATENT_NORM * unit_KD


@dataclass(frozen=True, eq=False)
class TrueFeatures:
    """Decoder rows = the first `width` true features, encoder = their transpose, biases zero."""

    features_FD: torch.Tensor

    @torch.no_grad()
    def apply(self, sae: Any) -> None:
        width = sae.W_dec.shape[0]
        if width > self.features_FD.shape[0]:
            raise ValueError(f"width {width} exceeds the toy's {self.features_FD.shape[0]} true features")
        features = self.features_FD[:width].to(sae.W_dec)
        sae.W_dec.copy_(features)
        sae.W_enc.copy_(features.T)
        sae.b_enc.zero_()
        sae.b_dec.zero_()


@dataclass(frozen=True)
class WarmStart:
    """The weights of the trained SAE in `directory` (SAELens inference format), then `extend_by` new latents.

    New latent j gets encoder column 0.1 * g_j / |g_j| with g_j ~ N(0, I) from `seed`, encoder
    bias 0 and decoder row per `new_latent_init` (`new_latent_weights`; Feature Hedging,
    `base_sae.py:extend_sae`), so at step 0 every old latent's pre-activation and decoder row are
    those of the trained SAE.
    """

    directory: Path
    extend_by: int = 0
    seed: int = 0
    # the saved SAE takes raw activations; a run on activations scaled by this needs it unfolded
    activation_scale: float = 1.0
    new_latent_init: NewLatentInit = "paper_selection"

    @torch.no_grad()
    def apply(self, sae: Any) -> None:
        from sae.architectures import load_sae

        trained = load_sae(self.directory, device=str(sae.W_dec.device))
        if self.activation_scale != 1.0:
            trained.fold_activation_norm_scaling_factor(1 / self.activation_scale)
        old = trained.cfg.d_sae
        if sae.cfg.d_sae != old + self.extend_by:
            raise ValueError(f"warm start: the new SAE has {sae.cfg.d_sae} latents, expected {old} + {self.extend_by}")
        g_KD = torch.randn(self.extend_by, sae.cfg.d_in, generator=torch.Generator().manual_seed(self.seed))
        rescaled = bool(getattr(sae.cfg, "rescale_acts_by_decoder_norm", False))
        enc_DK, dec_KD = new_latent_weights(g_KD, self.new_latent_init, rescaled)
        sae.W_dec.copy_(torch.cat([trained.W_dec, dec_KD.to(sae.W_dec)]))
        sae.W_enc.copy_(torch.cat([trained.W_enc, enc_DK.to(sae.W_enc)], dim=1))
        sae.b_enc.copy_(torch.cat([trained.b_enc, torch.zeros(self.extend_by).to(sae.b_enc)]))
        sae.b_dec.copy_(trained.b_dec)
        if hasattr(sae, "topk_threshold") and hasattr(trained, "threshold"):
            # a BatchTopK SAE is saved as JumpReLU with its running threshold in every latent
            sae.topk_threshold.fill_(trained.threshold[0].item())
