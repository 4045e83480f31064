"""The on-disk activation store: fixed-size, memory-mappable shards plus a manifest.

Layout of a store directory:

    shard_00000.npy ...   rows of activations [N, D]; bfloat16 is kept as raw uint16
                          because numpy has no bfloat16
    progress.json         while extracting: the extraction spec and every shard written so far
    manifest.json         written last: its presence means the store is complete

Every file is replaced atomically, so a killed extraction leaves only whole
shards behind and resumes after the last one listed in `progress.json`. A
completed extraction removes `progress.json` before writing the manifest, so a
store whose manifest was deleted (a forced re-run) starts afresh rather than
resuming a finished extraction. The
last `heldout_tokens` rows are reserved for evaluation; `StoreBatches` with
`split="train"` never reads them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sae.io import atomic_path, atomic_write_json, read_json, unreadable

MANIFEST_FILE = "manifest.json"
PROGRESS_FILE = "progress.json"
FORMAT_VERSION = 1
# numpy dtype each activation dtype is stored as
STORAGE_DTYPES = {"float32": np.float32, "float16": np.float16, "bfloat16": np.uint16}


def shard_file(index: int) -> str:
    return f"shard_{index:05d}.npy"


def _to_storage(acts_ND: torch.Tensor, dtype: str) -> np.ndarray:
    acts_ND = acts_ND.detach().to("cpu", getattr(torch, dtype))
    if dtype == "bfloat16":
        return acts_ND.view(torch.uint16).numpy()
    return acts_ND.numpy()


def _from_storage(raw_ND: np.ndarray, dtype: str) -> torch.Tensor:
    acts_ND = torch.from_numpy(np.ascontiguousarray(raw_ND))
    if dtype == "bfloat16":
        acts_ND = acts_ND.view(torch.bfloat16)
    return acts_ND.float()


class ShardWriter:
    """Appends activation rows and writes each full shard atomically.

    `spec` identifies the extraction: a `progress.json` left by an interrupted
    run with the same spec is resumed (`rows_done` says where), any other
    leftover (a finished store's shards included) is discarded.
    """

    def __init__(self, directory: Path | str, spec: dict[str, Any], d_model: int, dtype: str,
                 shard_tokens: int, train_tokens: int):
        self.directory = Path(directory)
        self.spec = spec
        self.dtype = dtype
        self.d_model = d_model
        self.shard_tokens = shard_tokens
        self.train_tokens = train_tokens
        self.shards = self._resumable_shards()
        self._pending_ND = np.empty((shard_tokens, d_model), dtype=STORAGE_DTYPES[dtype])
        self._n_pending = 0

    def _resumable_shards(self) -> list[dict[str, Any]]:
        progress_path = self.directory / PROGRESS_FILE
        if progress_path.exists():
            progress = read_json(progress_path)
            if progress["spec"] == self.spec:
                listed = progress["shards"]
                missing = [i for i, shard in enumerate(listed) if not (self.directory / shard["file"]).exists()]
                return listed[:missing[0]] if missing else listed
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in [*self.directory.glob("shard_*.npy"), self.directory / MANIFEST_FILE, progress_path]:
            stale.unlink(missing_ok=True)
        return []

    @property
    def rows_done(self) -> int:
        return sum(s["rows"] for s in self.shards) + self._n_pending

    def add(self, acts_ND: torch.Tensor) -> None:
        raw_ND = _to_storage(acts_ND, self.dtype)
        while len(raw_ND):
            take = min(len(raw_ND), self.shard_tokens - self._n_pending)
            self._pending_ND[self._n_pending:self._n_pending + take] = raw_ND[:take]
            self._n_pending += take
            raw_ND = raw_ND[take:]
            if self._n_pending == self.shard_tokens:
                self.flush()

    def flush(self) -> None:
        """Write the pending rows as a shard (a partial one only at the end of the extraction)."""
        if self._n_pending == 0:
            return
        raw_ND = self._pending_ND[:self._n_pending]
        index = len(self.shards)
        with atomic_path(self.directory / shard_file(index)) as tmp, open(tmp, "wb") as f:
            np.save(f, raw_ND)
        first_row = sum(s["rows"] for s in self.shards)
        n_train = max(0, min(self._n_pending, self.train_tokens - first_row))
        norms_N = _from_storage(raw_ND[:n_train], self.dtype).double().norm(dim=-1)
        self.shards.append({"file": shard_file(index), "rows": self._n_pending,
                            "train_norm_sum": float(norms_N.sum())})
        self._n_pending = 0
        atomic_write_json(self.directory / PROGRESS_FILE, {"spec": self.spec, "shards": self.shards})

    def finish(self, info: dict[str, Any]) -> dict[str, Any]:
        """Write the last, partial shard and then the manifest; returns the manifest."""
        self.flush()
        tokens = self.rows_done
        train_tokens = min(self.train_tokens, tokens)
        manifest = {
            **info,
            "format": FORMAT_VERSION,
            "spec": self.spec,
            "tokens": tokens,
            "train_tokens": train_tokens,
            "heldout_tokens": tokens - train_tokens,
            "d_model": self.d_model,
            "dtype": self.dtype,
            "shard_tokens": self.shard_tokens,
            "mean_norm": sum(s["train_norm_sum"] for s in self.shards) / max(train_tokens, 1),
            "shards": [{"file": s["file"], "rows": s["rows"]} for s in self.shards],
        }
        # Not resumable from here on: a kill before the manifest lands restarts from scratch, and so does a
        # forced re-run that deletes the manifest.
        (self.directory / PROGRESS_FILE).unlink(missing_ok=True)
        atomic_write_json(self.directory / MANIFEST_FILE, manifest)
        return manifest


def read_complete_manifest(directory: Path | str) -> dict[str, Any] | None:
    path = Path(directory) / MANIFEST_FILE
    return read_json(path, rebuild=directory) if path.exists() else None


@dataclass(frozen=True)
class Segment:
    """Rows [start, stop) of one shard."""

    file: str
    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start


class ActivationStore:
    """Read access to a complete store; shards are memory-mapped, never loaded whole."""

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        manifest = read_complete_manifest(self.directory)
        if manifest is None:
            raise FileNotFoundError(f"{self.directory} has no {MANIFEST_FILE}: the extraction has not finished")
        self.manifest = manifest
        for shard in manifest["shards"]:  # headers only (memory-mapped): a truncated shard fails here, by name
            path = self.directory / shard["file"]
            try:
                rows = np.load(path, mmap_mode="r").shape
            except (OSError, ValueError) as err:
                raise unreadable(path, f"is missing or truncated ({err})", self.directory) from err
            if rows != (shard["rows"], manifest["d_model"]):
                raise unreadable(path, f"holds {rows}, the manifest says {(shard['rows'], manifest['d_model'])}",
                                 self.directory)

    @property
    def d_model(self) -> int:
        return self.manifest["d_model"]

    @property
    def mean_norm(self) -> float:
        return self.manifest["mean_norm"]

    def segments(self, split: str) -> list[Segment]:
        """The shard row ranges of `split`: "train" is everything before the held-out tail."""
        if split not in ("train", "heldout"):
            raise ValueError(f"split must be 'train' or 'heldout', got {split!r}")
        boundary = self.manifest["train_tokens"]
        lo, hi = (0, boundary) if split == "train" else (boundary, self.manifest["tokens"])
        segments, first_row = [], 0
        for shard in self.manifest["shards"]:
            start, stop = max(lo, first_row), min(hi, first_row + shard["rows"])
            if start < stop:
                segments.append(Segment(shard["file"], start - first_row, stop - first_row))
            first_row += shard["rows"]
        return segments

    def read(self, segments: list[Segment]) -> torch.Tensor:
        """The rows of `segments`, concatenated, as float32 [N, D]."""
        parts = [np.load(self.directory / s.file, mmap_mode="r")[s.start:s.stop] for s in segments]
        if not parts:
            return torch.empty(0, self.d_model)
        return _from_storage(np.concatenate(parts), self.manifest["dtype"])

    def load(self, split: str, max_rows: int | None = None) -> torch.Tensor:
        """The first `max_rows` rows of `split` in store order (for evaluation and tests)."""
        acts_ND = self.read(self.segments(split))
        return acts_ND if max_rows is None else acts_ND[:max_rows]


class StoreBatches:
    """Endless shuffled batches from one split of a store, streamed from disk.

    The rows form one endless stream: epoch e visits the split's segments in a
    seeded random order, `buffer_shards` segments at a time, and shuffles the
    rows within each such buffer. A batch is the next `batch_size` rows of that
    stream, so the whole state is one cursor and resuming from `state_dict`
    gives exactly the batches an uninterrupted run would have seen.
    """

    def __init__(self, store_dir: Path | str, batch_size: int, seed: int, split: str = "train",
                 device: str | torch.device = "cpu", buffer_shards: int = 4):
        self.store = ActivationStore(store_dir)
        self.segments = self.store.segments(split)
        self.rows_per_epoch = sum(len(s) for s in self.segments)
        if self.rows_per_epoch < batch_size:
            raise ValueError(f"split {split!r} has {self.rows_per_epoch} rows, fewer than batch_size={batch_size}")
        self.batch_size = batch_size
        self.seed = seed
        self.split = split
        self.device = torch.device(device)
        self.buffer_shards = buffer_shards
        self.cursor = 0
        self._plan: tuple[int, list[list[Segment]], list[int]] | None = None
        self._buffer: tuple[tuple[int, int], torch.Tensor, torch.Tensor] | None = None

    def _epoch_plan(self, epoch: int) -> tuple[list[list[Segment]], list[int]]:
        """Buffers of epoch `epoch` and the stream offset at which each one starts."""
        if self._plan is None or self._plan[0] != epoch:
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.segments))
            groups = [[self.segments[i] for i in order[g:g + self.buffer_shards]]
                      for g in range(0, len(order), self.buffer_shards)]
            starts = np.cumsum([0] + [sum(len(s) for s in group) for group in groups[:-1]]).tolist()
            self._plan = (epoch, groups, starts)
        return self._plan[1], self._plan[2]

    def _buffer_at(self, cursor: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        """(rows of the buffer holding `cursor`, their shuffled order, offset of `cursor` in it)."""
        epoch, in_epoch = divmod(cursor, self.rows_per_epoch)
        groups, starts = self._epoch_plan(epoch)
        group = bisect.bisect_right(starts, in_epoch) - 1
        key = (epoch, group)
        if self._buffer is None or self._buffer[0] != key:
            self._buffer = None  # free the old buffer before reading the next
            acts_ND = self.store.read(groups[group]).to(self.device)
            perm = np.random.default_rng([self.seed, epoch, group]).permutation(len(acts_ND))
            perm_N = torch.from_numpy(perm).to(self.device)
            self._buffer = (key, acts_ND, perm_N)
        return self._buffer[1], self._buffer[2], in_epoch - starts[group]

    def __iter__(self) -> StoreBatches:
        return self

    def __next__(self) -> torch.Tensor:
        parts, needed = [], self.batch_size
        while needed:
            acts_ND, perm_N, offset = self._buffer_at(self.cursor)
            take = min(needed, len(acts_ND) - offset)
            parts.append(acts_ND[perm_N[offset:offset + take]])
            self.cursor += take
            needed -= take
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def state_dict(self) -> dict[str, Any]:
        return {"cursor": self.cursor, "seed": self.seed, "split": self.split, "batch_size": self.batch_size}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if (state["seed"], state["split"]) != (self.seed, self.split):
            raise ValueError(f"state is for seed={state['seed']} split={state['split']!r}, "
                             f"this stream is seed={self.seed} split={self.split!r}")
        self.cursor = state["cursor"]
