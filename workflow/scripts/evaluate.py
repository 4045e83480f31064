from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.runtime import setup_job
from sae.tracking import Tracking
from sae.jobs.evaluate import evaluate_points, ground_truth_sweep

setup_job(snakemake.log[0], snakemake.threads)

exp = Experiment.model_validate(snakemake.params.experiment)
points = [GridPoint.model_validate(p) for p in snakemake.params.points]
source_dir = Path(snakemake.input.source).parent
evaluate_points(exp, points, source_dir, [Path(d) for d in snakemake.params.point_dirs],
                Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, points[0].experiment))
if snakemake.output.ground_truth:
    ground_truth_sweep(exp, source_dir, Path(snakemake.output.ground_truth[0]))
