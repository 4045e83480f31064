"""Config validation and the helpers every rule shares."""

import hashlib
import json
import sys
from pathlib import Path

from sae.config import ConfigError, grid_points, load_study_config, training_groups


try:
    STUDY = load_study_config(config)
except ConfigError as err:
    # One readable message naming every bad field; no traceback, no job started.
    sys.exit(f"config.yaml: {err}")

RESULTS = STUDY.results_dir
POINTS = {p.key: p for p in grid_points(STUDY)}
GROUPS = {(g.experiment, g.name): g for g in training_groups(STUDY)}
GROUP_OF = {p.key: g for g in GROUPS.values() for p in g.points}
SAE_DIR = "<results>/{experiment}/{arch}/w{width}/l0_{l0}/seed{seed}"


wildcard_constraints:
    experiment="|".join(STUDY.experiments),
    arch="[a-z_]+",
    width=r"\d+",
    l0=r"\d+(\.\d+)?",
    seed=r"-?\d+",


def store_name(source):
    """One activation store per distinct LLM source (model, layer, dataset, budget, ...), shared by experiments."""
    digest = hashlib.sha1(json.dumps(source.model_dump(), sort_keys=True).encode()).hexdigest()[:10]
    model = "".join(c if c.isalnum() or c in "-_." else "-" for c in source.model)
    return f"{model}_layer{source.layer}_{digest}"


STORES = {store_name(e.source): e.source for e in STUDY.experiments.values() if e.source.kind == "llm"}


def source_input(wildcards):
    """What an experiment's jobs read: its toy model's weights, or the manifest of its activation store."""
    source = experiment_config(wildcards).source
    if source.kind == "llm":
        return rules.extract_activations.output.manifest.format(store=store_name(source))
    return rules.toy_model.output.weights.format(experiment=wildcards.experiment)


def experiment_config(wildcards):
    return STUDY.experiments[wildcards.experiment]


def grid_point(wildcards):
    key = f"{wildcards.experiment}/{wildcards.arch}/w{wildcards.width}/l0_{wildcards.l0}/seed{wildcards.seed}"
    return POINTS[key]


# Params are passed as plain data (validated again by the scripts): Snakemake's params
# rerun-trigger ignores objects it cannot serialise, so a changed config would not rerun.
def experiment_param(wildcards):
    return experiment_config(wildcards).model_dump(mode="json")


def point_param(wildcards):
    return grid_point(wildcards).model_dump(mode="json")


def points_param(points):
    return [p.model_dump(mode="json") for p in points]


def experiment_points(experiment):
    return [p for p in POINTS.values() if p.experiment == experiment]


def sae_paths(pattern, experiment):
    """`pattern` (a per-SAE output path) expanded over every grid point of `experiment`."""
    return [
        pattern.format(experiment=p.experiment, arch=p.architecture, width=p.width, l0=p.l0_label, seed=p.seed)
        for p in experiment_points(experiment)
    ]


def fused_group_dir(wildcards):
    """The folder of the fused group that trains this point, or nothing when it trains alone."""
    group = GROUP_OF.get(grid_point(wildcards).key)
    return [] if group is None else rules.train_group.output[0].format(experiment=group.experiment, group=group.name)


def train_gpus(wildcards):
    return 1 if experiment_config(wildcards).training.device == "cuda" else 0


def is_toy(experiment):
    return STUDY.experiments[experiment].source.kind == "toy"


def toy_only(path):
    """`path` for a toy-model experiment, nothing for an LLM one (no ground truth there)."""
    return lambda wc: path.format(experiment=wc.experiment) if is_toy(wc.experiment) else []


def llm_only(path):
    """`path` for an LLM experiment, nothing for a toy one."""
    return lambda wc: [] if is_toy(wc.experiment) else path.format(experiment=wc.experiment)


def final_outputs():
    figures = {True: ("decoder_metrics", "feature_cosines"), False: ("decoder_metrics", "splice_cost")}
    return [
        f"{STUDY.results_dir}/{name}/figures/{figure}.png" for name in STUDY.experiments for figure in figures[is_toy(name)]
    ]
