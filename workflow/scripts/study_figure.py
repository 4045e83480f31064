from pathlib import Path

from sae.jobs.figure import draw_study_figure
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)
draw_study_figure(
    name=snakemake.params.figure,
    sweep_csvs=[Path(f) for f in snakemake.input.sweeps],
    out_png=Path(snakemake.output[0]),
    tracks=[Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, e) for e in snakemake.params.experiments],
)
