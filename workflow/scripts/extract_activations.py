from pathlib import Path

from sae.data.llm import extract_activations
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
extract_activations(snakemake.params.source, Path(snakemake.output.manifest).parent, threads=snakemake.threads)
