from pathlib import Path

from sae.config import ToySource
from sae.jobs.toy_model import write_toy_model
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
write_toy_model(ToySource.model_validate(snakemake.params.source), Path(snakemake.output.weights).parent)
