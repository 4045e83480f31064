"""Every figure of one experiment, also attached to its MLflow parent run."""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import load_file

from sae import figures, sweep, tracking
from sae.config import GridPoint
from sae.io import read_json
from sae.tracking import Tracking


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


def _read_rows(sweep_csv: Path) -> list[dict]:
    return [r | {"l0": float(r["l0"])} for r in sweep.read_csv(sweep_csv)]


def _publish(paths: list[Path], track: Tracking | None, extra: dict[str, Path] | None = None) -> list[Path]:
    if track is not None:
        tracking.log_metrics(track.uri, track.parent_run_id, artifacts={"figures": paths} | (extra or {}))
    return paths


def decoder_figures(experiment: str, sweep_csv: Path, recommendation_json: Path, ground_truth_json: Path | None,
                    true_l0: float | None, out_dir: Path, track: Tracking | None) -> list[Path]:
    """c_dec and s_n_dec vs L0; L0 vs variance explained (both with the ground-truth SAE where known)."""
    rows = _read_rows(sweep_csv)
    recommendation = read_json(recommendation_json)
    gt_rows = read_json(ground_truth_json) if ground_truth_json is not None else []
    outputs = figures.save_figure(
        figures.decoder_metrics_figure(rows, recommendation, true_l0, gt_rows, title=f"{experiment}: decoder metrics vs L0"),
        out_dir / "decoder_metrics")
    outputs += figures.save_figure(
        figures.variance_explained_figure(rows, gt_rows, true_l0, title=f"{experiment}: L0 vs variance explained"),
        out_dir / "l0_vs_variance_explained")
    return _publish(outputs, track, {"tables": sweep_csv, "recommendation": recommendation_json})


def feature_cosine_figures(experiment: str, true_l0: float, heatmaps: list[tuple[GridPoint, Path]], out_dir: Path,
                           track: Tracking | None) -> list[Path]:
    """Decoder-vs-true-feature |cos| below, nearest to and above the true L0 (toy models)."""
    nearest = min((p for p, _ in heatmaps), key=lambda p: abs(p.l0 - true_l0))
    panels = [(f"L0 = {p.l0_label}, {_relation(p, nearest, true_l0)}", load_file(str(path))["cos_HF"].numpy())
              for p, path in heatmaps]
    outputs = figures.save_figure(
        figures.cosine_heatmaps_figure(panels, title=f"{experiment}: |cos(decoder, true features)|"),
        out_dir / "feature_cosines")
    return _publish(outputs, track)


def splice_cost_figures(experiment: str, sweep_csv: Path, recommendation_json: Path, out_dir: Path,
                        track: Tracking | None) -> list[Path]:
    """L0 vs the CE-loss increase and KL of splicing each SAE into the language model."""
    outputs = figures.save_figure(
        figures.splice_cost_figure(_read_rows(sweep_csv), read_json(recommendation_json),
                                   title=f"{experiment}: cost of splicing the SAE into the model"),
        out_dir / "splice_cost")
    return _publish(outputs, track)


def _relation(point: GridPoint, nearest: GridPoint, true_l0: float) -> str:
    if point == nearest:
        return "nearest the true L0"
    return "below the true L0" if point.l0 < true_l0 else "above the true L0"

