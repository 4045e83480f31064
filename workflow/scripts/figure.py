from pathlib import Path

from sae.config import GridPoint
from sae.jobs.figure import draw_figure
from sae.runtime import setup_job
from sae.tracking import Tracking


def declared(name):
    """The path of input `name` if the figure declared it (and it applies), else None."""
    return Path(snakemake.input[name]) if name in snakemake.input.keys() and snakemake.input[name] else None


setup_job(snakemake.log[0], snakemake.threads)
experiment = snakemake.wildcards.experiment
points = [GridPoint.model_validate(p) for p in snakemake.params.points]
tensors = [Path(t) for t in snakemake.input.tensors] if "tensors" in snakemake.input.keys() else []
draw_figure(
    name=snakemake.params.figure,
    experiment=experiment,
    out_png=Path(snakemake.output[0]),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, experiment),
    sweep_csv=declared("sweep"),
    recommendation_json=declared("recommendation"),
    ground_truth_json=declared("ground_truth"),
    tensors=list(zip(points, tensors, strict=True)) if tensors else [],
)
