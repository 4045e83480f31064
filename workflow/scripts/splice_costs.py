from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.jobs.splice import splice_costs
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)
experiment = snakemake.wildcards.experiment
splice_costs(
    exp=Experiment.model_validate(snakemake.params.experiment),
    points=[GridPoint.model_validate(p) for p in snakemake.params.points],
    sae_dirs=[Path(p) for p in snakemake.input.saes],
    out_json=Path(snakemake.output[0]),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, experiment),
)
