from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.runtime import setup_job
from sae.tracking import Tracking
from sae.jobs.train import train_job

setup_job(snakemake.log[0], snakemake.threads)

exp = Experiment.model_validate(snakemake.params.experiment)
points = [GridPoint.model_validate(p) for p in snakemake.params.points]
train_job(
    exp=exp,
    points=points,
    source_dir=Path(snakemake.input.source).parent,
    point_dirs=[Path(d) for d in snakemake.params.point_dirs],
    checkpoint_dir=Path(snakemake.params.checkpoints),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, points[0].experiment),
)
