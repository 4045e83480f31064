"""SAELens classes of the balanced Matryoshka BatchTopK SAE (Chanin, Dulka, Garriga-Alonso 2025, arXiv 2505.11756).

SAELens's `MatryoshkaBatchTopKTrainingSAE` adds every inner prefix's MSE with weight 1.
The balanced variant weights them `[beta^m, ..., beta^2, beta]` from the innermost to the
outermost inner prefix, the full width keeping weight 1 (official code:
`hedging_paper/saes/matryoshka_sae.py`, `matryoshka_inner_loss_multipliers`; the paper's
LLM runs pass `[beta^4, beta^3, beta^2, beta]`). beta = 0 is a plain BatchTopK SAE,
beta = 1 SAELens's Matryoshka. Saved for inference as a JumpReLU SAE, like every SAELens
BatchTopK SAE, so `SAE.load_from_disk` needs nothing of ours to read it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sae_lens.saes.batchtopk_sae import BatchTopKTrainingSAE
from sae_lens.saes.jumprelu_sae import JumpReLUSAE, JumpReLUSAEConfig
from sae_lens.saes.matryoshka_batchtopk_sae import (
    MatryoshkaBatchTopKTrainingSAE,
    MatryoshkaBatchTopKTrainingSAEConfig,
)
from sae_lens.saes.sae import TrainStepInput, TrainStepOutput

NAME = "balanced_matryoshka"


@dataclass
class BalancedMatryoshkaTrainingSAEConfig(MatryoshkaBatchTopKTrainingSAEConfig):
    beta: float = 0.25

    @classmethod
    def architecture(cls) -> str:
        return NAME


def inner_loss_weights(beta: float, n_inner: int) -> list[float]:
    """Weights of the inner prefixes' MSE, innermost first: beta^m, ..., beta^2, beta."""
    return [beta ** (n_inner - j) for j in range(n_inner)]


class BalancedMatryoshkaTrainingSAE(MatryoshkaBatchTopKTrainingSAE):
    cfg: BalancedMatryoshkaTrainingSAEConfig  # type: ignore[assignment]

    def training_forward_pass(self, step_input: TrainStepInput) -> TrainStepOutput:
        # the outer level is the BatchTopK SAE itself (MSE + aux loss, weight 1)
        output = BatchTopKTrainingSAE.training_forward_pass(self, step_input)
        weights = inner_loss_weights(self.cfg.beta, len(self.cfg.matryoshka_widths) - 1)
        for weight, (width, inner_out) in zip(weights, self._iterable_decode(output.feature_acts)):
            if weight == 0.0:
                continue  # beta = 0: nothing to add, and no decoding to pay for
            inner_mse = self.mse_loss_fn(inner_out, step_input.sae_in).sum(dim=-1).mean()
            output.losses[f"inner_mse_loss_{width}"] = inner_mse
            output.loss = output.loss + weight * inner_mse
        return output


SAE_LENS_CLASSES = {
    "inference": (JumpReLUSAE, JumpReLUSAEConfig),
    "training": (BalancedMatryoshkaTrainingSAE, BalancedMatryoshkaTrainingSAEConfig),
}
