from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.jobs.evaluate import evaluate_point
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)
point = GridPoint.model_validate(snakemake.params.point)
evaluate_point(
    exp=Experiment.model_validate(snakemake.params.experiment),
    point=point,
    source_dir=Path(snakemake.input.source).parent,
    sae_dir=Path(snakemake.input.sae).parent,
    metrics_json=Path(snakemake.output.metrics),
    tensors_path=Path(snakemake.output.tensors),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, point.experiment),
)
