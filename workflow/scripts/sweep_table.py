from pathlib import Path

from sae.config import GridPoint
from sae.io import read_json
from sae.jobs.sweep_table import sweep_table
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
sweep_table(
    points=[GridPoint.model_validate(p) for p in snakemake.params.points],
    metrics_jsons=[Path(p) for p in snakemake.input.metrics],
    train_jsons=[Path(p) for p in snakemake.input.summaries],
    true_l0=read_json(snakemake.input.toy_info)["true_l0"] if snakemake.input.toy_info else None,
    splice_costs=read_json(snakemake.input.splice_costs) if snakemake.input.splice_costs else None,
    out_csv=Path(snakemake.output.table),
    out_recommendation=Path(snakemake.output.recommendation),
)
