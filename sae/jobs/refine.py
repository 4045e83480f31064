"""One round of adaptive refinement as one job: recommend from every point so far, then train, continue and
evaluate the points the round adds (`ExperimentPlan.extend`: the same training jobs as the grid's)."""

from __future__ import annotations

from pathlib import Path

from sae import layout, recommend, sweep
from sae.config import Experiment, GridPoint
from sae.io import atomic_write_json, read_json
from sae.jobs.continue_sae import continue_job
from sae.jobs.evaluate import evaluate_points
from sae.jobs.train import train_job
from sae.plan import build_experiment_plan, training_params
from sae.refine import refine_points, round_points
from sae.tracking import Tracking

# In an added point's folder: the training job it came from. A round re-run after a metric setting changed
# plans the same points (refinement is deterministic) and retrains only the jobs whose settings differ or
# whose SAE files are missing.
TRAINED_WITH = "trained_with.json"


def _trained_with(folder: Path, stamp: dict) -> bool:
    """Whether `folder` holds an SAE (every file of it) trained by the job `stamp` describes."""
    files = [folder / layout.SAE_FOLDER / name for name in layout.SAE_FILES] + [folder / layout.SUMMARY_FILE]
    return all(f.is_file() for f in files) and (folder / TRAINED_WITH).is_file() and read_json(folder / TRAINED_WITH) == stamp


def refine_round(name: str, exp: Experiment, round_: int, round_manifests: list[Path], results_dir: Path,
                 source_dir: Path, out: Path, track: Tracking | None) -> list[GridPoint]:
    """Plan, train and evaluate round `round_` of experiment `name`; `round_manifests` are rounds 1..round_-1.
    Writes (and returns) the added points into `out` last, once each is trained and evaluated."""
    plan = build_experiment_plan(name, exp)
    known = plan.points + round_points(round_manifests)

    def folder(point: GridPoint) -> Path:
        return layout.resolve(results_dir, layout.POINT_DIR, experiment=name, point=point.path)

    rows = [sweep.point_row(p) | read_json(folder(p) / layout.METRICS_FILE) for p in known]
    added = refine_points(known, recommend.recommend_l0(rows, None), exp.refine)
    for job in plan.extend(round_, added):
        dirs = [folder(p) for p in job.points]
        stamp = {"training": training_params(exp, job),
                 "continuations": [[c.__dict__ for c in plan.continuations(p)] for p in job.points]}
        if all(_trained_with(d, stamp) for d in dirs):
            continue
        trained_exp = Experiment.model_validate(stamp["training"] | {"metrics": exp.metrics.model_dump(mode="json")})
        train_job(trained_exp, job.points, source_dir, dirs, layout.resolve(results_dir, job.checkpoints), track)
        if any(plan.continuations(p) for p in job.points):
            continue_job(trained_exp, job.points, source_dir, dirs, track)
        for d in dirs:
            atomic_write_json(d / TRAINED_WITH, stamp)
    evaluate_points(exp, added, source_dir, [folder(p) for p in added], track)
    atomic_write_json(out, [p.model_dump(mode="json") for p in added])
    return added
