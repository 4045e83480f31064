from pathlib import Path

from sae.audit.resolve import ResolvedSAE
from sae.config import GridPoint
from sae.jobs.audit import import_saes
from sae.runtime import setup_job
from sae.tracking import Tracking

setup_job(snakemake.log[0], snakemake.threads)

points = [GridPoint.model_validate(p) for p in snakemake.params.points]
import_saes(
    saes=[ResolvedSAE(**s) for s in snakemake.params.saes],
    points=points,
    point_dirs=[Path(d) for d in snakemake.params.point_dirs],
    layer=snakemake.params.layer,
    store_manifest=Path(snakemake.input.source),
    track=Tracking.from_runs_file(snakemake.params.uri, snakemake.input.runs, points[0].experiment),
)
