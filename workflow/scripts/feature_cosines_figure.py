from pathlib import Path

from sae.config import GridPoint
from sae.io import read_json
from sae.jobs.figures import feature_cosine_figures, heatmap_points
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)
points = [GridPoint.model_validate(p) for p in snakemake.params.points]
true_l0 = read_json(snakemake.input.toy_info)["true_l0"]
cosines = dict(zip(points, snakemake.input.cosines, strict=True))
feature_cosine_figures(
    experiment=snakemake.wildcards.experiment,
    true_l0=true_l0,
    heatmaps=[(p, Path(cosines[p])) for p in heatmap_points(points, true_l0)],
    out_dir=Path(snakemake.output[0]).parent,
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, snakemake.wildcards.experiment),
)
