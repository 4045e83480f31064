from pathlib import Path

from sae.config import Experiment
from sae.runtime import setup_job
from sae.tracking import Tracking
from sae.jobs.refine import refine_round

setup_job(snakemake.log[0], snakemake.threads)

name = snakemake.wildcards.experiment
refine_round(
    name=name,
    exp=Experiment.model_validate(snakemake.params.experiment),
    round_=int(snakemake.wildcards.round),
    round_manifests=[Path(p) for p in snakemake.input.rounds],
    results_dir=Path(snakemake.params.results_dir),
    source_dir=Path(snakemake.input.source).parent,
    out=Path(snakemake.output[0]),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, name),
)
