"""The sweep table and L0 recommendation of one experiment, from its metric JSONs; both on the MLflow parent run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sae import recommend, sweep, tracking
from sae.config import GridPoint
from sae.io import atomic_write_json, read_json
from sae.tracking import Tracking


def sweep_table(points: list[GridPoint], metrics_jsons: list[Path], train_jsons: list[Path],
                evaluation_jsons: list[Path], true_l0: float | None, out_csv: Path, out_recommendation: Path,
                track: Tracking | None, config: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per grid point: its grid values, per-SAE metrics, training record and every per-experiment evaluation.

    The parent run gets the experiment `config` as parameters, the recommendation, and ends FINISHED.
    """
    evaluations = [read_json(path) for path in evaluation_jsons]
    rows = []
    for point, metrics_json, train_json in zip(points, metrics_jsons, train_jsons, strict=True):
        row = sweep.point_row(point) | read_json(metrics_json) | {f"train_{k}": v for k, v in read_json(train_json).items()}
        for evaluation in evaluations:
            row |= evaluation[point.key]
        rows.append(row | {"excluded_from_recommendation": recommend.excluded(row)})
    sweep.write_csv(rows, out_csv)
    recommendation = recommend.recommend_l0(rows, true_l0)
    atomic_write_json(out_recommendation, recommendation)
    if track is not None:
        tracking.log_metrics(track.uri, track.parent_run_id,
                             artifacts={"tables": out_csv, "recommendation": out_recommendation})
        tracking.finish_parent(track.uri, track.parent_run_id, config, *recommend.tracking_summary(recommendation))
    return recommendation
