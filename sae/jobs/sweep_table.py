"""The sweep table and L0 recommendation of one experiment, from its metric JSONs; both on the MLflow parent run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sae import layout, recommend, sweep, tracking
from sae.config import GridPoint
from sae.io import atomic_write_json, read_json
from sae.refine import round_points
from sae.seed_agreement import seed_agreement
from sae.tracking import RunLog, Tracking


def audited_row(point: GridPoint, record: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    """An audited SAE's row: its architecture and width as its files say, and as its x-coordinate its L0 measured on
    the held-out tokens (it has no target); its source and metadata as `audit_` columns."""
    return (sweep.point_row(point) | {"architecture": record["architecture"], "width": record["d_sae"],
                                      "l0": metrics["l0_measured"], "sae": point.sae}
            | metrics | {f"audit_{k}": v for k, v in record.items() if k != "name"})


def sweep_table(name: str, points: Sequence[GridPoint], round_manifests: Sequence[Path], results_dir: Path,
                evaluation_jsons: Sequence[Path], true_l0: float | None, out_csv: Path, out_recommendation: Path,
                track: Tracking | None, config: dict[str, Any], description: str) -> list[dict[str, Any]]:
    """One row per SAE (`points`, the grid's, then every refinement round's): its grid values, per-SAE metrics, training
    record (an audited SAE: `audited_row`), every per-experiment evaluation, and its agreement with the other seeds
    at its L0 (where there are).

    The parent run gets the experiment `config` as parameters, the recommendation (as metrics, tags and a note in
    words), and ends FINISHED; `description` becomes the MLflow experiment's.
    """
    points = [*points, *round_points(list(round_manifests))]
    evaluations = [read_json(path) for path in evaluation_jsons]
    agreement = seed_agreement(points, weights={
        p.key: layout.resolve(results_dir, layout.SAE_WEIGHTS, experiment=name, point=p.path) for p in points})
    rows = []
    for point in points:
        folder = layout.resolve(results_dir, layout.POINT_DIR, experiment=name, point=point.path)
        metrics = read_json(folder / layout.METRICS_FILE)
        if point.sae is None:
            summary = read_json(folder / layout.SUMMARY_FILE)
            row = sweep.point_row(point) | metrics | {f"train_{k}": v for k, v in summary.items()}
        else:
            row = audited_row(point, read_json(folder / layout.AUDIT_RECORD_FILE), metrics)
        for evaluation in evaluations:
            row |= evaluation[point.key]
        if point.key in agreement:
            row[sweep.SEED_AGREEMENT] = agreement[point.key]
        rows.append(row | {"excluded_from_recommendation": recommend.excluded(row)})
    sweep.write_csv(rows, out_csv)
    recommendation = recommend.recommend_l0(rows, true_l0)
    atomic_write_json(out_recommendation, recommendation)
    if track is not None:
        tracking.write_runs(track.uri, {track.parent_run_id: RunLog(
            artifacts={"tables": out_csv, tracking.ANSWER_FOLDER: out_recommendation})})
        tracking.finish_parent(track.uri, track.parent_run_id, config, *recommend.tracking_summary(recommendation),
                               note=recommend.in_words(recommendation), description=description)
    return recommendation
