"""Plug-in discovery shared by the architecture, metric and figure registries.

A plug-in is a module (architectures) or a folder (metrics, figures) inside its
registry's package; dropping one in is all it takes to register it. Declarations
(`SPEC`) live in torch-free modules, so the Snakefile can read every registry in a
fraction of a second; a plug-in's code (`main.py`) is imported only by the job that
runs it (importing SAELens alone costs ~6 s).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any, Literal

AppliesTo = Literal["all", "toy", "llm"]


def applies(applies_to: AppliesTo, source_kind: str) -> bool:
    """Whether a plug-in declared for `applies_to` runs on a source of `source_kind` ("toy" or "llm")."""
    return applies_to == "all" or applies_to == source_kind


def discover(package: str, *, folders: bool) -> dict[str, Any]:
    """name -> SPEC of every plug-in in `package`, in name order; a plug-in's name is its file or folder name.

    `folders=False`: every module of the package defines SPEC (architectures).
    `folders=True`: every sub-package defines SPEC in its `spec` module, its code in `main`.
    """
    found = {}
    for info in sorted(pkgutil.iter_modules(importlib.import_module(package).__path__), key=lambda i: i.name):
        if info.ispkg != folders or info.name.startswith("_"):
            continue
        spec = importlib.import_module(f"{package}.{info.name}.spec" if folders else f"{package}.{info.name}").SPEC
        if spec.name != info.name:
            raise ValueError(f"{package}.{info.name} declares the name {spec.name!r}: a plug-in is named by its "
                             f"{'folder' if folders else 'file'}")
        found[spec.name] = spec
    return found


def implementation(package: str, name: str) -> ModuleType:
    """The code of folder plug-in `name` of `package` (its `main` module)."""
    return importlib.import_module(f"{package}.{name}.main")
