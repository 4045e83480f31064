"""The study's plan, without Snakemake: its jobs, the one rule of what trains together, what a changed setting
invalidates, and the inputs metrics declare for themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sae import layout
from sae.config import Experiment, GridPoint, load_study_config
from sae.plan import build_experiment_plan, build_plan, training_jobs, training_params
from sae.refine import refine_points
from tests.factories import experiment
from tests.test_refine import grid, recommendation

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def default_plan():
    return build_plan(load_study_config(yaml.safe_load((REPO / "config.yaml").read_text())))


def test_the_default_study_is_at_most_100_jobs(default_plan):
    experiments = default_plan.experiments.values()
    train = sum(len(e.train_jobs) for e in experiments)
    continued = sum(len(e.continue_jobs()) for e in experiments)
    per_experiment = 3 * len(experiments)  # evaluation, sweep table, figures
    audits = 2 * sum(e.is_audit for e in experiments)  # import and audit table
    llm = sum(len(e.evaluations) for e in experiments)
    rounds = sum(e.rounds for e in experiments)
    sources = sum(e.is_toy for e in experiments) + len(default_plan.stores) + len(default_plan.shared)
    total = 1 + sources + train + continued + per_experiment + audits + llm + rounds + bool(default_plan.study_figures)
    # sbw_large: 2 fused jobs of 12 L0s (one per seed) and 2 top-AFA SAEs alone
    assert [len(j.points) for j in default_plan.experiments["sbw_large"].train_jobs] == [12, 12, 1, 1]
    # smollm2_audit evaluates smollm2_layer6's SAEs again: 3 LLM evaluations more, no training
    assert train == 35 and continued == 7 and llm == 6 and rounds == 1 and len(default_plan.shared) == 1
    assert total <= 100, total


def test_what_trains_together_fusable_curves_by_seed_others_alone():
    exp = experiment(grid={"architecture": ["batchtopk", "top_afa"], "width": [8, 16], "l0": [1, 2, 3],
                           "seed": [0, 1]}, training={"fused_group_size": 2})
    plan = build_experiment_plan("e", exp)
    fused = [j for j in plan.train_jobs if j.fused]
    # per (width, seed): L0s 1..3 in near-equal chunks of at most 2, by L0: [1, 2] and [3] (alone)
    assert len(fused) == 4 and all([p.l0 for p in j.points] == [1, 2] for j in fused)
    assert all(len({(p.width, p.seed, p.architecture) for p in j.points}) == 1 for j in fused)
    alone = [j.points[0] for j in plan.train_jobs if not j.fused]
    assert sorted((p.architecture, p.l0 or 0) for p in alone) == [("batchtopk", 3)] * 4 + [("top_afa", 0)] * 4
    # every point trains in exactly one job, named uniquely
    assert sorted(p.key for j in plan.train_jobs for p in j.points) == sorted(p.key for p in plan.points)
    assert len({j.name for j in plan.train_jobs}) == len(plan.train_jobs)
    assert fused[0].checkpoints == layout.JOB_CHECKPOINTS.format(experiment="e", job=fused[0].name)
    assert plan.train_jobs[-1].checkpoints.endswith(f"{plan.train_jobs[-1].points[0].path}/checkpoints")


def test_a_changed_metric_setting_changes_no_training_job():
    before = build_experiment_plan("e", experiment())
    after = build_experiment_plan("e", experiment(metrics={"eval_batches": 7}))
    assert [training_params(before.config, j) for j in before.train_jobs] == \
        [training_params(after.config, j) for j in after.train_jobs]


def test_a_changed_description_changes_no_job():
    before, after = experiment(), experiment(description="Why this sweep exists")
    assert after.describe() == "Why this sweep exists" and before.describe() != after.describe()
    # training and every later job (continuations, evaluation, refinement, sweep table) take these params
    assert [training_params(before, j) for j in build_experiment_plan("e", before).train_jobs] == \
        [training_params(after, j) for j in build_experiment_plan("e", after).train_jobs]
    assert before.for_jobs() == after.for_jobs()


def test_an_added_l0_changes_only_the_job_it_joins():
    def jobs(l0s, architectures=("batchtopk", "standard")):
        exp = experiment(grid={"architecture": list(architectures), "width": [8], "l0": l0s, "seed": [0, 1]})
        return {j.name: training_params(exp, j) for j in build_experiment_plan("e", exp).train_jobs}

    before, after = jobs([1, 2]), jobs([1, 2, 3])
    changed = {name for name in after if before.get(name) != after[name]}
    # the two fused BatchTopK jobs (one per seed) take L0 3; the standard SAEs of L0 3 are new jobs of their own
    assert changed == {"batchtopk_w8_seed0_0", "batchtopk_w8_seed1_0", "standard_w8_l0_3_seed0", "standard_w8_l0_3_seed1"}
    assert all(before[name] == after[name] for name in before if name.startswith("standard"))


def test_a_refinement_round_extends_the_plan_under_the_same_rule():
    points = grid(range(2, 13))
    rec, = recommendation(points)
    exp = experiment(grid={"architecture": ["batchtopk"], "width": [50], "l0": list(range(2, 13)), "seed": [0, 1]},
                     refine={"points": 3, "seeds": [0, 1, 2], "samples": 4096, "spacing": "linear"},
                     training={"fused_group_size": 64})
    plan = build_experiment_plan("e", exp)
    coarse = list(plan.train_jobs)
    added = refine_points(points, [rec], exp.refine)  # per seed 0, 1: 6.5, 7.5, 8.5; seed 2 also 6..9
    jobs = sorted(plan.extend(1, added), key=lambda j: j.name)
    assert plan.train_jobs == coarse + plan.train_jobs[len(coarse):] and len(plan.train_jobs) == len(coarse) + 3
    assert [j.name for j in jobs] == [f"refine1_batchtopk_w50_seed{s}_0" for s in (0, 1, 2)]
    assert [p.l0 for p in jobs[0].points] == [6.5, 7.5, 8.5]
    assert [p.l0 for p in jobs[2].points] == [6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0]
    assert {j.name for j in jobs}.isdisjoint(j.name for j in coarse)
    # added points train on refine.samples; the coarse grid on training.samples
    def samples(job):
        return Experiment.model_validate(training_params(exp, job)).training.samples

    assert samples(jobs[0]) == 4096 and samples(coarse[0]) == exp.training.samples != 4096
    # a seed with one added point trains it alone, as the coarse grid does
    solo = training_jobs("e", [GridPoint(experiment="e", architecture="batchtopk", width=50, l0=7.5, seed=0)], 64, 1)
    assert len(solo) == 1 and not solo[0].fused and solo[0].name.startswith("refine1_")


def test_continuations_come_from_the_metric_that_reads_them():
    exp = experiment(source={"preset": "hedging"}, grid={"architecture": ["batchtopk"], "width": [5, 80], "l0": [2]},
                     metrics={"hedging": {"enabled": True, "new_latents": 64}})
    plan = build_experiment_plan("e", exp)
    narrow, wide = plan.points
    assert [(c.variant, c.extend_by, c.samples) for c in plan.continuations(narrow)] == \
        [("control", 0, exp.training.samples), ("extended", 5, exp.training.samples)]
    assert [c.extend_by for c in plan.continuations(wide)] == [0, 64]
    assert len(plan.continue_jobs()) == 2 and len(plan.continued_files(narrow)) == 2 * 4
    assert build_experiment_plan("e", experiment()).continue_jobs() == []


def test_shared_inputs_are_declared_by_metrics_and_built_once(default_plan):
    llm = [e for e in default_plan.experiments.values() if "sparse_probing" in e.evaluations]
    assert [e.name for e in llm] == ["smollm2_layer6", "smollm2_audit"]
    shared = llm[0].evaluations["sparse_probing"]["probing_activations"]
    assert shared.kind == "probe_set" and default_plan.shared == {shared.name: shared}
    assert shared.manifest == layout.SHARED_INPUT_MANIFEST.format(name=shared.name)
    # the LLM experiments read one store, extracted once
    assert len(default_plan.stores) == 1
    assert len({e.store for e in default_plan.experiments.values() if e.store}) == 1


def test_an_audit_imports_its_saes_instead_of_training_and_shares_the_trained_experiments_inputs(default_plan):
    """smollm2_audit names smollm2_layer6's SAE folders: no training job, one point per folder, the import job's
    inputs are those folders' files (so it runs after their training), the same store and probe set."""
    audit, trained = default_plan.experiments["smollm2_audit"], default_plan.experiments["smollm2_layer6"]
    assert audit.is_audit and audit.train_jobs == [] and audit.continue_jobs() == []
    assert [p.path for p in audit.points] == ["saes/" + name for name in ("l0_8", "l0_16", "l0_32", "l0_64", "l0_128")]
    trained_sae = {f"results/{f}" for p in trained.points for name, f in trained.trained_files(p).items()
                   if name in ("cfg", "weights")}
    assert {f for s in audit.audited for f in s.files} == trained_sae
    assert audit.trained_files(audit.points[0]) == {
        "cfg": "smollm2_audit/saes/l0_8/sae/cfg.json", "weights": "smollm2_audit/saes/l0_8/sae/sae_weights.safetensors",
        "record": "smollm2_audit/saes/l0_8/audit.json"}
    assert audit.store == trained.store and audit.evaluations == trained.evaluations
    assert audit.figures == ["audit_verdicts"]
