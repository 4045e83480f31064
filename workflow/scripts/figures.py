from pathlib import Path

from sae.config import GridPoint
from sae.runtime import setup_job
from sae.tracking import Tracking
from sae.jobs.figure import draw_figures

setup_job(snakemake.log[0], snakemake.threads)

draw_figures(
    names=snakemake.params.figures,
    experiment=snakemake.params.experiment,
    points=[GridPoint.model_validate(p) for p in snakemake.params.points],
    round_manifests=[Path(p) for p in snakemake.params.rounds],
    results_dir=Path(snakemake.params.results_dir),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, snakemake.params.experiment),
)
