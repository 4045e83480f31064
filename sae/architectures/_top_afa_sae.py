"""SAELens classes of the top-AFA SAE, after the official `training/sae.py: TopAFASAE` (SewoongLee/top-afa-sae).

Encoding: x_c = x - b_dec (x standardised per input when `normalize_activations` is
`layer_norm`), a = ReLU(x_c W_enc) with no encoder bias, then the AFA selection
(`afa_keep_mask`). Training (official `get_loss_dict`): element-wise MSE in the
standardised space + a TopK auxiliary loss on latents dead for `dead_batches` batches
+ λ_AFA mean(‖a_kept‖ − ‖x‖)²; decoder rows kept at unit norm with the radial part
of their gradient removed before every optimizer step (`TopAFATrainerHooks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from sae_lens.saes.sae import SAE, SAEConfig, TrainCoefficientConfig, TrainingSAE, TrainingSAEConfig, \
    TrainStepInput, TrainStepOutput
from sae_lens.saes.topk_sae import calculate_topk_aux_acts
from torch import nn

# official training/sae.py: TopAFASAE.forward sets the last cumulative sum to 1e8 so that k* <= h
LAST_CUMULATIVE = 1e8
# rounding errors (in units of the dtype's eps times ‖x_c‖) within which two gaps count as tied: ours
TIE_ULPS = 8


@torch.no_grad()
def afa_keep_mask(acts_BH: torch.Tensor, W_dec_norm_H: torch.Tensor, x_c_norm_B: torch.Tensor) -> torch.Tensor:
    """Which latents each input keeps: its k* largest decoder-scaled activations.

    s_i = (a_i ‖W_dec,i‖)² sorted descending, C_j their cumulative sums (the last set to
    1e8), k* = argmin_j |√C_j − ‖x_c‖| + 1 (first minimum, ties by argsort), as coded.
    Ours: "first minimum" counts gaps within a few rounding errors of the minimum as ties. A
    batched cumsum rounds differently per row, so after the last true latent the sums can
    drift by an ulp and, taken literally, pick a latent whose activation is float noise.
    """
    scaled_BH = (acts_BH * W_dec_norm_H).pow(2)
    order_BH = torch.argsort(scaled_BH, dim=-1, descending=True)
    cumulative_BH = torch.cumsum(torch.gather(scaled_BH, -1, order_BH), dim=-1)
    cumulative_BH[..., -1] = LAST_CUMULATIVE
    gap_BH = (cumulative_BH.sqrt() - x_c_norm_B.unsqueeze(-1)).abs()
    rounding_B = TIE_ULPS * torch.finfo(gap_BH.dtype).eps * x_c_norm_B
    is_min_BH = gap_BH <= gap_BH.min(dim=-1).values.unsqueeze(-1) + rounding_B.unsqueeze(-1)
    k_B = is_min_BH.int().argmax(dim=-1) + 1
    rank_BH = torch.arange(acts_BH.shape[-1], device=acts_BH.device).expand_as(acts_BH)
    return torch.zeros_like(acts_BH, dtype=torch.bool).scatter_(-1, order_BH, rank_BH < k_B.unsqueeze(-1))


def _afa_encode(sae: Any, x_c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(kept activations, pre-activations) of inputs already centred by b_dec."""
    hidden_pre = sae.hook_sae_acts_pre(x_c @ sae.W_enc)
    acts = torch.relu(hidden_pre)
    keep = afa_keep_mask(acts, sae.W_dec.norm(dim=-1), x_c.norm(dim=-1))
    return sae.hook_sae_acts_post(acts * keep), hidden_pre


def _decode(sae: Any, feature_acts: torch.Tensor) -> torch.Tensor:
    out = sae.hook_sae_recons(feature_acts @ sae.W_dec + sae.b_dec)
    return sae.reshape_fn_out(sae.run_time_activation_norm_fn_out(out), sae.d_head)


@dataclass
class TopAFASAEConfig(SAEConfig):
    @classmethod
    def architecture(cls) -> str:
        return "top_afa"


class TopAFASAE(SAE[TopAFASAEConfig]):
    """Inference form: encode keeps the AFA-selected latents; decode undoes the standardisation."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return _afa_encode(self, self.process_sae_in(x))[0]

    def decode(self, feature_acts: torch.Tensor) -> torch.Tensor:
        return _decode(self, feature_acts)


@dataclass(kw_only=True)
class TopAFATrainingSAEConfig(TrainingSAEConfig):
    afa_coefficient: float = 1 / 32
    # official training/config.py: top_k_aux 512, aux_penalty 1/32, n_batches_to_dead 5
    aux_k: int = 512
    aux_coefficient: float = 1 / 32
    dead_batches: int = 5

    @classmethod
    def architecture(cls) -> str:
        return "top_afa"


class TopAFATrainingSAE(TrainingSAE[TopAFATrainingSAEConfig]):
    def __init__(self, cfg: TopAFATrainingSAEConfig, use_error_term: bool = False):
        super().__init__(cfg, use_error_term)
        # the official dead-latent counter (batches since a latent last fired); not part of the saved SAE
        self.register_buffer("batches_since_fired", torch.zeros(cfg.d_sae, device=self.device), persistent=False)

    def initialize_weights(self) -> None:
        # official BaseAutoencoder.__init__: W_enc kaiming-uniform [d_in, h], W_dec = W_enc^T with unit rows, b_dec 0
        self.b_dec = nn.Parameter(torch.zeros(self.cfg.d_in, dtype=self.dtype, device=self.device))
        W_enc = nn.init.kaiming_uniform_(torch.empty(self.cfg.d_in, self.cfg.d_sae, dtype=self.dtype, device=self.device))
        self.W_enc = nn.Parameter(W_enc)
        self.W_dec = nn.Parameter(nn.functional.normalize(W_enc.T.clone(), dim=-1).contiguous())

    def get_coefficients(self) -> dict[str, float | TrainCoefficientConfig]:
        return {}

    def encode_with_hidden_pre(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return _afa_encode(self, self.process_sae_in(x))

    def decode(self, feature_acts: torch.Tensor) -> torch.Tensor:
        return _decode(self, feature_acts)

    def calculate_aux_loss(self, step_input: TrainStepInput, feature_acts: torch.Tensor, hidden_pre: torch.Tensor,
                           sae_out: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError("top_afa computes its losses in training_forward_pass (in the standardised space)")

    def training_forward_pass(self, step_input: TrainStepInput) -> TrainStepOutput:
        x_c = self.process_sae_in(step_input.sae_in)
        x = (x_c + self.b_dec).detach()  # the (standardised) input
        feature_acts, hidden_pre = _afa_encode(self, x_c)
        recon = feature_acts @ self.W_dec + self.b_dec
        with torch.no_grad():
            fired = (feature_acts > 0).any(dim=0)
            self.batches_since_fired.add_(1).masked_fill_(fired, 0)
        losses = {
            "mse_loss": (recon - x).pow(2).mean(),  # element-wise mean, as coded
            "auxiliary_reconstruction_loss": self._aux_loss(x - recon, torch.relu(hidden_pre)),
            "afa_loss": self.cfg.afa_coefficient * (feature_acts.norm(dim=-1) - x.norm(dim=-1)).pow(2).mean(),
        }
        sae_out = self.run_time_activation_norm_fn_out(recon)
        return TrainStepOutput(sae_in=step_input.sae_in, sae_out=sae_out, feature_acts=feature_acts,
                               hidden_pre=hidden_pre, loss=sum(losses.values()), losses=losses)

    def _aux_loss(self, residual: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
        """Dead latents' top-k_aux activations reconstruct the residual (no b_dec); the residual is not detached."""
        dead = self.batches_since_fired >= self.cfg.dead_batches
        n_dead = int(dead.sum())
        if n_dead == 0:
            return residual.new_tensor(0.0)
        aux_acts = calculate_topk_aux_acts(min(self.cfg.aux_k, n_dead), acts, dead)
        return self.cfg.aux_coefficient * (aux_acts @ self.W_dec - residual).pow(2).mean()

    @torch.no_grad()
    def unit_norm_decoder_and_tangent_gradient(self) -> None:
        """Official make_decoder_weights_and_grad_unit_norm: drop the radial part of W_dec's gradient, renormalise rows."""
        W_dec = nn.functional.normalize(self.W_dec.data, dim=-1)
        if self.W_dec.grad is not None:
            self.W_dec.grad -= (self.W_dec.grad * W_dec).sum(-1, keepdim=True) * W_dec
        self.W_dec.data.copy_(W_dec)


class TopAFATrainerHooks:
    """What SAELens's trainer lacks for top-AFA: Adam betas (0.9, 0.99) and the decoder step before every update.

    The order is the official one (training/training.py): clip the gradient norm, project, step;
    but SAELens clips at 1, the official code at 1e5 (max_grad_norm).
    """

    def __init__(self, trainer: Any):
        sae = trainer.sae
        for group in trainer.optimizer.param_groups:
            group["betas"] = (0.9, 0.99)  # official training/config.py: beta1 0.9, beta2 0.99
        trainer.optimizer.register_step_pre_hook(lambda optimizer, args, kwargs: sae.unit_norm_decoder_and_tangent_gradient())

    def update(self, out: Any) -> None:
        """Nothing after the step: the work is done in the optimizer's pre-step hook."""


SAE_LENS_CLASSES = {"inference": (TopAFASAE, TopAFASAEConfig),
                    "training": (TopAFATrainingSAE, TopAFATrainingSAEConfig)}
