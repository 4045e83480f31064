"""Config validation, the registries, and the helpers every rule shares. Paths come only from sae.layout."""

import re
import sys

from sae import layout
from sae.config import ConfigError, grid_points, load_study_config
from sae.figures import FIGURES, caption
from sae.fused.plan import training_groups
from sae.metrics import METRICS, enabled
from sae.metrics.sparse_probing.spec import probe_set
from sae.registry import applies


try:
    STUDY = load_study_config(config)
except ConfigError as err:
    # One readable message naming every bad field; no traceback, no job started.
    sys.exit(f"config.yaml: {err}")

POINTS = {p.key: p for p in grid_points(STUDY)}
GROUPS = {(g.experiment, g.name): g for g in training_groups(STUDY)}
GROUP_OF = {p.key: g for g in GROUPS.values() for p in g.points}
STORES = {
    layout.store_name(e.source.model_dump()): e.source
    for e in STUDY.experiments.values()
    if e.source.kind == "llm"
}
# One set of probing activations per (model, layer, datasets, rows): name -> (source, probing config).
PROBE_SETS = {
    layout.probe_set_name(probe_set(e.source, e.metrics.sparse_probing)): (e.source, e.metrics.sparse_probing)
    for e in STUDY.experiments.values()
    if METRICS["sparse_probing"] in enabled(e, "experiment")
}


def R(pattern):
    """A sae.layout pattern under the study's results directory."""
    return f"<results>/{pattern}"


def LOG(rule, name):
    return R(layout.log(rule, name))


def _alternatives(names):
    return "|".join(re.escape(n) for n in sorted(set(names))) or "(?!)"


wildcard_constraints:
    experiment=_alternatives(STUDY.experiments),
    point=_alternatives(p.path for p in POINTS.values()),
    evaluation=_alternatives(
        s.name for e in STUDY.experiments.values() for s in enabled(e, "experiment")
    ),
    group="[^/]+",
    probe_set="[^/]+",
    store="[^/]+",


def experiment_config(wildcards):
    return STUDY.experiments[wildcards.experiment]


def grid_point(wildcards):
    return POINTS[f"{wildcards.experiment}/{wildcards.point}"]


def source_input(wildcards):
    """What an experiment's jobs read: its toy model's weights, or the manifest of its activation store."""
    source = experiment_config(wildcards).source
    if source.kind == "llm":
        return rules.extract_activations.output.manifest.format(
            store=layout.store_name(source.model_dump())
        )
    return rules.toy_model.output.weights.format(experiment=wildcards.experiment)


# Params are passed as plain data (validated again by the scripts): Snakemake's params
# rerun-trigger ignores objects it cannot serialise, so a changed config would not rerun.
def experiment_param(wildcards):
    return experiment_config(wildcards).model_dump(mode="json")


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


def fused_group_dir(wildcards):
    """The folder of the fused group that trains this point, or nothing when it trains alone."""
    group = GROUP_OF.get(grid_point(wildcards).key)
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


def figure_applies(figure, experiment):
    return applies(figure.applies_to, STUDY.experiments[experiment].source.kind)


def final_outputs():
    return [
        R(layout.FIGURE).format(experiment=name, figure=figure.name)
        for name in STUDY.experiments
        for figure in FIGURES.values()
        if figure_applies(figure, name)
    ]


def figure_inputs(figure):
    """The rule inputs of the outputs `figure` declared it reads."""
    available = {
        "sweep": rules.sweep_table.output.table,
        "recommendation": rules.sweep_table.output.recommendation,
        "ground_truth": toy_only(rules.ground_truth_sae.output[0]),
        "tensors": per_sae(rules.evaluate_sae.output.tensors),
    }
    return {name: available[name] for name in figure.inputs}
