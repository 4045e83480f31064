"""Create the MLflow experiments and parent runs before any job logs into them."""

from __future__ import annotations

from pathlib import Path

from sae import tracking
from sae.io import atomic_write_json


def init_tracking(uri: str, experiment_names: dict[str, str], study: str, runs_file: Path) -> None:
    """Create (or find) one MLflow experiment and this study's parent run per config experiment, before any job logs."""
    atomic_write_json(runs_file, tracking.ensure_parent_runs(uri, experiment_names, study))
