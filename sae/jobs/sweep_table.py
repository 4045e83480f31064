"""The sweep table and L0 recommendation of one experiment, from its metric JSONs; both on the MLflow parent run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sae import layout, recommend, sweep, tracking
from sae.config import GridPoint
from sae.io import atomic_write_json, read_json
from sae.refine import round_points
from sae.tracking import RunLog, Tracking


def sweep_table(name: str, points: Sequence[GridPoint], round_manifests: Sequence[Path], results_dir: Path,
                evaluation_jsons: Sequence[Path], true_l0: float | None, out_csv: Path, out_recommendation: Path,
                track: Tracking | None, config: dict[str, Any], description: str) -> list[dict[str, Any]]:
    """One row per SAE (`points`, the grid's, then every refinement round's): its grid values, per-SAE metrics, training
    record and every per-experiment evaluation.

    The parent run gets the experiment `config` as parameters, the recommendation (as metrics, tags and a note in
    words), and ends FINISHED; `description` becomes the MLflow experiment's.
    """
    points = [*points, *round_points(list(round_manifests))]
    evaluations = [read_json(path) for path in evaluation_jsons]
    rows = []
    for point in points:
        folder = layout.resolve(results_dir, layout.POINT_DIR, experiment=name, point=point.path)
        row = (sweep.point_row(point) | read_json(folder / layout.METRICS_FILE)
               | {f"train_{k}": v for k, v in read_json(folder / layout.SUMMARY_FILE).items()})
        for evaluation in evaluations:
            row |= evaluation[point.key]
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
