"""Diagnostics of one trained SAE, and of the ground-truth SAE of a toy model."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file
from sae_lens import SAE

from sae import tracking
from sae.config import Experiment, GridPoint, resolved_s_n
from sae.data import heldout_batches, true_features
from sae.evaluate import sae_metrics, toy_sae_metrics
from sae.io import atomic_path, atomic_write_json
from sae.metrics.ground_truth import ground_truth_sae
from sae.tracking import Tracking
from sae.runtime import resolve_device


def evaluate_point(exp: Experiment, point: GridPoint, source_dir: Path, sae_dir: Path, metrics_json: Path,
                   cosines_path: Path, track: Tracking | None) -> dict[str, float]:
    device = resolve_device(exp.training.device)
    sae = SAE.load_from_disk(str(sae_dir), device=device)
    m = exp.metrics
    batches = heldout_batches(exp.source, source_dir, m.eval_batches, m.eval_batch_size, m.eval_seed, device)
    n = resolved_s_n(m, point.width)
    features = true_features(exp.source, source_dir)
    if features is None:
        metrics, cosines = sae_metrics(sae, batches, n), torch.zeros(0)
    else:
        metrics, cosines = toy_sae_metrics(sae, batches, n, features.to(device))
    with atomic_path(cosines_path) as tmp:
        save_file({"cos_HF": cosines.float().cpu().contiguous()}, str(tmp))
    atomic_write_json(metrics_json, metrics)
    if track is not None:
        run_id = tracking.child_run_id(track.uri, track.parent_run_id, point.key)
        tracking.log_metrics(track.uri, run_id, metrics=metrics,
                             artifacts={"metrics": metrics_json, "cosines": cosines_path}, finish=True)
    return metrics


def ground_truth_sweep(exp: Experiment, source_dir: Path, out_json: Path) -> list[dict[str, float]]:
    """The ground-truth SAE's metrics at every L0 of the grid, for every plot to show beside trained SAEs."""
    features_FD = true_features(exp.source, source_dir)
    m = exp.metrics
    batches = heldout_batches(exp.source, source_dir, m.eval_batches, m.eval_batch_size, m.eval_seed, "cpu")
    n = resolved_s_n(m, features_FD.shape[0])
    rows = [{"l0": l0} | sae_metrics(ground_truth_sae(features_FD, l0), batches, n)
            for l0 in sorted(l0 for l0 in exp.grid.l0 if l0 <= features_FD.shape[0])]
    atomic_write_json(out_json, rows)
    return rows
