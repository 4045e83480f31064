from pathlib import Path

from sae.io import read_json
from sae.jobs.figures import heatmap_points, make_figures
from sae.tracking import Tracking
from sae.runtime import setup_job

setup_job(snakemake.log[0], snakemake.threads)
points = snakemake.params.points
experiment = points[0].experiment
true_l0 = read_json(snakemake.input.toy_info)["true_l0"]
cosines = dict(zip(points, snakemake.input.cosines, strict=True))
make_figures(
    experiment=experiment,
    sweep_csv=Path(snakemake.input.table),
    recommendation_json=Path(snakemake.input.recommendation),
    ground_truth_json=Path(snakemake.input.ground_truth),
    true_l0=true_l0,
    heatmaps=[(p, Path(cosines[p])) for p in heatmap_points(points, true_l0)],
    out_dir=Path(snakemake.output.decoder).parent,
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, experiment),
)
