"""Checks that need no model, data or job: run by the Snakefile after config validation, before any job starts.

Each problem is one line naming the config field, what is wrong and what to do. Kept torch-free and
network-light (one TCP connect and one API request per tracking server) so that every `snakemake`
invocation can afford it; nothing is written.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import functools
import gzip
import io
import json
import lzma
import os
import shutil
import socket
import sys
import urllib.error
import urllib.request
from base64 import b64encode, urlsafe_b64decode
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sae import layout
from sae.config import LLMSource, StudyConfig
from sae.data.inputs import (COMPRESSIONS, OFFLINE_DATASET, OFFLINE_MODEL, TEXT_FORMATS, local_format,
                             names_a_local_path, resolve_model, store_identity)
from sae.io import damaged_store
from sae.resources import Limits, disk_problems, limits_of, memory_problems

SQLITE_MAGIC = b"SQLite format 3\x00"
USERNAME, PASSWORD = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"


def credentials_problem(uri: str, reason: str) -> str:
    """One line for an MLflow server that wants other credentials than this process has (also used by jobs)."""
    return (f"MLflow server {uri} {reason}: set {USERNAME} and {PASSWORD} to a user of its basic-auth app in "
            "the environment that runs snakemake (never in the config)")


def tracking_problems(uri: str, timeout: float = 3.0) -> list[str]:
    if uri.startswith("sqlite:///"):
        return _sqlite_problems(Path(uri.removeprefix("sqlite:///")))
    if not uri.startswith(("http://", "https://")):
        return []
    url = urlparse(uri)
    if url.username or url.password:
        return [f"tracking.uri: holds credentials (user:password@); remove them and set {USERNAME} and {PASSWORD} "
                "in the environment instead: the URI is logged and recorded"]
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError as err:
        return [f"tracking.uri: no MLflow server answers at {url.hostname}:{port} ({err.strerror or err}); "
                "start it (`mlflow server ...`) or set tracking.uri to a sqlite:/// store"]
    return _credential_problems(uri, timeout)


def _credential_problems(uri: str, timeout: float) -> list[str]:
    """Ask the server for one experiment as the jobs will (MLflow's basic auth); a refusal is one line."""
    user, password, token = os.environ.get(USERNAME), os.environ.get(PASSWORD), os.environ.get("MLFLOW_TRACKING_TOKEN")
    if bool(user) != bool(password):
        return [f"tracking.uri: only one of {USERNAME} and {PASSWORD} is set; set both (or neither, for a server "
                "without authentication)"]
    request = urllib.request.Request(f"{uri.rstrip('/')}/api/2.0/mlflow/experiments/search?max_results=1")
    if user:
        request.add_header("Authorization", "Basic " + b64encode(f"{user}:{password}".encode()).decode())
    elif token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        urllib.request.urlopen(request, timeout=timeout).close()
    except urllib.error.HTTPError as err:
        if err.code in (401, 403):
            reason = (f"refused the credentials of user {user!r} (HTTP {err.code})" if user else
                      f"refused the token in MLFLOW_TRACKING_TOKEN (HTTP {err.code})" if token else
                      f"requires credentials and none are set (HTTP {err.code})")
            return ["tracking.uri: " + credentials_problem(uri, reason)]
        return [f"tracking.uri: {uri} answered HTTP {err.code} to an MLflow API request; is it an MLflow server "
                "(at that path)?"]
    except (urllib.error.URLError, OSError):
        return []  # it accepts connections; TLS set-ups and proxies are MLflow's to judge, in the first job
    return []


def _sqlite_problems(db: Path) -> list[str]:
    """The store file, if there is one, must be SQLite; its folder and artifact folder must be writable."""
    db = db.expanduser()
    if db.is_dir():
        return [f"tracking.uri: {db} is a folder, not an SQLite file; name a file inside it (sqlite:///{db}/mlflow.db)"]
    if db.is_file():
        try:
            with open(db, "rb") as f:
                head = f.read(len(SQLITE_MAGIC))
        except OSError as err:
            return [f"tracking.uri: cannot read {db} ({err.strerror or err}); fix its permissions"]
        if head and head != SQLITE_MAGIC:
            return [f"tracking.uri: {damaged_store(db, f'is not an SQLite database (it starts with {head[:8]!r})')}"]
    return folder_problems("tracking.uri", db.parent) or folder_problems(
        "tracking.uri", db.parent / layout.MLFLOW_ARTIFACTS_DIR)


def folder_problems(field: str, folder: Path | str) -> list[str]:
    """A folder the study writes into: it is a folder, or it can be created, and this user may write there."""
    folder = Path(folder).expanduser()
    try:
        if folder.is_symlink() and not folder.exists():
            return [f"{field}: {folder} is a broken link; remove it or point it at a folder"]
        if folder.exists():
            if not folder.is_dir():
                return [f"{field}: {folder} exists and is a file, not a folder; move the file away or choose "
                        "another folder"]
            if not os.access(folder, os.W_OK | os.X_OK):
                return [f"{field}: {folder} is not writable by this user; fix its permissions or choose another "
                        "folder"]
            return []
        parent = folder.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            return [f"{field}: {folder} cannot be created: {parent} is a file, not a folder; move the file away or "
                    "choose another folder"]
        if not os.access(parent, os.W_OK | os.X_OK):
            return [f"{field}: {folder} cannot be created: {parent} is not writable by this user (or is on a "
                    "read-only file system); choose another folder"]
    except OSError as err:
        return [f"{field}: cannot use {folder} ({err.strerror or err}); choose another folder"]
    return []


def output_problems(study: StudyConfig) -> list[str]:
    """results_dir and the folders made in it (the experiments', the stores', the logs') can be written."""
    results = Path(study.results_dir).expanduser()
    problems = folder_problems("results_dir", results)
    if problems or not results.is_dir():
        return problems
    for name in [*layout.RESERVED_NAMES, *study.experiments]:
        if (results / name).exists() and not (results / name).is_dir():
            problems.append(f"results_dir: {results / name} is a file where the study writes a folder; move it "
                            "away")
    return problems


@functools.cache  # parsing the header of SmolLM2's GGUF takes ~2 s; experiments often share a model
def _gguf_shape(path: Path) -> tuple[int, int | None]:
    """(block count, embedding width) in a GGUF file's metadata; the tensors are memory-mapped, never read."""
    from gguf import GGUFReader  # imported on use: only studies with a GGUF model pay for it

    fields = GGUFReader(path).fields
    architecture = fields["general.architecture"].contents()
    width = fields.get(f"{architecture}.embedding_length")
    return int(fields[f"{architecture}.block_count"].contents()), None if width is None else int(width.contents())


def model_width(source: LLMSource) -> int | None:
    """d_model of a local model (config.json or GGUF metadata); None for a hub id or when it cannot tell."""
    if source.model != OFFLINE_MODEL and not names_a_local_path(source.model):
        return None
    model, gguf_file = resolve_model(source.model, source.gguf_file)
    path = Path(model).expanduser()
    try:
        if gguf_file is not None:
            return _gguf_shape(path / gguf_file)[1]
        config = json.loads((path / "config.json").read_text())
    except (LookupError, ValueError, OSError):
        return None  # _model_problems names what is wrong
    width = next((config[k] for k in ("hidden_size", "d_model", "n_embd") if isinstance(config.get(k), int)), None)
    return width


def _model_problems(field: str, source: LLMSource) -> list[str]:
    if source.model != OFFLINE_MODEL and not names_a_local_path(source.model):
        return []  # a hub id: checked when extraction loads it
    model, gguf_file = resolve_model(source.model, source.gguf_file)
    path = Path(model).expanduser()
    if not path.is_dir():
        return [f"{field}.model: local model directory {path} does not exist; fix the path (a hub id is "
                "`name` or `org/name`)"]
    if gguf_file is not None:
        if not (path / gguf_file).is_file():
            return [f"{field}.gguf_file: {path / gguf_file} does not exist; name a .gguf file inside {path}"]
        try:
            blocks, _ = _gguf_shape(path / gguf_file)
        except (LookupError, ValueError, OSError) as err:  # gguf's errors for a truncated or foreign file
            return [f"{field}.gguf_file: cannot read the GGUF metadata of {path / gguf_file} ({err}); "
                    "the file is damaged or not GGUF: download it again"]
    elif (path / "config.json").is_file():
        blocks = json.loads((path / "config.json").read_text()).get("num_hidden_layers")
    else:
        hint = "set source.gguf_file to one of its .gguf files" if any(path.glob("*.gguf")) else \
            "point it at a saved transformers model"
        return [f"{field}.model: {path} holds no config.json; {hint}"]
    if blocks is not None and source.layer >= blocks:
        return [f"{field}.layer: {source.layer} is beyond the model's {blocks} blocks (0 to {blocks - 1})"]
    return []


# Decompressors of the standard library (a .zst/.lz4 file is checked when extraction reads it).
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_HEAD_BYTES = 1 << 16


def _head(path: Path) -> str | None:
    """The start of a local text file, decoded; None when it is compressed in a way we cannot open cheaply.

    Raises ValueError saying what is wrong with it: `datasets` reads csv, json and text files as UTF-8.
    """
    compression = path.suffix if path.suffix in COMPRESSIONS else None
    if compression is not None and compression not in _OPENERS:
        return None
    with _OPENERS.get(compression, open)(path, "rb") as f:
        raw = f.read(_HEAD_BYTES)
    if b"\0" in raw:
        raise ValueError("holds NUL bytes: it is binary, not text")
    try:
        # incremental: a character cut at the end of the head is not an error
        return codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)
    except UnicodeDecodeError as err:
        raise ValueError(f"is not UTF-8 text (byte {err.start} is {raw[err.start:err.start + 1]!r})") from None


def _columns(path: Path, fmt: str, head: str) -> list[str] | None:
    """The columns of a local csv/json(l) file, from its first record; None when it cannot tell cheaply."""
    if fmt == "csv":
        return next(csv.reader(io.StringIO(head)), [])
    first = next((line.strip() for line in head.splitlines() if line.strip()), "")
    if not first.startswith(("{", "[")):
        raise ValueError(f"holds no JSON records (it starts with {first[:20]!r})")
    try:
        record = json.loads(first)
    except json.JSONDecodeError:
        record = None  # a record spread over several lines, or a whole-file JSON document
    if isinstance(record, dict):
        return list(record)
    if [s for s in path.suffixes if s not in COMPRESSIONS][-1] == ".jsonl":
        raise ValueError("is not JSON lines: its first line is not one JSON object")
    return None


def max_stored_tokens(path: Path, fmt: str, context_length: int) -> int | None:
    """An upper bound on the activations extraction can store from an uncompressed local file (None: no cheap bound).

    Every token covers at least one byte of its text (byte-level BPE; word and character tokenizers cover
    more), and a row adds at most two tokens besides: a prefix token (SentencePiece's dummy prefix) and the
    separator (`sae.data.llm.iter_contexts`). The text of a file is at most its bytes; its rows are at most
    its lines (line-based formats) and its bytes (an empty row is skipped). A context of `context_length`
    tokens carries `context_length - 1` of text after its BOS, and stores at most all of them plus the BOS.
    """
    if fmt == "parquet" or path.suffix in COMPRESSIONS:
        return None
    size = path.stat().st_size
    rows = size
    if fmt in ("text", "csv") or path.suffix == ".jsonl":
        with open(path, "rb") as f:
            rows = min(rows, 1 + sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")))
    return (size + 2 * rows) * context_length // (context_length - 1)


def _dataset_problems(field: str, source: LLMSource) -> list[str]:
    dataset = source.dataset
    if dataset == OFFLINE_DATASET or not names_a_local_path(dataset):
        return []
    path = Path(dataset).expanduser()
    if not path.exists():
        return [f"{field}.dataset: local file {path} does not exist; fix the path (a hub dataset is `name` or "
                "`org/name`)"]
    if path.is_dir():
        if not any(p.is_file() and _known_format(p) for p in path.rglob("*")):
            return [f"{field}.dataset: {path} is a directory holding no data file "
                    f"({', '.join(sorted(TEXT_FORMATS))}); point source.dataset at a data file or a folder of them"]
        return []
    try:
        fmt = local_format(path)
    except ValueError as err:
        return [f"{field}.dataset: {err}"]
    if path.stat().st_size == 0:
        return [f"{field}.dataset: {path} is empty"]
    try:
        if fmt == "parquet":
            with open(path, "rb") as f:
                if f.read(4) != b"PAR1":  # the Parquet magic number, at both ends of every Parquet file
                    raise ValueError("is not a Parquet file")
            columns = None
        else:
            head = _head(path)
            columns = None if head is None or fmt == "text" else _columns(path, fmt, head)
    except (ValueError, OSError, EOFError) as err:
        return [f"{field}.dataset: cannot read {path}: {err}; replace it with a readable {fmt} file"]
    if columns is not None and source.text_column not in columns:
        return [f"{field}.text_column: {path} has no column {source.text_column!r} (it has {columns}); set "
                "source.text_column to the column holding the text"]
    # the bound is at least the file's size: only a file smaller than `tokens` bytes is read through
    bound = max_stored_tokens(path, fmt, source.context_length) if path.stat().st_size < source.tokens else None
    if bound is not None and bound < source.tokens:
        return [f"{field}.tokens: {path} can yield at most {bound} tokens (a token covers at least one of its "
                f"{path.stat().st_size} bytes), fewer than source.tokens = {source.tokens}; lower source.tokens "
                "(it includes heldout_tokens) or use a larger dataset"]
    return []


def _known_format(path: Path) -> bool:
    try:
        local_format(path)
    except ValueError:
        return False
    return True


def resource_problems(study: StudyConfig, limits: Limits) -> list[str]:
    """Training jobs that would not fit their memory, activation stores that would not fit the disk."""
    d_models = {name: exp.source.model.d_model if exp.source.kind == "toy" else model_width(exp.source)
                for name, exp in study.experiments.items()}
    stores: dict[str, tuple[str, Any, int | None]] = {}
    for name, exp in study.experiments.items():
        if exp.source.kind == "llm":
            stores.setdefault(layout.store_name(store_identity(exp.source)), (name, exp.source, d_models[name]))
    return memory_problems(study, d_models, limits) + disk_problems(stores, study.results_dir)


def study_problems(study: StudyConfig, workflow: Any = None) -> list[str]:
    """Every problem found, one line each; empty when the study can start.

    `workflow` (the Snakefile's) tells where jobs run and the profile's mem_mb; without it, on this machine.
    """
    problems = tracking_problems(study.tracking.uri) + output_problems(study)
    for name, exp in study.experiments.items():
        if exp.source.kind == "llm":
            field = f"experiments.{name}.source"
            problems += _model_problems(field, exp.source)
            problems += _dataset_problems(field, exp.source)
        if exp.is_audit:
            from sae.audit.preflight import audit_problems  # SAELens's registry only for audits of a release

            problems += audit_problems(name, exp, study.results_dir, model_width(exp.source))
    if not problems:  # sizes are judged once the inputs they are read from are known to be sound
        problems += resource_problems(study, limits_of(workflow))
    return problems


def discard_interrupted_outputs(workdir: Path | str = ".") -> list[Path]:
    """Remove what jobs of an interrupted run (Ctrl-C, a kill) left marked incomplete, so that they rerun.

    Snakemake marks a job's outputs incomplete while it runs and refuses to start over outputs still marked
    (`--rerun-incomplete` deletes and rebuilds them). Our writes are atomic, so such an output is either
    absent or whole, but a job interrupted between two outputs, or while logging to MLflow after writing
    them, leaves some of them behind, marked. With no Snakemake holding this folder (no lock files; a
    running one keeps its markers and its locks), every marker is stale: its output is removed (a training
    job then resumes from its checkpoint) and so is the marker. Returns the outputs removed.
    """
    snakemake_dir = Path(workdir) / ".snakemake"
    markers, locks = snakemake_dir / "incomplete", snakemake_dir / "locks"
    if not markers.is_dir() or (locks.is_dir() and any(locks.glob("*.lock"))):
        return []
    removed = []
    for marker in sorted(p for p in markers.rglob("*") if p.is_file() and p.name != "migration_underway"):
        chunks = marker.relative_to(markers).parts  # a long name is split into folders, all but the last "@"-prefixed
        try:
            output = Path(urlsafe_b64decode("".join(c.removeprefix("@") for c in chunks)).decode())
        except ValueError:
            continue  # not a marker of Snakemake's file persistence
        target = output if output.is_absolute() else Path(workdir) / output
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        else:
            target = None
        marker.unlink()
        if target is not None:
            removed.append(target)
            print(f"{output}: left incomplete by an interrupted run; removed, so that it is rebuilt", file=sys.stderr)
    return removed
