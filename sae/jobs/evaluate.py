"""Diagnostics of one trained SAE, and of the ground-truth SAE of a toy model."""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import save_file

from sae import tracking
from sae.architectures import load_sae
from sae.config import Experiment, GridPoint
from sae.data.sources import open_source
from sae.evaluate import SAEContext, evaluate_sae
from sae.io import atomic_path, atomic_write_json
from sae.metrics.ground_truth.main import ground_truth_sae
from sae.runtime import resolve_device
from sae.tracking import Tracking


def evaluate_point(exp: Experiment, point: GridPoint, source_dir: Path, sae_dir: Path, metrics_json: Path,
                   tensors_path: Path, track: Tracking | None) -> dict[str, float]:
    """Every enabled per-SAE diagnostic: numbers into `metrics_json`, exported tensors into `tensors_path`."""
    device = resolve_device(exp.training.device)
    source = open_source(exp.source, source_dir, device)
    m = exp.metrics
    batches = source.heldout_batches(m.eval_batches, m.eval_batch_size, m.eval_seed)
    metrics, tensors = evaluate_sae(SAEContext(load_sae(sae_dir, device), batches, source, sae_dir.parent), exp)
    with atomic_path(tensors_path) as tmp:
        save_file({k: t.float().cpu().contiguous() for k, t in tensors.items()}, str(tmp))
    atomic_write_json(metrics_json, metrics)
    if track is not None:
        run_id = tracking.child_run_id(track.uri, track.parent_run_id, point.key)
        tracking.log_metrics(track.uri, run_id, metrics=metrics,
                             artifacts={"metrics": metrics_json, "tensors": tensors_path}, finish=True)
    return metrics


def ground_truth_sweep(exp: Experiment, source_dir: Path, out_json: Path) -> list[dict[str, float]]:
    """The ground-truth SAE's metrics at every L0 of the grid, for every plot to show beside trained SAEs."""
    source = open_source(exp.source, source_dir, "cpu")
    features_FD = source.true_features_FD
    m = exp.metrics
    batches = source.heldout_batches(m.eval_batches, m.eval_batch_size, m.eval_seed)
    rows = [{"l0": l0} | evaluate_sae(SAEContext(ground_truth_sae(features_FD, l0), batches, source), exp)[0]
            for l0 in sorted(l0 for l0 in exp.grid.l0 or [] if l0 <= features_FD.shape[0])]
    atomic_write_json(out_json, rows)
    return rows
