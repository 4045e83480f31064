"""Draw every registered figure of one experiment, or the study-scope figures; each also on the MLflow parent runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from sae import figures, layout, sweep, tracking
from sae.config import GridPoint
from sae.figures.style import save_figure
from sae.io import read_json
from sae.refine import round_points
from sae.tracking import RunLog, Tracking

# The figure that shows a sweep's answer: first among its parent run's artifacts, and the README's picture.
HEADLINE = "decoder_metrics"


def _read_rows(sweep_csv: Path) -> list[dict]:
    return [r | {"l0": None if r["l0"] is None else float(r["l0"])} for r in sweep.read_csv(sweep_csv)]


def figure_data(name: str, experiment: str, results_dir: Path, points: Sequence[GridPoint],
                fixed_options: Mapping[str, dict] | None = None) -> figures.FigureData:
    """The inputs figure `name` declared, read from the experiment's outputs (the others left empty)."""
    declared = figures.FIGURES[name].inputs

    def path(pattern: str, **wildcards: str) -> Path:
        return layout.resolve(results_dir, pattern, experiment=experiment, **wildcards)

    return figures.FigureData(
        experiment=experiment,
        rows=_read_rows(path(layout.SWEEP_TABLE)) if "sweep" in declared else [],
        recommendation=read_json(path(layout.RECOMMENDATION)) if "recommendation" in declared else [],
        ground_truth=(read_json(path(layout.GROUND_TRUTH))
                      if "ground_truth" in declared and path(layout.GROUND_TRUTH).exists() else []),
        tensors=[(p, path(layout.TENSORS, point=p.path)) for p in points] if "tensors" in declared else [],
        fixed_options=dict(fixed_options or {}),
    )


def draw_figures(names: Sequence[str], experiment: str, points: Sequence[GridPoint], round_manifests: Sequence[Path],
                 results_dir: Path, track: Tracking | None,
                 fixed_options: Mapping[str, dict] | None = None) -> list[Path]:
    """Each figure's PNG (and the PDF beside it) from the inputs it declared; `points` are the grid's, the
    rounds' manifests add the refined ones; `fixed_options` (`sae.figures.fixed_options` of the experiment's
    config) are the options the sweep table has no column for."""
    points = [*points, *round_points(list(round_manifests))]
    paths = []
    for name in names:
        out = layout.resolve(results_dir, layout.FIGURE, experiment=experiment, figure=name)
        paths += save_figure(figures.code(name).draw(figure_data(name, experiment, results_dir, points, fixed_options)),
                             out.with_suffix(""))
    if track is not None:
        # the sweep's answer as a picture, beside recommendation.json in the folder the MLflow UI lists first
        headline = [p for p in paths if p.name == f"{HEADLINE}.png"]
        tracking.write_runs(track.uri, {track.parent_run_id: RunLog(
            artifacts={"figures": paths, tracking.ANSWER_FOLDER: headline})})
    return paths


def draw_study_figures(figures_of: Mapping[str, Sequence[str]], results_dir: Path,
                       tracks: Mapping[str, Tracking]) -> list[Path]:
    """Each study-scope figure (name -> the experiments it draws) from their sweep tables; attached to the MLflow
    parent run of each experiment that `tracks` has."""
    paths = []
    for name, experiments in figures_of.items():
        rows = [r for e in experiments
                for r in _read_rows(layout.resolve(results_dir, layout.SWEEP_TABLE, experiment=e))]
        data = figures.FigureData(experiment="", rows=rows, recommendation=[], ground_truth=[], tensors=[])
        drawn = save_figure(figures.code(name).draw(data),
                            layout.resolve(results_dir, layout.STUDY_FIGURE, figure=name).with_suffix(""))
        paths += drawn
        for track in (tracks[e] for e in experiments if e in tracks):
            tracking.write_runs(track.uri, {track.parent_run_id: RunLog(artifacts={"figures": drawn})})
    return paths
