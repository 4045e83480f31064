from pathlib import Path

from sae.config import LLMSource
from sae.data.llm import extract_activations
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
source = LLMSource.model_validate(snakemake.params.source)
extract_activations(source, Path(snakemake.output.manifest).parent, threads=snakemake.threads)
