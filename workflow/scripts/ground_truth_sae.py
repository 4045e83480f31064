from pathlib import Path

from sae.config import Experiment
from sae.jobs.evaluate import ground_truth_sweep
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
ground_truth_sweep(Experiment.model_validate(snakemake.params.experiment), Path(snakemake.input.source).parent, Path(snakemake.output[0]))
