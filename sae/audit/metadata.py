"""What an audited SAE's metadata says about where it reads activations, checked against what we can extract.

The project extracts the residual stream after a block (`hidden_states[layer + 1]`, sae.data.llm), which is
TransformerLens's `blocks.{L}.hook_resid_post` and, one block later, `blocks.{L+1}.hook_resid_pre`. Any other
hook (attention, MLP outputs, `hook_z`, a transcoder's pair) is refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sae.audit.resolve import AuditError, ResolvedSAE, resolve
from sae.config.audit import AuditedSAE

_RESID = re.compile(r"^blocks\.(\d+)\.hook_resid_(pre|post)$")


def hook_layer(hook_name: str, what: str) -> int:
    """The block whose output `hook_name` is (our `source.layer`); AuditError for any other hook."""
    match = _RESID.match(hook_name or "")
    if match is None or (match.group(2) == "pre" and match.group(1) == "0"):
        raise AuditError(f"{what}: hook {hook_name!r} is not the residual stream after a block "
                         "(blocks.L.hook_resid_post, or blocks.L.hook_resid_pre for L >= 1), the only hook we extract")
    layer = int(match.group(1))
    return layer if match.group(2) == "post" else layer - 1


def sae_lens_cfg(sae: ResolvedSAE) -> dict[str, Any] | None:
    """A local SAELens-format SAE's cfg.json with its metadata flattened (SAELens 6 nests it), or None when it
    is not (yet) on disk or in another format (read when the import job loads it through SAELens)."""
    if sae.path is None or sae.format != "sae_lens":
        return None
    path = Path(sae.path) / "cfg.json"
    if not path.is_file():
        return None
    try:
        cfg = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise AuditError(f"{path} is not readable JSON ({err}); save the SAE again") from None
    return {**cfg, **(cfg.get("metadata") or {})}


def source_defaults(cfg: dict[str, Any], what: str) -> dict[str, Any]:
    """The `source:` fields an SAE's metadata gives: model, layer, context length."""
    out: dict[str, Any] = {}
    if cfg.get("hook_name") is not None:
        out["layer"] = hook_layer(cfg["hook_name"], what)
    if cfg.get("model_name"):
        out["model"] = cfg["model_name"]
    if isinstance(cfg.get("context_size"), int):
        out["context_length"] = cfg["context_size"]
    return out


NO_METADATA = ("no audited SAE's metadata names its hook before the study runs (a release, a sparsify or "
               "dictionary_learning folder, a folder not trained yet): set source.layer (and source.model)")


def first_metadata(saes: list[AuditedSAE], results_dir: str) -> tuple[dict[str, Any], str]:
    """The `source:` defaults of the first audited SAE whose SAELens metadata is readable now, or ({}, why not)."""
    why = NO_METADATA
    for entry in saes:
        try:
            for sae in resolve([entry], results_dir, "saes"):
                cfg = sae_lens_cfg(sae)
                if cfg is not None:
                    return source_defaults(cfg, sae.source), ""
        except AuditError as err:
            why = str(err)
    return {}, why


def fill_sources(raw: dict[str, Any]) -> dict[str, Any]:
    """The raw study config with each audit's `source:` completed from its SAEs' metadata: what the user wrote
    in `source:` wins (an audit's source is `kind: llm`, which may be left out). Raises AuditError, one line per
    audit, where neither names the layer (validation would only say that it is missing)."""
    experiments = raw.get("experiments")
    if not isinstance(experiments, dict):
        return raw
    filled, problems = {}, []
    for name, exp in experiments.items():
        if isinstance(exp, dict) and isinstance(exp.get("saes"), list) and isinstance(exp.get("source", {}), dict):
            try:
                entries = [AuditedSAE.model_validate(e) for e in exp["saes"]]
            except ValueError:
                entries = []  # validation names the bad entry
            defaults, why = first_metadata(entries, str(raw.get("results_dir", "results")))
            exp = exp | {"source": {"kind": "llm"} | defaults | (exp.get("source") or {})}
            if entries and "layer" not in exp["source"]:
                problems.append(f"experiments.{name}.source.layer: {why}")
        filled[name] = exp
    if problems:
        raise AuditError("\n".join(problems))
    return raw | {"experiments": filled}
