"""Atomic writes, and reads of earlier jobs' outputs that name a damaged file.

A killed job never leaves a file or directory that looks complete. Every read of an output another job
wrote goes through `reading` (or `read_json` / `read_tensors`, built on it): whatever goes wrong inside
becomes one `UnreadableOutput` naming the file, what is wrong with it, and what to delete (or, for an
MLflow store, to move aside) so that the workflow rebuilds it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class UnreadableOutput(RuntimeError):
    """An earlier job's output that is missing or corrupt: the message names it and how to rebuild it."""


def unreadable(path: Path | str, problem: str, rebuild: Path | str) -> UnreadableOutput:
    return UnreadableOutput(f"{path} {problem}; delete {rebuild} and re-run: the workflow rebuilds it")


def damaged_store(path: Path | str, problem: str) -> UnreadableOutput:
    """An MLflow SQLite store that cannot be read: its runs cannot be rebuilt, so it is moved aside, not deleted."""
    return UnreadableOutput(f"{path} {problem}; move it aside (mv {path} {path}.damaged) and re-run: a fresh "
                            "MLflow store is created (the runs of the old one are not recovered)")


def _problem(err: BaseException) -> str:
    """What is wrong with a file, from the error its reader raised (one line)."""
    detail = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, FileNotFoundError):
        return "is missing"
    if isinstance(err, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(err, json.JSONDecodeError):
        return f"is not valid JSON ({detail})"
    if isinstance(err, UnicodeDecodeError):
        return f"is not UTF-8 text ({detail})"
    if isinstance(err, KeyError):
        return f"lacks the entry {detail}"
    return f"is damaged ({type(err).__name__}: {detail})"


@contextmanager
def reading(path: Path | str, rebuild: Path | str | None = None) -> Iterator[Path]:
    """Read an earlier job's output `path` inside the block; any failure there names the file and the fix.

    `rebuild` is what to delete so that the workflow writes the file again: the file itself (the default,
    for a file that is a rule's output) or the folder it lies in (a store, a fused group's folder).
    """
    try:
        yield Path(path)
    except UnreadableOutput:
        raise
    except Exception as err:  # json, safetensors, numpy, csv and SAELens each raise their own types
        raise unreadable(path, _problem(err), path if rebuild is None else rebuild) from err


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary sibling of `target`; rename it onto `target` only if the block succeeds.

    Works for files and directories alike: the caller writes whatever it wants at
    the yielded path.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    _remove(tmp)
    try:
        yield tmp
        if tmp.is_dir():
            _remove(target)
        os.replace(tmp, target)
    finally:
        _remove(tmp)


def _remove_stale_siblings(target: Path) -> None:
    """Temporary siblings a killed job (SIGKILL runs no `finally`) left behind: their process is gone."""
    for tmp in target.parent.glob(f".{target.name}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            _remove(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def atomic_write_json(target: Path | str, data: Any) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=True) + "\n")


def read_json(path: Path | str, rebuild: Path | str | None = None) -> Any:
    with reading(path, rebuild):
        return json.loads(Path(path).read_text())


def read_tensors(path: Path | str, rebuild: Path | str | None = None, device: str = "cpu") -> dict[str, Any]:
    """A safetensors file another job wrote, as torch tensors."""
    from safetensors.torch import load_file  # imported on use: torch-free jobs read JSON only

    with reading(path, rebuild):
        return load_file(str(path), device=device)
