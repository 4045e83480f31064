"""Every per-SAE diagnostic of a list of trained SAEs (the source opened once), and the toy ground-truth SAE's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from safetensors.torch import save_file

from sae import layout, tracking
from sae.architectures import load_sae
from sae.config import Experiment, GridPoint
from sae.data.sources import open_source
from sae.evaluate import SAEContext, evaluate_sae
from sae.io import atomic_path, atomic_write_json
from sae.metrics.ground_truth.main import ground_truth_sae
from sae.runtime import resolve_device
from sae.tracking import RunLog, Tracking


def evaluate_points(exp: Experiment, points: Sequence[GridPoint], source_dir: Path, point_dirs: Sequence[Path],
                    track: Tracking | None) -> dict[str, dict[str, float]]:
    """Numbers into each point's metrics.json, exported tensors into its tensors.safetensors; then each SAE's
    child run gets its metrics and ends FINISHED. Returns grid key -> metrics."""
    device = resolve_device(exp.training.device)
    source = open_source(exp.source, source_dir, device)
    m = exp.metrics
    batches = source.heldout_batches(m.eval_batches, m.eval_batch_size, m.eval_seed)
    results = {}
    for point, point_dir in zip(points, point_dirs, strict=True):
        sae = load_sae(point_dir / layout.SAE_FOLDER, device)
        metrics, tensors = evaluate_sae(SAEContext(sae, batches, source, point_dir), exp)
        with atomic_path(point_dir / layout.TENSORS_FILE) as tmp:
            save_file({k: t.float().cpu().contiguous() for k, t in tensors.items()}, str(tmp))
        atomic_write_json(point_dir / layout.METRICS_FILE, metrics)
        results[point.key] = metrics
    if track is not None:
        ids = tracking.child_run_ids(track.uri, track.parent_run_id, [p.key for p in points])
        tracking.write_runs(track.uri, {
            ids[p.key]: RunLog(metrics=results[p.key],
                               artifacts={"metrics": d / layout.METRICS_FILE, "tensors": d / layout.TENSORS_FILE})
            for p, d in zip(points, point_dirs, strict=True)
        }, finish=True)
    return results


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
