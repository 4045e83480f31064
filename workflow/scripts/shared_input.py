from pathlib import Path

from sae.runtime import setup_job
from sae.jobs.shared_input import build_shared_input

setup_job(snakemake.log[0], snakemake.threads)

build_shared_input(snakemake.params.kind, snakemake.params.params, Path(snakemake.output.manifest))
