from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.runtime import setup_job
from sae.tracking import Tracking
from sae.jobs.llm_eval import evaluate_experiment

setup_job(snakemake.log[0], snakemake.threads)

points = [GridPoint.model_validate(p) for p in snakemake.params.points]
evaluate_experiment(
    name=snakemake.wildcards.evaluation,
    exp=Experiment.model_validate(snakemake.params.experiment),
    points=points,
    point_dirs=[Path(d) for d in snakemake.params.point_dirs],
    out_json=Path(snakemake.output[0]),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, points[0].experiment),
    inputs={name: Path(snakemake.input[name]) for name in snakemake.params.inputs},
)
