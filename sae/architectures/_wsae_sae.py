"""SAELens classes of the WSAE: SAELens's standard SAE trained on the γ-weighted reconstruction error."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from sae_lens.saes.standard_sae import StandardSAE, StandardSAEConfig, StandardTrainingSAE, \
    StandardTrainingSAEConfig

from sae.wsae.weights import dimension_weights, variance_score, weighted_mse


@dataclass
class WSAETrainingSAEConfig(StandardTrainingSAEConfig):
    alpha: float = 0.5
    score_batches: int = 10

    @classmethod
    def architecture(cls) -> str:
        return "wsae"


class WSAETrainingSAE(StandardTrainingSAE):
    """γ comes from the per-dimension variances of the first `score_batches` batches, then stays fixed."""

    def __init__(self, cfg: WSAETrainingSAEConfig, use_error_term: bool = False):
        super().__init__(cfg, use_error_term)
        self.register_buffer("score_sum", torch.zeros(cfg.d_in, device=self.device), persistent=False)
        self.score_batches_seen = 0
        self.gamma = torch.ones(cfg.d_in, device=self.device)
        self.mse_loss_fn = lambda preds, target: weighted_mse(self.gamma)(preds, target)

    def training_forward_pass(self, step_input):
        if self.score_batches_seen < self.cfg.score_batches:
            self.score_sum += variance_score(step_input.sae_in.detach()).to(self.score_sum)
            self.score_batches_seen += 1
            self.gamma = dimension_weights(self.score_sum / self.score_batches_seen, self.cfg.alpha).to(self.score_sum)
        return super().training_forward_pass(step_input)


# inference: a trained WSAE is a standard SAE (its cfg.json says "standard")
SAE_LENS_CLASSES = {"inference": (StandardSAE, StandardSAEConfig),
                    "training": (WSAETrainingSAE, WSAETrainingSAEConfig)}
