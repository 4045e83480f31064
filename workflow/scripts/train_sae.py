from pathlib import Path

from sae.jobs.train import train_point
from sae.tracking import Tracking
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
point = snakemake.params.point
train_point(
    exp=snakemake.params.experiment,
    point=point,
    source_dir=Path(snakemake.input.source).parent,
    sae_dir=Path(snakemake.output.sae),
    train_json=Path(snakemake.output.summary),
    checkpoint_dir=Path(snakemake.params.checkpoints),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, point.experiment),
)
