"""A refinement round as one job: it trains and evaluates the points it adds; re-run after a metric setting
changed, it re-evaluates without retraining; a deleted SAE file retrains that point's job only."""

from __future__ import annotations

import pytest
import torch

from sae import layout
from sae.config import ToySource
from sae.data.toy import build_toy_model
from sae.io import read_json
from sae.jobs import refine
from sae.jobs.evaluate import evaluate_points
from sae.jobs.train import train_job
from sae.plan import build_experiment_plan, training_params
from sae.refine import round_points
from tests.factories import experiment


def _experiment(**metrics):
    return experiment(grid={"architecture": ["batchtopk"], "width": [5], "l0": [1, 2, 3], "seed": [0]},
                      training={"samples": 2048, "batch_size": 256, "log_every": 2, "fused_group_size": 8},
                      metrics={"eval_batches": 1, "eval_batch_size": 256, **metrics},
                      refine={"points": 1, "seeds": [0, 1]})


@pytest.fixture
def coarse(tmp_path, monkeypatch):
    """The coarse grid trained and evaluated; the recommendation fixed at 2 in [1, 3] (the rule is tested apart)."""
    torch.set_num_threads(1)
    build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model).save(tmp_path / "toy")
    exp = _experiment()
    plan = build_experiment_plan("e", exp)
    for job in plan.train_jobs:
        folders = [layout.resolve(tmp_path, layout.POINT_DIR, experiment="e", point=p.path) for p in job.points]
        train_job(exp, job.points, tmp_path / "toy", folders, tmp_path / "ck", None)
    evaluate_points(exp, plan.points, tmp_path / "toy",
                    [layout.resolve(tmp_path, layout.POINT_DIR, experiment="e", point=p.path) for p in plan.points], None)
    fixed = [{"architecture": "batchtopk", "width": 5, "options": "", "supported": True, "recommended_l0": 2.0,
              "interval_low": 1.0, "interval_high": 3.0}]
    monkeypatch.setattr(refine.recommend, "recommend_l0", lambda rows, true_l0: fixed)
    return tmp_path


def _round(results, exp):
    return refine.refine_round("e", exp, 1, [], results, results / "toy", results / "e/refine/round1.json", None)


def test_a_round_trains_and_evaluates_what_it_adds(coarse):
    added = _round(coarse, _experiment())
    # one new L0 (1.41 = sqrt(1 * 2): the widest gap in log L0 is 1-2, ln 2 against ln 1.5) with both refine
    # seeds, and the grid's L0s inside the interval at the new seed 1
    assert sorted((p.l0, p.seed) for p in added) == [(1, 1), (1.41, 0), (1.41, 1), (2, 1), (3, 1)]
    for point in added:
        folder = layout.resolve(coarse, layout.POINT_DIR, experiment="e", point=point.path)
        assert (folder / "sae" / "sae_weights.safetensors").is_file() and (folder / "metrics.json").is_file()
    assert round_points([coarse / "e/refine/round1.json"]) == added


def test_a_rerun_after_a_metric_change_retrains_nothing_and_a_deleted_file_only_its_job(coarse):
    added = _round(coarse, _experiment())
    weights = {p.key: layout.resolve(coarse, layout.SAE_WEIGHTS, experiment="e", point=p.path) for p in added}
    before = {k: w.stat().st_mtime_ns for k, w in weights.items()}
    changed = _experiment(eval_batches=2)
    assert _round(coarse, changed) == added
    assert {k: w.stat().st_mtime_ns for k, w in weights.items()} == before  # not retrained
    point = next(p for p in added if p.seed == 0)  # L0 2.5 at seed 0: a job of its own
    assert read_json(layout.resolve(coarse, layout.METRICS, experiment="e", point=point.path))  # re-evaluated
    weights[point.key].unlink()
    _round(coarse, changed)
    assert weights[point.key].is_file()
    assert {k: w.stat().st_mtime_ns for k, w in weights.items() if k != point.key} == \
        {k: t for k, t in before.items() if k != point.key}


def test_the_rounds_jobs_train_on_refine_samples(coarse):
    exp = _experiment()
    exp = exp.model_copy(update={"refine": exp.refine.model_copy(update={"samples": 512})})
    added = _round(coarse, exp)
    for point in added:
        summary = read_json(layout.resolve(coarse, layout.TRAIN_SUMMARY, experiment="e", point=point.path))
        assert summary["samples"] == 512
    plan = build_experiment_plan("e", exp)
    assert all(training_params(exp, j)["training"]["samples"] == 512 for j in plan.extend(1, added))
