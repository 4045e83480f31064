from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.jobs.llm_eval import evaluate_experiment
from sae.metrics import METRICS
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)
evaluate_experiment(
    name=snakemake.wildcards.evaluation,
    exp=Experiment.model_validate(snakemake.params.experiment),
    points=[GridPoint.model_validate(p) for p in snakemake.params.points],
    sae_dirs=[Path(p).parent for p in snakemake.input.saes],
    out_json=Path(snakemake.output[0]),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, snakemake.wildcards.experiment),
    inputs={name: Path(snakemake.input[name]) for name in METRICS[snakemake.wildcards.evaluation].reads},
)
