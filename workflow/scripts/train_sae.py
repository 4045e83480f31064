from pathlib import Path

from sae.config import Experiment, GridPoint
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)
point = GridPoint.model_validate(snakemake.params.point)
exp = Experiment.model_validate(snakemake.params.experiment)
out_dir = Path(snakemake.output.summary).parent
track = Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, point.experiment)
if snakemake.input.fused:
    # imported here: adopting a fused group's SAE needs neither torch nor SAELens
    from sae.jobs.record import adopt_from_group

    adopt_from_group(exp, point, Path(snakemake.input.fused), out_dir, track)
else:
    from sae.jobs.train import train_point

    train_point(exp, point, Path(snakemake.input.source).parent, out_dir, Path(snakemake.params.checkpoints), track)
