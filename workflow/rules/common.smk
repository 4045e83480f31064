"""Config validation and the helpers every rule shares."""

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


def experiment_config(wildcards):
    return STUDY.experiments[wildcards.experiment]


def grid_point(wildcards):
    key = f"{wildcards.experiment}/{wildcards.arch}/w{wildcards.width}/l0_{wildcards.l0}/seed{wildcards.seed}"
    return POINTS[key]


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


def final_outputs():
    return [f"{STUDY.results_dir}/{name}/figures/decoder_metrics.png" for name in STUDY.experiments]
