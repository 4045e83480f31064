from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.jobs.continue_sae import continue_point
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)
point = GridPoint.model_validate(snakemake.params.point)
continue_point(
    exp=Experiment.model_validate(snakemake.params.experiment),
    point=point,
    variant=snakemake.wildcards.variant,
    extend_by=snakemake.params.continuation["extend_by"],
    samples=snakemake.params.continuation["samples"],
    sae_dir=Path(snakemake.input.sae).parent,
    source_dir=Path(snakemake.input.source).parent,
    out_dir=Path(snakemake.output.summary).parent,
    checkpoint_dir=Path(snakemake.params.checkpoints),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, point.experiment),
)
