from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.jobs.refine import plan_round, planned_points
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
plan_round(
    exp=Experiment.model_validate(snakemake.params.experiment),
    points=[GridPoint.model_validate(p) for p in snakemake.params.points] + planned_points(
        [Path(p) for p in snakemake.input.plans]),
    metrics_jsons=[Path(p) for p in snakemake.input.metrics],
    out=Path(snakemake.output[0]),
)
