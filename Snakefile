"""Sparse-autoencoder L0 study: declare a grid in config.yaml, get SAEs, diagnostics, figures and MLflow runs."""

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "workflow/rules/common.smk"


# Every output path starts with <results>, the validated config's results_dir.
pathvars:
    results=STUDY.results_dir,


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/continue.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/figures.smk"


# Cheap bookkeeping runs on the submitting host, not as cluster jobs (figure rules declare it themselves).
localrules:
    all,
    tracking_init,
    refine_plan,
    sweep_table,


# A failed workflow leaves no sweep RUNNING in MLflow forever; a finished sweep table set FINISHED.
onerror:
    from sae.tracking import fail_unfinished_parents  # mlflow is slow to import: only when needed

    fail_unfinished_parents(STUDY.tracking.uri, layout.resolve(STUDY.results_dir, layout.RUNS_FILE))


rule all:
    input:
        final_outputs(),
        sae_files(),
    default_target: True
