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
    sweep_table,


rule all:
    input:
        final_outputs(),
    default_target: True
