from pathlib import Path

from sae.jobs.tracking_init import init_tracking
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
init_tracking(snakemake.params.uri, snakemake.params.experiments, snakemake.params.study, Path(snakemake.output[0]))
