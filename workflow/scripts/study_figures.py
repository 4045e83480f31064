from pathlib import Path

from sae.runtime import setup_job
from sae.tracking import Tracking
from sae.jobs.figure import draw_study_figures

setup_job(snakemake.log[0], snakemake.threads)

figures = snakemake.params.figures
draw_study_figures(
    figures_of=figures,
    results_dir=Path(snakemake.params.results_dir),
    tracks={e: Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, e)
            for e in sorted({e for experiments in figures.values() for e in experiments})},
)
