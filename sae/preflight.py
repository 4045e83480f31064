"""Checks that need no model, data or job: run by the Snakefile after config validation, before any job starts.

Each problem is one line naming the config field, what is wrong and what to do. Kept torch-free and
network-light (one TCP connect per tracking server) so that every `snakemake` invocation can afford it.
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
import socket
from pathlib import Path
from urllib.parse import urlparse

from sae.config import LLMSource, StudyConfig
from sae.data.inputs import (COMPRESSIONS, OFFLINE_DATASET, OFFLINE_MODEL, TEXT_FORMATS, local_format,
                             names_a_local_path, resolve_model)


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


@functools.cache  # parsing the header of SmolLM2's GGUF takes ~2 s; experiments often share a model
def _gguf_blocks(path: Path) -> int:
    """The block count in a GGUF file's metadata; the tensors are memory-mapped, never read."""
    from gguf import GGUFReader  # imported on use: only studies with a GGUF model pay for it

    fields = GGUFReader(path).fields
    architecture = fields["general.architecture"].contents()
    return int(fields[f"{architecture}.block_count"].contents())


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
            blocks = _gguf_blocks(path / gguf_file)
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


def study_problems(study: StudyConfig) -> list[str]:
    """Every problem found, one line each; empty when the study can start."""
    problems = tracking_problems(study.tracking.uri)
    for name, exp in study.experiments.items():
        if exp.source.kind == "llm":
            field = f"experiments.{name}.source"
            problems += _model_problems(field, exp.source)
            problems += _dataset_problems(field, exp.source)
    return problems
