from pathlib import Path

from sae.config import LLMSource
from sae.data.probing import write_probe_set
from sae.runtime import resolve_device, setup_job

setup_job(snakemake.log[0], snakemake.threads)
source = LLMSource.model_validate(snakemake.params.source)
write_probe_set(source, snakemake.params.datasets, snakemake.params.rows, snakemake.params.batch_size,
                Path(snakemake.output.manifest), resolve_device(source.device))
