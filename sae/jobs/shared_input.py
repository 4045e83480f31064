"""Build one shared input (`sae.metrics.SharedInput`) from its params: the builder its kind names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sae.config import LLMSource
from sae.runtime import resolve_device


def _probe_set(params: Mapping[str, Any], manifest: Path) -> None:
    from sae.data.probing import write_probe_set  # the builder's own imports (transformers) only when used

    source = LLMSource.model_validate(params["source"])
    write_probe_set(source, params["datasets"], params["rows"], params["batch_size"], manifest,
                    resolve_device(source.device))


# kind -> builder(params, manifest path): writes its data beside the manifest, the manifest last
BUILDERS: dict[str, Callable[[Mapping[str, Any], Path], None]] = {"probe_set": _probe_set}


def build_shared_input(kind: str, params: Mapping[str, Any], manifest: Path) -> None:
    BUILDERS[kind](params, manifest)
