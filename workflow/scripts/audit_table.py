from pathlib import Path

from sae.jobs.audit_table import audit_table
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)

audit_table(Path(snakemake.input.table), Path(snakemake.input.recommendation), Path(snakemake.output[0]))
