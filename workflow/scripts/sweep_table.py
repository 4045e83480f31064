from pathlib import Path

from sae.config import GridPoint
from sae.runtime import setup_job
from sae.tracking import Tracking
from sae.jobs.sweep_table import sweep_table

setup_job(snakemake.log[0], snakemake.threads)

name = snakemake.wildcards.experiment
sweep_table(
    name=name,
    points=[GridPoint.model_validate(p) for p in snakemake.params.points],
    round_manifests=[Path(p) for p in snakemake.input.rounds],
    results_dir=Path(snakemake.params.results_dir),
    evaluation_jsons=[Path(p) for p in snakemake.input.evaluations],
    true_l0=snakemake.params.true_l0,
    out_csv=Path(snakemake.output.table),
    out_recommendation=Path(snakemake.output.recommendation),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, name),
    config=snakemake.params.experiment,
    description=snakemake.params.description,
)
