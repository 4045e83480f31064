"""One function per workflow stage, over the file contracts of DESIGN.md.

Knows paths and MLflow, not Snakemake: each rule script unpacks its
`snakemake` object and calls exactly one of these.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from sae_lens import SAE

from sae import figures, sweep, tracking
from sae.config import Experiment, GridPoint, ToySource, resolved_s_n
from sae.data import heldout_batches, source_dim, training_batches, true_features
from sae.data.toy import build_toy_model
from sae.evaluate import sae_metrics, toy_sae_metrics
from sae.io import atomic_path, atomic_write_json, read_json
from sae.metrics.ground_truth import ground_truth_sae
from sae.train import TrainSpec, resolve_device, save_trained_sae, train_sae


@dataclass(frozen=True)
class Tracking:
    uri: str
    parent_run_id: str

    @classmethod
    def from_runs_file(cls, uri: str, runs_file: Path | str, experiment: str) -> Tracking:
        return cls(uri, read_json(runs_file)[experiment])


def init_tracking(uri: str, experiment_names: dict[str, str], runs_file: Path) -> None:
    """Create (or find) one MLflow experiment and parent run per config experiment, before any job logs."""
    atomic_write_json(runs_file, tracking.ensure_parent_runs(uri, experiment_names))


def write_toy_model(source: ToySource, out_dir: Path) -> None:
    build_toy_model(source.model).save(out_dir)


def _train_spec(exp: Experiment, point: GridPoint, d_in: int) -> TrainSpec:
    t = exp.training
    return TrainSpec(
        architecture=point.architecture, d_in=d_in, width=point.width, l0=point.l0, seed=point.seed,
        samples=t.samples, batch_size=t.batch_size, lr=t.lr, log_every=t.log_every,
        checkpoints=t.checkpoints, device=resolve_device(t.device),
        options={"matryoshka_prefixes": t.matryoshka_prefixes, "standard_l1_init": t.standard_l1_init},
    )


def run_params(exp: Experiment, point: GridPoint) -> dict[str, Any]:
    """Every grid and training parameter of one SAE, flat, for MLflow."""
    params = point.model_dump() | {f"training.{k}": v for k, v in exp.training.model_dump().items()}
    params |= {"source.kind": exp.source.kind, "source.preset": getattr(exp.source, "preset", None)}
    return params


def train_point(exp: Experiment, point: GridPoint, source_dir: Path, sae_dir: Path, train_json: Path,
                checkpoint_dir: Path, track: Tracking | None) -> dict[str, float]:
    spec = _train_spec(exp, point, source_dim(exp.source, source_dir))
    batches = training_batches(exp.source, source_dir, spec.batch_size, spec.seed, spec.device)
    result = train_sae(spec, batches, checkpoint_dir)
    summary = {
        "wall_seconds": result.wall_seconds,
        "samples_per_second": result.samples_per_second,
        "samples": float(result.samples_trained),
        "resumed_from_samples": float(result.resumed_from_samples),
    } | {f"final_{k}": v for k, v in result.curve[-1].items() if k not in ("step", "samples")}
    save_trained_sae(result, sae_dir)
    atomic_write_json(train_json, summary)
    if track is not None:
        run_id = tracking.start_child_run(track.uri, track.parent_run_id, point.key, run_params(exp, point))
        tracking.log_metrics(track.uri, run_id, metrics={f"train.{k}": v for k, v in summary.items()},
                             curve=result.curve, artifacts={"sae": sae_dir, "train": train_json})
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return summary


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


def sweep_table(points: list[GridPoint], metrics_jsons: list[Path], train_jsons: list[Path],
                true_l0: float | None, out_csv: Path, out_recommendation: Path) -> list[dict[str, Any]]:
    rows = [
        p.model_dump() | read_json(mj) | {f"train_{k}": v for k, v in read_json(tj).items()}
        for p, mj, tj in zip(points, metrics_jsons, train_jsons, strict=True)
    ]
    sweep.write_csv(rows, out_csv)
    recommendation = sweep.recommend_l0(rows, true_l0)
    atomic_write_json(out_recommendation, recommendation)
    return recommendation


def heatmap_points(points: list[GridPoint], true_l0: float) -> list[GridPoint]:
    """The grid points just below, nearest to, and just above the true L0 (first arch, width, seed)."""
    first = points[0]
    same = sorted((p for p in points if (p.architecture, p.width, p.seed) ==
                   (first.architecture, first.width, first.seed)), key=lambda p: p.l0)
    at = min(same, key=lambda p: abs(p.l0 - true_l0))
    below = [p for p in same if p.l0 < at.l0]
    above = [p for p in same if p.l0 > at.l0]
    return [p for p in (below[len(below) // 2] if below else None, at, above[len(above) // 2] if above else None)
            if p is not None]


def make_figures(experiment: str, sweep_csv: Path, recommendation_json: Path, ground_truth_json: Path | None,
                 true_l0: float | None, heatmaps: list[tuple[GridPoint, Path]], out_dir: Path,
                 track: Tracking | None) -> list[Path]:
    rows = [r | {"l0": float(r["l0"])} for r in sweep.read_csv(sweep_csv)]
    recommendation = read_json(recommendation_json)
    gt_rows = read_json(ground_truth_json) if ground_truth_json is not None else []
    outputs = figures.save_figure(
        figures.decoder_metrics_figure(rows, recommendation, true_l0, gt_rows, title=f"{experiment}: decoder metrics vs L0"),
        out_dir / "decoder_metrics")
    outputs += figures.save_figure(
        figures.variance_explained_figure(rows, gt_rows, true_l0, title=f"{experiment}: L0 vs variance explained"),
        out_dir / "l0_vs_variance_explained")
    if heatmaps:
        nearest = min((p for p, _ in heatmaps), key=lambda p: abs(p.l0 - true_l0))
        panels = [(f"L0 = {p.l0_label}, {_relation(p, nearest, true_l0)}", load_file(str(path))["cos_HF"].numpy())
                  for p, path in heatmaps]
        outputs += figures.save_figure(
            figures.cosine_heatmaps_figure(panels, title=f"{experiment}: |cos(decoder, true features)|"),
            out_dir / "feature_cosines")
    if track is not None:
        tracking.log_metrics(track.uri, track.parent_run_id,
                             artifacts={"figures": out_dir, "tables": sweep_csv, "recommendation": recommendation_json})
    return outputs


def _relation(point: GridPoint, nearest: GridPoint, true_l0: float) -> str:
    if point == nearest:
        return "nearest the true L0"
    return "below the true L0" if point.l0 < true_l0 else "above the true L0"
