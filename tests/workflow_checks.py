"""Run the workflow on a config and check what a finished study must contain (shared by the e2e tests)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import yaml
from mlflow.tracking import MlflowClient

from sae import layout, recommend
from sae.config import Experiment, GridPoint, load_study_config
from sae.plan import build_plan
from sae.figures import FIGURES, draws_for, study_figure_experiments
from tests.figures.promises import study_figure_problems
from sae.metrics import enabled
from sae.tracking import mlflow_key
from sae.metrics.hedging.spec import VARIANTS as HEDGING_VARIANTS

REPO = Path(__file__).resolve().parent.parent
TINY_CONFIG = REPO / "tests" / "configs" / "tiny.yaml"


def snakemake_command(workdir: Path, *extra: str, configfile: Path = TINY_CONFIG) -> list[str]:
    """snakemake on `configfile` alone (--replace-workflow-config drops config.yaml), outputs under workdir."""
    return [
        str(Path(sys.executable).parent / "snakemake"), "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(configfile), "--replace-workflow-config", *extra,
    ]


def run_snakemake(workdir: Path, *extra: str, configfile: Path = TINY_CONFIG, timeout: int = 600):
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(snakemake_command(workdir, *extra, configfile=configfile), capture_output=True,
                          text=True, timeout=timeout, env=env)


def study_config(results_dir: Path, uri: str, configfile: Path = TINY_CONFIG):
    raw = yaml.safe_load(configfile.read_text()) | {"results_dir": str(results_dir), "tracking": {"uri": uri}}
    return load_study_config(raw)


def child_run_keys(exp: Experiment, points: Iterable[GridPoint]) -> list[str]:
    """The MLflow child runs of a finished experiment, sorted: one per grid point, and one per continuation
    (metrics.hedging trains a control and an extended copy of every SAE)."""
    points = list(points)  # walked twice below; a generator would give no continuations
    variants = HEDGING_VARIANTS if exp.metrics.hedging.enabled else ()
    return sorted([p.key for p in points] + [layout.continued_key(p.key, v) for p in points for v in variants])


def check_study_outputs(results_dir: Path, uri: str, configfile: Path = TINY_CONFIG,
                        parent_status: str = "FINISHED") -> None:
    """Every output exists, every metric is finite, MLflow holds exactly the child runs `child_run_keys` names.

    The parent run holds the experiment config and the recommendation; `parent_status` is FINISHED once
    the sweep table is written (RUNNING while a re-trained point awaits a new table).
    """
    study = study_config(results_dir, uri, configfile)
    plan = build_plan(study)
    # every figure, drawn again from the study's outputs, keeps its title's promise (tests/figures/promises.py)
    assert study_figure_problems(results_dir, study) == {}
    client = MlflowClient(uri)
    for name, exp in study.experiments.items():
        toy = exp.source.kind == "toy"
        # a study-scope figure also needs what it compares among the study's experiments (FigureSpec.together)
        figures = [f for f, spec in FIGURES.items() if draws_for(spec, exp)
                   and (spec.scope == "experiment" or name in study_figure_experiments(spec, study.experiments))]
        assert len(figures) >= (1 if exp.is_audit else 3)
        for fig in figures:
            png = (layout.resolve(results_dir, layout.FIGURE, experiment=name, figure=fig)
                   if FIGURES[fig].scope == "experiment" else layout.resolve(results_dir, layout.STUDY_FIGURE, figure=fig))
            for path in (png, png.with_suffix(".pdf")):
                assert path.stat().st_size > 1000, path
        assert layout.resolve(results_dir, layout.SWEEP_TABLE, experiment=name).exists()
        recommendation = json.loads(layout.resolve(results_dir, layout.RECOMMENDATION, experiment=name).read_text())
        assert recommendation and all((r["true_l0"] is not None) == toy for r in recommendation)
        experiment = client.get_experiment_by_name(study.tracking.experiment_prefix + name)
        runs = client.search_runs([experiment.experiment_id], max_results=1000)
        parents = [r for r in runs if r.data.tags.get("sae.role") == "parent"]
        children = [r for r in runs if r.data.tags.get("sae.role") == "child"]
        assert len(parents) == 1
        parent = parents[0]
        artifacts = [f.path for f in client.list_artifacts(parent.info.run_id)]
        # the answer (recommendation.json, and the decoder-metrics figure where drawn) in the folder listed first
        assert min(artifacts) == "answer" and set(artifacts) >= {"figures", "tables"}
        answer = {f.path for f in client.list_artifacts(parent.info.run_id, "answer")}
        assert answer == {"answer/recommendation.json"} | ({"answer/decoder_metrics.png"} if "decoder_metrics" in figures
                                                          else set())
        # what the MLflow UI shows in words: the experiment's description, the sweep's conclusion
        assert experiment.tags["mlflow.note.content"] == exp.describe()
        assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
        assert parent.data.tags["mlflow.note.content"] == recommend.in_words(recommendation)
        assert parent.info.status == parent_status
        if not exp.is_audit:  # an audit's SAEs were given, not trained: no training or grid parameters
            assert parent.data.params["training.samples"] == str(exp.training.samples)
            assert parent.data.params["grid.l0"] == str(exp.grid.l0)
        summary_metrics, summary_tags = recommend.tracking_summary(recommendation)
        rules = {mlflow_key(k): v for k, v in summary_tags.items() if k.endswith("recommendation.rule")}
        assert sorted(rules.values()) == sorted(rec["rule"] for rec in recommendation)
        assert {k: parent.data.tags[k] for k in rules} == rules
        recommended = {mlflow_key(k): v for k, v in summary_metrics.items() if k.endswith("recommended_l0")}
        assert len(recommended) == sum(rec["recommended_l0"] is not None for rec in recommendation)
        assert {k: parent.data.metrics[k] for k in recommended} == recommended
        points = plan.experiments[name].points
        assert sorted(r.data.tags["sae.grid_key"] for r in children) == child_run_keys(exp, points)
        for child in children:
            assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
            if not exp.is_audit:
                assert len(client.get_metric_history(child.info.run_id, "train/loss")) >= 2
        metric_keys = ["c_dec", "s_n_dec", "l0_measured", "dead_latents", "mse", "variance_explained",
                       "variance_explained_uncentred"]
        metric_keys += ["mcc"] if toy else []
        for evaluation in enabled(exp, "experiment"):
            results = json.loads(layout.resolve(results_dir, layout.EVALUATION, experiment=name,
                                                evaluation=evaluation.name).read_text())
            assert sorted(results) == sorted(p.key for p in points)
            assert all(math.isfinite(v) for r in results.values() for v in r.values())
        if not toy and exp.metrics.splice_costs.enabled:
            costs = json.loads(layout.resolve(results_dir, layout.EVALUATION, experiment=name,
                                              evaluation="splice_costs").read_text())
            assert all(c["kl_div"] >= 0 for c in costs.values())
        for point in points:
            point_dir = layout.resolve(results_dir, layout.POINT_DIR, experiment=name, point=point.path)
            assert all((point_dir / layout.SAE_FOLDER / name).is_file() for name in layout.SAE_FILES)
            metrics = json.loads((point_dir / "metrics.json").read_text())
            for key in metric_keys:
                assert math.isfinite(metrics[key]), (point.key, key)
            child = next(r for r in children if r.data.tags["sae.grid_key"] == point.key)
            assert child.data.metrics["c_dec"] == metrics["c_dec"]
            assert child.data.params["source" if exp.is_audit else "l0"] == \
                (plan.experiments[name].audited[points.index(point)].source if exp.is_audit else str(point.l0))
            assert {f.path for f in client.list_artifacts(child.info.run_id)} >= {"sae", "metrics", "tensors"}
