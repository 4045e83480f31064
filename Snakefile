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
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/figures.smk"


# Cheap bookkeeping runs on the submitting host, not as cluster jobs (table and figure rules declare it themselves).
localrules:
    all,
    tracking_init,


# A failed workflow leaves no sweep RUNNING in MLflow forever; a finished sweep table set FINISHED.
onerror:
    from sae.tracking import fail_unfinished_parents  # mlflow is slow to import: only when needed

    fail_unfinished_parents(STUDY.tracking.uri, layout.resolve(STUDY.results_dir, layout.RUNS_FILE))


# Every figure, and every SAE's files and sweep table: Snakemake does not rebuild a missing intermediate file
# whose consumers are up to date (what makes temp() work), so a file deleted inside an SAE folder, or a table
# whose job failed on a damaged input, would otherwise go unnoticed.
rule all:
    input:
        [R(e.path(layout.FIGURE, figure=f)) for e in EXPERIMENTS.values() for f in e.figures],
        [R(layout.STUDY_FIGURE.format(figure=f)) for f in PLAN.study_figures],
        [R(e.path(p)) for e in EXPERIMENTS.values() for p in (layout.SWEEP_TABLE, layout.RECOMMENDATION)],
        [R(e.path(layout.AUDIT_TABLE)) for e in EXPERIMENTS.values() if e.is_audit],
        [R(f) for e in EXPERIMENTS.values() for p in e.points for f in e.trained_files(p).values()],
        [R(f) for e in EXPERIMENTS.values() for p in e.points for f in e.continued_files(p)],
    default_target: True
