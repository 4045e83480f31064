"""A trained SAE on disk, in SAELens's inference format."""

from __future__ import annotations

from pathlib import Path

from sae.io import atomic_path
from sae.train.spec import TrainResult


def save_trained_sae(result: TrainResult, directory: Path, activation_scale: float = 1.0) -> None:
    """Write the SAE in SAELens inference format (loadable with `SAE.load_from_disk`), atomically.

    An SAE trained on activations scaled by `activation_scale` gets the scale folded
    into its weights, so the saved SAE takes raw activations; cfg.json records it
    as SAELens's own trainer does (`normalize_activations: expected_average_only_in`).
    """
    # an SAE that standardises every input (top_afa) is invariant to the scale: nothing to fold
    if activation_scale != 1.0 and result.sae.cfg.normalize_activations != "layer_norm":
        result.sae.fold_activation_norm_scaling_factor(activation_scale)
        result.sae.cfg.normalize_activations = "expected_average_only_in"
    with atomic_path(directory) as tmp:
        result.sae.save_inference_model(tmp)
