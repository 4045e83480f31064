"""An audit's import job: each audited SAE into its point folder in SAELens's format, with its record and its
MLflow child run (source and metadata as parameters; an audited SAE has no training parameters)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sae import layout, tracking
from sae.audit.load import import_sae
from sae.audit.resolve import ResolvedSAE
from sae.config import GridPoint
from sae.io import atomic_write_json, read_json
from sae.tracking import RunLog, Tracking


def import_saes(saes: Sequence[ResolvedSAE], points: Sequence[GridPoint], point_dirs: Sequence[Path],
                layer: int, store_manifest: Path, track: Tracking | None) -> None:
    """Each SAE checked against the store (hook, d_in) and written into its point folder with its record; then one
    MLflow child run each. A SAE that does not fit fails the job (Snakemake removes what it wrote)."""
    d_model = read_json(store_manifest)["d_model"]
    records = {}
    for sae, point, point_dir in zip(saes, points, point_dirs, strict=True):
        records[point.key] = import_sae(sae, point_dir, layer, d_model)
        atomic_write_json(point_dir / layout.AUDIT_RECORD_FILE, records[point.key])
    if track is not None:
        ids = tracking.start_child_runs(track.uri, track.parent_run_id, records)
        tracking.write_runs(track.uri, {
            ids[p.key]: RunLog(artifacts={"sae": d / layout.SAE_FOLDER, "audit": d / layout.AUDIT_RECORD_FILE})
            for p, d in zip(points, point_dirs, strict=True)})
