from pathlib import Path

from sae.config import GridPoint, load_study_config
from sae.figures import fixed_options
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
    # options the sweep table has no column for (fixed, not swept): l0_choice's λ_AFA
    fixed_options=fixed_options(load_study_config(snakemake.config).experiments[snakemake.params.experiment]),
)
