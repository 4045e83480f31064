from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.jobs.train import train_group
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
train_group(
    exp=Experiment.model_validate(snakemake.params.experiment),
    points=[GridPoint.model_validate(p) for p in snakemake.params.points],
    source_dir=Path(snakemake.input.source).parent,
    out_dir=Path(snakemake.output[0]),
    checkpoint_dir=Path(snakemake.params.checkpoints),
)
