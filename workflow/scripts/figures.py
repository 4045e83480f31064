from pathlib import Path

from sae.io import read_json
from sae.jobs.figures import decoder_figures
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)
experiment = snakemake.wildcards.experiment
decoder_figures(
    experiment=experiment,
    sweep_csv=Path(snakemake.input.table),
    recommendation_json=Path(snakemake.input.recommendation),
    ground_truth_json=Path(snakemake.input.ground_truth) if snakemake.input.ground_truth else None,
    true_l0=read_json(snakemake.input.toy_info)["true_l0"] if snakemake.input.toy_info else None,
    out_dir=Path(snakemake.output.decoder).parent,
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, experiment),
)
