from pathlib import Path

from sae.config import GridPoint
from sae.jobs.refine import planned_points
from sae.jobs.sweep_table import sweep_table
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)
sweep_table(
    points=[GridPoint.model_validate(p) for p in snakemake.params.points]
    + planned_points([Path(p) for p in snakemake.input.plans]),
    metrics_jsons=[Path(p) for p in snakemake.input.metrics],
    train_jsons=[Path(p) for p in snakemake.input.summaries],
    evaluation_jsons=[Path(p) for p in snakemake.input.evaluations],
    true_l0=snakemake.params.true_l0,
    out_csv=Path(snakemake.output.table),
    out_recommendation=Path(snakemake.output.recommendation),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, snakemake.wildcards.experiment),
    config=snakemake.params.experiment,
)
