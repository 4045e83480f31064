"""Config validation, the registries, and the helpers every rule shares. Paths come only from sae.layout."""

import re
import sys

from snakemake.exceptions import WorkflowError

from sae import layout
from sae.config import ConfigError, grid_points, load_study_config
from sae.data.inputs import store_identity
from sae.figures import FIGURES, caption, draws_for
from sae.fused.plan import training_groups
from sae.jobs.refine import planned_points
from sae.refine import added_training, round_groups
from sae.metrics import METRICS, enabled
from sae.metrics import point_inputs as metric_point_inputs_of
from sae.metrics.hedging.spec import VARIANTS as HEDGING_VARIANTS
from sae.metrics.sparse_probing.spec import probe_set
from sae.preflight import discard_interrupted_outputs, study_problems
from sae.registry import applies


try:
    STUDY = load_study_config(config)
except ConfigError as err:
    # One readable message naming every bad field; no traceback, no job started.
    sys.exit(f"config.yaml: {err}")
if problems := study_problems(STUDY, workflow):
    # Found before any job starts, so nothing is half written: one line per problem.
    sys.exit("cannot start the study:\n" + "\n".join(f"  {p}" for p in problems))
discard_interrupted_outputs()  # what a Ctrl-C'd run left marked incomplete reruns, without --rerun-incomplete

POINTS = {p.key: p for p in grid_points(STUDY)}
GROUPS = {(g.experiment, g.name): g for g in training_groups(STUDY)}
GROUP_OF = {p.key: g for g in GROUPS.values() for p in g.points}
# An LLM experiment's store, named once: its identity fingerprints local input files (a directory walk)
STORE_OF = {
    name: layout.store_name(store_identity(e.source))
    for name, e in STUDY.experiments.items()
    if e.source.kind == "llm"
}
STORES = {store: STUDY.experiments[name].source for name, store in STORE_OF.items()}
# One set of probing activations per (model, layer, datasets, rows): name -> (source, probing config).
PROBE_SETS = {
    layout.probe_set_name(probe_set(e.source, e.metrics.sparse_probing)): (e.source, e.metrics.sparse_probing)
    for e in STUDY.experiments.values()
    if METRICS["sparse_probing"] in enabled(e, "experiment")
}


def shared_threads(wanted):
    """Threads for a multi-core job that runs beside 1-core jobs: at most half the cores.

    Snakemake does not hold cores back for a waiting job, so a job asking for every core starts only when
    all are free at once; with 1-core jobs finishing one by one that is at the end of the study (measured:
    the default study's four 2-core LLM jobs ran one after another in its last 2.5 of 26 minutes).
    """
    try:
        cores = workflow.cores
    except WorkflowError:  # no --cores (a cluster executor): each job has its node's cores to itself
        return wanted
    return max(1, min(wanted, cores // 2))


def R(pattern):
    """A sae.layout pattern under the study's results directory."""
    return f"<results>/{pattern}"


def LOG(rule, name):
    return R(layout.log(rule, name))


def _alternatives(names):
    return "|".join(re.escape(n) for n in sorted(set(names))) or "(?!)"


def _point_pattern():
    """The grid's point folders; with refinement also any L0 on a curve (added points are known only later)."""
    grid = _alternatives(p.path for p in POINTS.values())
    if not any(e.refine for e in STUDY.experiments.values()):
        return grid
    return f"{grid}|[^/]+/w[0-9]+(/[^/]+)*/l0_[0-9.]+/seed[0-9]+"


wildcard_constraints:
    experiment=_alternatives(STUDY.experiments),
    point=_point_pattern(),
    round="[0-9]+",
    evaluation=_alternatives(
        s.name for e in STUDY.experiments.values() for s in enabled(e, "experiment")
    ),
    group="[^/]+",
    variant="|".join(HEDGING_VARIANTS),
    probe_set="[^/]+",
    store="[^/]+",


def experiment_config(wildcards):
    return STUDY.experiments[wildcards.experiment]


def grid_point(wildcards):
    key = f"{wildcards.experiment}/{wildcards.point}"
    if key in POINTS:
        return POINTS[key]
    # a point a refinement round added: its plan file exists, since the point's jobs came from it
    plans = [
        layout.resolve(STUDY.results_dir, layout.REFINE_PLAN, experiment=wildcards.experiment, round=r)
        for r in range(1, refine_rounds(wildcards.experiment) + 1)
    ]
    return next(p for p in planned_points([f for f in plans if f.exists()]) if p.key == key)


def source_input(wildcards):
    """What an experiment's jobs read: its toy model's weights, or the manifest of its activation store."""
    if wildcards.experiment in STORE_OF:
        return rules.extract_activations.output.manifest.format(store=STORE_OF[wildcards.experiment])
    return rules.toy_model.output.weights.format(experiment=wildcards.experiment)


# Params are passed as plain data (validated again by the scripts): Snakemake's params
# rerun-trigger ignores objects it cannot serialise, so a changed config would not rerun.
def experiment_param(wildcards):
    return experiment_config(wildcards).model_dump(mode="json", exclude_unset=True)


def plan_path(experiment, round_):
    return layout.resolve(STUDY.results_dir, layout.REFINE_PLAN, experiment=experiment, round=round_)


def refined_groups(experiment):
    """The fused jobs of the refinement rounds planned so far (a round's plan exists once its checkpoint ran)."""
    exp = STUDY.experiments[experiment]
    return [g for r in range(1, refine_rounds(experiment) + 1) if plan_path(experiment, r).exists()
            for g in round_groups(experiment, exp, r, planned_points([plan_path(experiment, r)]))]


def training_group(experiment, group):
    """A fused job by name: the coarse grid's, or one a refinement round planned."""
    if (experiment, group) in GROUPS:
        return GROUPS[(experiment, group)]
    return next(g for g in refined_groups(experiment) if g.name == group)


def group_training_param(wildcards):
    points = training_group(wildcards.experiment, wildcards.group).points
    if (wildcards.experiment, wildcards.group) in GROUPS:
        return experiment_config(wildcards).for_training(list(points))
    return added_training(experiment_config(wildcards), points)


def point_training_param(wildcards):
    point = grid_point(wildcards)
    if point.key in POINTS:
        return experiment_config(wildcards).for_training([point])
    return added_training(experiment_config(wildcards), [point])


def point_param(wildcards):
    return grid_point(wildcards).model_dump(mode="json")


def experiment_points(experiment):
    return [p for p in POINTS.values() if p.experiment == experiment]


def points_param(wildcards):
    return [p.model_dump(mode="json") for p in experiment_points(wildcards.experiment)]


def sae_paths(pattern, experiment):
    """`pattern` (a per-SAE output path) expanded over every grid point of `experiment`."""
    return [pattern.format(experiment=experiment, point=p.path) for p in experiment_points(experiment)]


def per_sae(pattern):
    return lambda wc: sae_paths(pattern, wc.experiment)


def refine_rounds(experiment):
    refine = STUDY.experiments[experiment].refine
    return refine.rounds if refine else 0


def plan_files(experiment, rounds):
    """The plans of refinement rounds 1..rounds; asking for one waits for its checkpoint (the DAG grows)."""
    return [
        checkpoints.refine_plan.get(experiment=experiment, round=r).output[0]
        for r in range(1, rounds + 1)
    ]


def points_through(experiment, rounds):
    """The coarse grid's points, then those refinement rounds 1..rounds added."""
    return experiment_points(experiment) + planned_points(plan_files(experiment, rounds))


def all_plans(wildcards):
    return plan_files(wildcards.experiment, refine_rounds(wildcards.experiment))


def per_sae_refined(pattern):
    """`pattern` over every point of the experiment, the refined ones included."""
    return lambda wc: [
        pattern.format(experiment=wc.experiment, point=p.path)
        for p in points_through(wc.experiment, refine_rounds(wc.experiment))
    ]


def metric_point_inputs(wildcards):
    """What the point's enabled per-SAE metrics read beside its SAE (a hedging metric: its continuations)."""
    return [str(layout.resolve(STUDY.results_dir, p, experiment=wildcards.experiment, point=wildcards.point))
            for p in metric_point_inputs_of(experiment_config(wildcards))]


def continuation_param(wildcards):
    """How the variant continues: new latents and samples, from the experiment's hedging settings."""
    exp, point = experiment_config(wildcards), grid_point(wildcards)
    hedging = exp.metrics.hedging
    return {
        "extend_by": hedging.extend_by(point.width) if wildcards.variant == "extended" else 0,
        "samples": hedging.samples or exp.training.samples,
    }


def fused_group_dir(wildcards):
    """The folder of the fused group that trains this point, or nothing when it trains alone."""
    key = grid_point(wildcards).key
    group = GROUP_OF.get(key) or next(
        (g for g in refined_groups(wildcards.experiment) if key in {p.key for p in g.points}), None)
    if group is None:
        return []
    return rules.train_group.output[0].format(experiment=group.experiment, group=group.name)


def train_gpus(wildcards):
    return 1 if experiment_config(wildcards).training.device == "cuda" else 0


def is_toy(experiment):
    return STUDY.experiments[experiment].source.kind == "toy"


def toy_only(path):
    """`path` for a toy-model experiment, nothing for an LLM one (no ground truth there)."""
    return lambda wc: path.format(experiment=wc.experiment) if is_toy(wc.experiment) else []


def evaluation_outputs(wildcards):
    """Every enabled per-experiment evaluation of the experiment (the sweep table merges them all)."""
    return [
        rules.llm_eval.output[0].format(experiment=wildcards.experiment, evaluation=spec.name)
        for spec in enabled(experiment_config(wildcards), "experiment")
    ]


def evaluation_reads(wildcards):
    """The data-rule outputs a per-experiment evaluation declared it reads (`MetricSpec.reads`), by name."""
    exp = experiment_config(wildcards)
    available = {
        "probing_activations": lambda: rules.probing_activations.output.manifest.format(
            probe_set=layout.probe_set_name(probe_set(exp.source, exp.metrics.sparse_probing))
        ),
    }
    return {name: available[name]() for name in METRICS[wildcards.evaluation].reads}


def sae_files():
    """Every grid point's SAE files, and those its metrics read beside it (hedging's continuations).

    Targets of `all` themselves: Snakemake does not rebuild a missing intermediate file whose consumers are
    up to date (what makes temp() work), so a file deleted inside an SAE folder would otherwise go unnoticed.
    """
    return [
        pattern.format(experiment=p.experiment, point=p.path)
        for p in POINTS.values()
        for pattern in [R(layout.SAE_CFG), R(layout.SAE_WEIGHTS)]
        + [R(q) for q in metric_point_inputs_of(STUDY.experiments[p.experiment])]
    ]


def figure_applies(figure, experiment):
    return draws_for(figure, STUDY.experiments[experiment])


def figure_experiments(figure):
    return [name for name in STUDY.experiments if figure_applies(figure, name)]


def final_outputs():
    per_experiment = [
        R(layout.FIGURE).format(experiment=name, figure=figure.name)
        for figure in FIGURES.values()
        if figure.scope == "experiment"
        for name in figure_experiments(figure)
    ]
    per_study = [
        R(layout.STUDY_FIGURE).format(figure=figure.name)
        for figure in FIGURES.values()
        if figure.scope == "study" and figure_experiments(figure)
    ]
    # targets too: Snakemake does not rebuild a missing intermediate whose consumers (the figures) are up to date,
    # so a sweep table whose job failed on a damaged metrics file would stay missing after the fix
    tables = [R(p).format(experiment=name) for name in STUDY.experiments
              for p in (layout.SWEEP_TABLE, layout.RECOMMENDATION)]
    return per_experiment + per_study + tables


def figure_inputs(figure):
    """The rule inputs of the outputs `figure` declared it reads."""
    available = {
        "sweep": rules.sweep_table.output.table,
        "recommendation": rules.sweep_table.output.recommendation,
        "ground_truth": toy_only(rules.ground_truth_sae.output[0]),
        "tensors": per_sae(rules.evaluate_sae.output.tensors),
    }
    return {name: available[name] for name in figure.inputs}
