from pathlib import Path

from sae.jobs.train import train_group
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
train_group(
    exp=snakemake.params.experiment,
    points=snakemake.params.points,
    source_dir=Path(snakemake.input.source).parent,
    out_dir=Path(snakemake.output[0]),
    checkpoint_dir=Path(snakemake.params.checkpoints),
)
