"""Draw one registered figure of one experiment; also attach it to the experiment's MLflow parent run."""

from __future__ import annotations

from pathlib import Path

from sae import figures, sweep, tracking
from sae.config import GridPoint
from sae.figures.style import save_figure
from sae.io import read_json
from sae.tracking import Tracking


def _read_rows(sweep_csv: Path) -> list[dict]:
    return [r | {"l0": None if r["l0"] is None else float(r["l0"])} for r in sweep.read_csv(sweep_csv)]


def draw_figure(name: str, experiment: str, out_png: Path, track: Tracking | None, sweep_csv: Path | None = None,
                recommendation_json: Path | None = None, ground_truth_json: Path | None = None,
                tensors: list[tuple[GridPoint, Path]] = ()) -> list[Path]:
    """`out_png` and the PDF beside it, from the inputs the figure declared (None or empty for the others)."""
    data = figures.FigureData(
        experiment=experiment,
        rows=_read_rows(sweep_csv) if sweep_csv else [],
        recommendation=read_json(recommendation_json) if recommendation_json else [],
        ground_truth=read_json(ground_truth_json) if ground_truth_json else [],
        tensors=list(tensors),
    )
    paths = save_figure(figures.code(name).draw(data), out_png.with_suffix(""))
    if track is not None:
        tracking.log_metrics(track.uri, track.parent_run_id, artifacts={"figures": paths})
    return paths


def draw_study_figure(name: str, sweep_csvs: list[Path], out_png: Path, tracks: list[Tracking]) -> list[Path]:
    """A study-scope figure from the sweep tables of its experiments; attached to each one's MLflow parent run."""
    data = figures.FigureData(experiment="", rows=[r for f in sweep_csvs for r in _read_rows(f)],
                              recommendation=[], ground_truth=[], tensors=[])
    paths = save_figure(figures.code(name).draw(data), out_png.with_suffix(""))
    for track in tracks:
        tracking.log_metrics(track.uri, track.parent_run_id, artifacts={"figures": paths})
    return paths
