from pathlib import Path

from sae.jobs.figures import splice_cost_figures
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)
splice_cost_figures(
    experiment=snakemake.wildcards.experiment,
    sweep_csv=Path(snakemake.input.table),
    recommendation_json=Path(snakemake.input.recommendation),
    out_dir=Path(snakemake.output[0]).parent,
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, snakemake.wildcards.experiment),
)
