"""Registry of trainable architectures: one module per architecture, each declaring a `SPEC`.

A spec turns a grid point (width, target L0, the architecture's own options) into a
SAELens training config; SAELens does the rest (forward pass, losses, saving). Specs
are torch-free so that the Snakefile can validate a config against them; SAELens is
imported only by `build_training_sae` and `load_sae`, which every job uses.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sae.options import NoOptions, Strict
from sae.registry import discover


@dataclass(frozen=True)
class ArchitectureSpec:
    name: str
    # What the grid's `l0` means for it (config reference, schema); for one that takes no L0, how it chooses its own.
    l0_meaning: str
    # (width, l0, options) -> the SAELens training config's own fields
    sae_lens_fields: Callable[[int, float | None, Any], dict[str, Any]]
    # its hyper-parameters: fixed per experiment under `architectures:`, or swept under `grid.sweep:`
    options: type[Strict] = NoOptions
    # SAELens's architecture name (its registry key), when it differs from ours
    sae_lens_name: str | None = None
    integer_l0: bool = False
    takes_l0: bool = True
    # sae.fused can train a group of these as stacked tensors
    fusable: bool = False
    # a module defining SAE_LENS_CLASSES = {"inference": (SAE, config), "training": (TrainingSAE, config)},
    # for a class SAELens does not ship; registered with SAELens before any SAE is built or loaded
    sae_lens_classes: str | None = None
    # (SAELens trainer, target l0, options) -> an object whose update(TrainStepOutput) runs after every step
    training_callback: Callable[[Any, float | None, Any], Any] | None = None

    @property
    def registry_name(self) -> str:
        return self.sae_lens_name or self.name


ARCHITECTURES: dict[str, ArchitectureSpec] = discover(__name__, folders=False)


def options_for(architecture: str, options: Mapping[str, Any] | Strict | None) -> Strict:
    """The architecture's options model, filled from a mapping (defaults for what is left out)."""
    model = ARCHITECTURES[architecture].options
    if isinstance(options, model):
        return options
    return model.model_validate(dict(options or {}))


def register_with_sae_lens() -> None:
    """Register every custom architecture's classes with SAELens (idempotent), so SAE.load_from_disk finds them."""
    from sae_lens.registry import SAE_CLASS_REGISTRY, register_sae_class, register_sae_training_class

    for spec in ARCHITECTURES.values():
        if spec.sae_lens_classes is None or spec.registry_name in SAE_CLASS_REGISTRY:
            continue
        classes = importlib.import_module(spec.sae_lens_classes).SAE_LENS_CLASSES
        register_sae_class(spec.registry_name, *classes["inference"])
        register_sae_training_class(spec.registry_name, *classes["training"])


class _RegisterAfterSAELens(importlib.abc.MetaPathFinder):
    """Finds `sae_lens` as usual, then registers our classes as soon as it has finished importing."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "sae_lens":
            return None
        sys.meta_path.remove(self)  # one-shot, and lets the normal finders answer the lookup below
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            exec_module = spec.loader.exec_module

            def exec_then_register(module: Any) -> None:
                exec_module(module)
                register_with_sae_lens()

            spec.loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


def register_when_sae_lens_loads() -> None:
    """Make `import sae` enough for `SAE.load_from_disk` to load a custom architecture, in any process.

    SAELens has no plug-in discovery of its own, and importing it costs ~6 s that the
    Snakefile and torch-free jobs must not pay: register now if it is already imported,
    else right after whoever imports it first.
    """
    if "sae_lens" in sys.modules:
        register_with_sae_lens()
    elif not any(isinstance(finder, _RegisterAfterSAELens) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterSAELens())


def build_training_sae(architecture: str, d_in: int, width: int, l0: float | None,
                       options: Mapping[str, Any] | Strict | None, device: str = "cpu") -> Any:
    """A freshly initialised SAELens TrainingSAE for one grid point (seed the RNG first)."""
    from sae_lens.registry import get_sae_training_class

    spec = ARCHITECTURES[architecture]
    sae_cls, cfg_cls = get_sae_training_class(spec.registry_name)
    fields = spec.sae_lens_fields(width, l0, options_for(architecture, options))
    return sae_cls(cfg_cls(d_in=d_in, d_sae=width, device=device, **fields))


def load_sae(directory: Path | str, device: str = "cpu") -> Any:
    """A saved SAE of any registered architecture (SAELens format), in inference form."""
    from sae_lens import SAE

    from safetensors import safe_open

    from sae import layout
    from sae.io import read_json, reading, unreadable

    # the workflow reschedules a point whose SAE lost a file; other callers learn which file and what to do
    directory = Path(directory)
    for name in layout.SAE_FILES:
        if not (directory / name).is_file():
            raise unreadable(directory / name, "is missing", directory.parent)
    cfg, weights = (directory / name for name in layout.SAE_FILES)
    read_json(cfg, directory.parent)  # a damaged file is named, not left to SAELens's bare parser error
    with reading(weights, directory.parent), safe_open(str(weights), "pt") as f:
        f.keys()  # the header only: a truncated or foreign file fails here
    with reading(directory, directory.parent):
        return SAE.load_from_disk(str(directory), device=device)
