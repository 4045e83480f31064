"""The config's `saes:` resolved into named SAEs: glob patterns expanded over folders and over a release's ids.

Torch-free and without SAELens unless a release is named (its registry, `pretrained_saes.yaml`, comes with
`import sae_lens`, ~8 s): the Snakefile plans audits at parse time.
"""

from __future__ import annotations

import difflib
import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sae.audit import formats
from sae.config.audit import AuditedSAE

_GLOB = re.compile(r"[*?\[]")
NEAREST = 3  # ids named beside a pattern that matched none (ours)


@dataclass(frozen=True)
class ResolvedSAE:
    """One audited SAE: where it is, and the name of its point folder (`saes/<name>`)."""

    name: str
    path: str | None = None  # a local folder
    format: str = "sae_lens"  # of the local folder; a release's SAEs load through SAELens's own loader
    release: str | None = None
    id: str | None = None
    repo_id: str | None = None  # the release's Hugging Face repository
    hub_folder: str | None = None  # the id's folder in it

    @property
    def source(self) -> str:
        """What the SAE is, in words a user can paste back into `saes:`."""
        return self.path if self.path is not None else f"{self.release}/{self.id}"

    @property
    def files(self) -> list[str]:
        """A local SAE's two files (the import job's inputs: one produced by this study is waited for)."""
        return [] if self.path is None else [os.path.join(self.path, f) for f in formats.FILES[self.format]]

    def record(self) -> dict[str, Any]:
        return {"source": self.source, "format": self.format if self.path else "sae_lens_pretrained",
                "path": self.path, "release": self.release, "id": self.id}


class AuditError(ValueError):
    """An audited SAE cannot be found or read; the message is one line naming it and the fix."""


def _registry() -> dict[str, Any]:
    from sae_lens.loading.pretrained_saes_directory import get_pretrained_saes_directory

    return get_pretrained_saes_directory()


def _release(entry: AuditedSAE) -> list[tuple[str, dict[str, Any]]]:
    releases = _registry()
    if entry.release not in releases:
        near = difflib.get_close_matches(entry.release, list(releases), n=NEAREST, cutoff=0.4)
        raise AuditError(f"release {entry.release!r} is not in SAELens's pretrained registry"
                         + (f"; nearest: {', '.join(near)}" if near else ""))
    lookup = releases[entry.release]
    ids = [i for i in lookup.saes_map if _fnmatch(i, entry.id)]
    if not ids:
        near = difflib.get_close_matches(entry.id, list(lookup.saes_map), n=NEAREST, cutoff=0.0)
        raise AuditError(f"id {entry.id!r} matches no SAE of release {entry.release}; nearest ids: {', '.join(near)}")
    return [(i, {"release": entry.release, "id": i, "repo_id": lookup.repo_id, "hub_folder": lookup.saes_map[i]})
            for i in sorted(ids, key=_natural)]


def _fnmatch(name: str, pattern: str) -> bool:
    import fnmatch

    # fnmatchcase: ids are case-sensitive; `*` crosses `/` as in SAELens's ids (layer_12/width_16k/...)
    return fnmatch.fnmatchcase(name, pattern)


def _natural(text: str) -> list[Any]:
    """`average_l0_22` before `average_l0_176`: numbers compared as numbers."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _folders(entry: AuditedSAE, results_dir: str) -> list[tuple[str, dict[str, Any]]]:
    pattern = entry.path
    matches = sorted(glob.glob(pattern), key=_natural) if _GLOB.search(pattern) else [pattern]
    if not matches:
        raise AuditError(f"path pattern {pattern!r} matches no folder")
    found = []
    for path in matches:
        fmt = entry.format if entry.format != "auto" else formats.detect(Path(path))
        if _in_results(path, results_dir):
            # an SAE an experiment of this study trains (not there yet, or a file of it deleted and to be rebuilt:
            # the import job checks it once its training has run), spelled as the rules spell their outputs, so that
            # Snakemake runs the audit after that training
            fmt = fmt or "sae_lens"
            path = os.path.join(results_dir, os.path.relpath(os.path.abspath(path), os.path.abspath(results_dir)))
        elif fmt is None or not Path(path).is_dir():
            raise AuditError(f"{path} is not an SAE folder: it holds none of {formats.expected_files()}")
        found.append((path, {"path": path, "format": fmt}))
    return found


def _in_results(path: str, results_dir: str) -> bool:
    """Whether `path` lies in the study's results folder (a trained point's SAE folder)."""
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(results_dir))


def _names(labels: list[str]) -> list[str]:
    """Short distinct names: the labels' `/`-parts less those every label shares at the start and the end."""
    parts = [label.strip("/").split("/") for label in labels]
    shortest = min(len(p) for p in parts)
    head = 0
    while head < shortest - 1 and len({p[head] for p in parts}) == 1:
        head += 1
    tail = 0
    while tail < shortest - head - 1 and len({p[-1 - tail] for p in parts}) == 1:
        tail += 1
    names = ["-".join(p[head:len(p) - tail]) for p in parts]
    if len(labels) == 1:
        names = [parts[0][-2] if parts[0][-1] == "sae" and len(parts[0]) > 1 else parts[0][-1]]
    return [re.sub(r"[^A-Za-z0-9_.-]", "_", n) for n in names]


def resolve(saes: list[AuditedSAE], results_dir: str, field: str) -> list[ResolvedSAE]:
    """Every SAE the entries name, in config order (a pattern's matches in natural order). Raises AuditError,
    one line per problem (`field` names the config entry), after trying every entry."""
    found: list[tuple[str, dict[str, Any]]] = []
    problems = []
    for i, entry in enumerate(saes):
        try:
            found += _folders(entry, results_dir) if entry.path is not None else _release(entry)
        except AuditError as err:
            problems.append(f"{field}[{i}]: {err}")
    if problems:
        raise AuditError("\n".join(problems))
    labels = [label for label, _ in found]
    if len(set(labels)) != len(labels):
        raise AuditError(f"{field}: an SAE is listed twice: {sorted({x for x in labels if labels.count(x) > 1})}")
    return [ResolvedSAE(name=name, **info) for name, (_, info) in zip(_names(labels), found, strict=True)]
