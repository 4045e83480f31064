"""SAELens classes of the TopK WSAE: SAELens's TopK SAE trained on the γ-weighted reconstruction error."""

from __future__ import annotations

from dataclasses import dataclass

from sae_lens.saes.topk_sae import TopKSAE, TopKSAEConfig, TopKTrainingSAE, TopKTrainingSAEConfig

from sae.architectures._wsae_sae import WeightedReconstruction


@dataclass
class WSAETopKTrainingSAEConfig(TopKTrainingSAEConfig):
    alpha: float = 0.5
    score_batches: int = 10

    @classmethod
    def architecture(cls) -> str:
        return "wsae_topk"


class WSAETopKTrainingSAE(WeightedReconstruction, TopKTrainingSAE):
    pass


# inference: a trained TopK WSAE is a TopK SAE (its cfg.json says "topk")
SAE_LENS_CLASSES = {"inference": (TopKSAE, TopKSAEConfig),
                    "training": (WSAETopKTrainingSAE, WSAETopKTrainingSAEConfig)}
