"""Config validation, the study's plan, and the helpers every rule shares. Paths come only from the plan (sae.layout)."""

import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from sae import layout
from sae.config import ConfigError, load_study_config
from sae.figures import caption
from sae.metrics import METRICS
from sae.plan import build_plan, training_params
from sae.preflight import discard_interrupted_outputs, study_problems
from sae.resources import TRAIN_MEM_MB, TRAIN_RUNTIME_MIN


try:
    STUDY = load_study_config(config)
except ConfigError as err:
    # One readable message naming every bad field; no traceback, no job started.
    sys.exit(f"config.yaml: {err}")
if problems := study_problems(STUDY, workflow):
    # Found before any job starts, so nothing is half written: one line per problem.
    sys.exit("cannot start the study:\n" + "\n".join(f"  {p}" for p in problems))
discard_interrupted_outputs()  # what a Ctrl-C'd run left marked incomplete reruns, without --rerun-incomplete

PLAN = build_plan(STUDY)
EXPERIMENTS = PLAN.experiments


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


def shared_threads_of(wanted):
    """`threads:` of a multi-core job (decided when the DAG is built, once the cores are known)."""
    return lambda wildcards: shared_threads(wanted)


def R(path):
    """A path of the plan (relative to the results folder) under the study's results directory."""
    return f"<results>/{path}"


def Rs(paths):
    return [R(p) for p in paths]


def P(path):
    """A path of the plan as a job's param (Snakemake fills `<results>` in inputs, outputs and logs only)."""
    return str(layout.resolve(STUDY.results_dir, path))


def LOG(rule, name):
    return R(layout.log(rule, name))


def rule_name(kind, *parts):
    """The name of a job's own rule (Snakemake needs one per job whose outputs are a list, as a training job's SAEs)."""
    return re.sub(r"\W", "_", "_".join([kind, *parts]).replace(".", "p"))


def results_dir(wildcards, input):
    """The study's results folder, as a job's param: the folder of the MLflow runs file every job reads."""
    return str(Path(input.runs).parent)


def json_params(model):
    """Params as plain data (validated again by the scripts): Snakemake's params rerun-trigger ignores objects it
    cannot serialise, so a changed config would not rerun."""
    return model.model_dump(mode="json", exclude_unset=True)


def points_json(points):
    return [p.model_dump(mode="json") for p in points]


def gpus(device):
    return 1 if device == "cuda" else 0


RUNS = R(layout.RUNS_FILE)
URI = STUDY.tracking.uri


def _alternatives(names):
    return "|".join(re.escape(n) for n in sorted(set(names))) or "(?!)"


wildcard_constraints:
    experiment=_alternatives(EXPERIMENTS),
    store=_alternatives(PLAN.stores),
    name=_alternatives(PLAN.shared),
    evaluation=_alternatives(n for e in EXPERIMENTS.values() for n in e.evaluations),
    round="[0-9]+",


def trained(e, points):
    return Rs(f for p in points for f in e.trained_files(p).values())


def evaluated(e, kind):
    return Rs(e.evaluated_files(p)[kind] for p in e.points)


def rounds(e):
    return Rs(e.round_manifest(r) for r in range(1, e.rounds + 1))


def experiment_of(wildcards):
    return EXPERIMENTS[wildcards.experiment]


def points_of(wildcards):
    return points_json(experiment_of(wildcards).points)


def point_dirs_of(wildcards):
    e = experiment_of(wildcards)
    return [P(e.path(layout.POINT_DIR, point=p.path)) for p in e.points]


def source_of(wildcards):
    return R(experiment_of(wildcards).source_input)


def experiment_params(wildcards):
    return experiment_of(wildcards).config.for_jobs()


def figure_output(path, figure, category):
    return report(R(path), caption=str(caption(figure)), category=category)
