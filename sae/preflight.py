"""Checks that need no model, data or job: run by the Snakefile after config validation, before any job starts.

Each problem is one line naming the config field, what is wrong and what to do. Kept torch-free and
network-light (one TCP connect per tracking server) so that every `snakemake` invocation can afford it.
"""

from __future__ import annotations

import csv
import gzip
import json
import socket
from pathlib import Path
from urllib.parse import urlparse

from sae.config import StudyConfig
from sae.data.inputs import OFFLINE_DATASET, OFFLINE_MODEL, local_format, names_a_local_path


def tracking_problems(uri: str, timeout: float = 3.0) -> list[str]:
    if not uri.startswith(("http://", "https://")):
        return []
    url = urlparse(uri)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError as err:
        return [f"tracking.uri: no MLflow server answers at {url.hostname}:{port} ({err.strerror or err}); "
                "start it (`mlflow server ...`) or set tracking.uri to a sqlite:/// store"]
    return []


def _model_problems(field: str, model: str, layer: int) -> list[str]:
    if model == OFFLINE_MODEL or not names_a_local_path(model):
        return []  # the offline wheel, or a hub id: checked when extraction loads it
    path = Path(model).expanduser()
    if not path.is_dir():
        return [f"{field}.model: local model directory {path} does not exist; fix the path (a hub id is "
                "`name` or `org/name`)"]
    config = path / "config.json"
    if not config.is_file():
        return [] if any(path.glob("*.gguf")) else [f"{field}.model: {path} holds neither config.json nor a "
                                                      ".gguf file; point it at a saved transformers model"]
    blocks = json.loads(config.read_text()).get("num_hidden_layers")
    if blocks is not None and layer >= blocks:
        return [f"{field}.layer: {layer} is beyond the model's {blocks} blocks (0 to {blocks - 1})"]
    return []


def _columns(path: Path, fmt: str) -> list[str] | None:
    """The columns of a local csv/json(l) file, from its first record; None when it cannot tell cheaply."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        if fmt == "csv":
            return next(csv.reader(f), [])
        first = f.readline().strip()
    if fmt == "json" and first.startswith("{") and first.endswith("}"):
        return list(json.loads(first))
    return None


def _dataset_problems(field: str, dataset: str, text_column: str) -> list[str]:
    if dataset == OFFLINE_DATASET or not names_a_local_path(dataset):
        return []
    path = Path(dataset).expanduser()
    if not path.exists():
        return [f"{field}.dataset: local file {path} does not exist; fix the path (a hub dataset is `name` or "
                "`org/name`)"]
    if path.is_dir():
        return []
    try:
        fmt = local_format(path)
    except ValueError as err:
        return [f"{field}.dataset: {err}"]
    if path.stat().st_size == 0:
        return [f"{field}.dataset: {path} is empty"]
    try:
        columns = None if fmt in ("text", "parquet") else _columns(path, fmt)
    except (OSError, UnicodeError, json.JSONDecodeError) as err:
        return [f"{field}.dataset: cannot read {path} ({err})"]
    if columns is not None and text_column not in columns:
        return [f"{field}.text_column: {path} has no column {text_column!r} (it has {columns}); set "
                "source.text_column to the column holding the text"]
    return []


def study_problems(study: StudyConfig) -> list[str]:
    """Every problem found, one line each; empty when the study can start."""
    problems = tracking_problems(study.tracking.uri)
    for name, exp in study.experiments.items():
        if exp.source.kind == "llm":
            field = f"experiments.{name}.source"
            problems += _model_problems(field, exp.source.model, exp.source.layer)
            problems += _dataset_problems(field, exp.source.dataset, exp.source.text_column)
    return problems
