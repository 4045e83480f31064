"""A trained SAE on disk, in SAELens's inference format."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sae.io import atomic_path
from sae.train.spec import TrainResult


def save_trained_sae(result: TrainResult, directory: Path, activation_scale: float = 1.0,
                     metadata: Mapping[str, Any] | None = None) -> None:
    """Write the SAE in SAELens inference format (loadable with `SAE.load_from_disk`), atomically.

    An SAE trained on activations scaled by `activation_scale` gets the scale folded
    into its weights, so the saved SAE takes raw activations; cfg.json records it
    as SAELens's own trainer does (`normalize_activations: expected_average_only_in`).
    `metadata` (what the SAE reads: model, hook, context, dataset) goes into cfg.json's `metadata`.
    """
    for key, value in (metadata or {}).items():
        result.sae.cfg.metadata[key] = value
    # an SAE that standardises every input (top_afa) is invariant to the scale: nothing to fold
    if activation_scale != 1.0 and result.sae.cfg.normalize_activations != "layer_norm":
        result.sae.fold_activation_norm_scaling_factor(activation_scale)
        result.sae.cfg.normalize_activations = "expected_average_only_in"
    with atomic_path(directory) as tmp:
        result.sae.save_inference_model(tmp)
