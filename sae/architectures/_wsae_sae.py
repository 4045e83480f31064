"""SAELens classes of the WSAE: SAELens's standard (ReLU + L1) or TopK SAE trained on the γ-weighted error."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from sae_lens.saes.standard_sae import StandardSAE, StandardSAEConfig, StandardTrainingSAE, \
    StandardTrainingSAEConfig

from sae.wsae.weights import dimension_weights, variance_score, weighted_mse


class WeightedReconstruction:
    """γ comes from the per-dimension variances of the first `score_batches` batches, then stays fixed.

    Mixed into a SAELens TrainingSAE before it: SAELens sums `mse_loss_fn` over dimensions and averages
    over inputs, so the reconstruction loss becomes mean_n Σ_i γ_i (x_ni − x̂_ni)²; the other losses
    (L1, TopK auxiliary) are the base class's.
    """

    def __init__(self, cfg, use_error_term: bool = False):
        super().__init__(cfg, use_error_term)
        self._init_weights(cfg.d_in)

    def _init_weights(self, d_in: int) -> None:
        self.register_buffer("score_sum", torch.zeros(d_in, device=self.device), persistent=False)
        self.score_batches_seen = 0
        self.gamma = torch.ones(d_in, device=self.device)
        self.mse_loss_fn = lambda preds, target: weighted_mse(self.gamma)(preds, target)

    def training_forward_pass(self, step_input):
        if self.score_batches_seen < self.cfg.score_batches:
            self.score_sum += variance_score(step_input.sae_in.detach()).to(self.score_sum)
            self.score_batches_seen += 1
            self.gamma = dimension_weights(self.score_sum / self.score_batches_seen, self.cfg.alpha).to(self.score_sum)
        return super().training_forward_pass(step_input)


@dataclass
class WSAETrainingSAEConfig(StandardTrainingSAEConfig):
    alpha: float = 0.5
    score_batches: int = 10

    @classmethod
    def architecture(cls) -> str:
        return "wsae"


class WSAETrainingSAE(WeightedReconstruction, StandardTrainingSAE):
    pass


# inference: a trained WSAE is a standard SAE (its cfg.json says "standard")
SAE_LENS_CLASSES = {"inference": (StandardSAE, StandardSAEConfig),
                    "training": (WSAETrainingSAE, WSAETrainingSAEConfig)}
