"""An audit's problems found before any job: its SAEs exist, sit at a hook we extract and fit the model; a hub SAE
or model is at hand offline. One line each, naming the SAE and the fix."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse

from sae.audit.metadata import hook_layer, sae_lens_cfg
from sae.audit.resolve import AuditError, ResolvedSAE, resolve
from sae.config import Experiment

HUB_TIMEOUT_S = 3.0


def hub_reachable() -> bool:
    """Whether the Hugging Face hub can be reached now (HF_HUB_OFFLINE says it cannot)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=HUB_TIMEOUT_S).close()
        return True
    except OSError:
        return False


def _cached_repo(repo_id: str, kind: str = "models") -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE) / f"{kind}--{repo_id.replace('/', '--')}"


def hub_sae_cached(sae: ResolvedSAE) -> bool:
    """Whether a release's SAE has files in the local Hugging Face cache (any snapshot)."""
    return any(p.is_dir() and any(p.iterdir())
               for p in _cached_repo(sae.repo_id).glob(f"snapshots/*/{sae.hub_folder}"))


def audit_problems(name: str, exp: Experiment, results_dir: str, d_model: int | None) -> list[str]:
    """Every problem of audit experiment `name`; `d_model` is the model's hidden size where known locally."""
    from sae.data.inputs import OFFLINE_MODEL, names_a_local_path

    field = f"experiments.{name}"
    try:
        saes = resolve(exp.saes, results_dir, f"{field}.saes")
    except AuditError as err:
        return str(err).splitlines()
    problems, online, models = [], None, {}
    for sae in saes:
        try:
            cfg = sae_lens_cfg(sae)
        except AuditError as err:
            problems.append(f"{field}.saes: {err}")
            continue
        if cfg is not None:
            try:
                layer = hook_layer(cfg.get("hook_name"), f"{field}.saes: {sae.source}")
            except AuditError as err:
                problems.append(str(err))
                continue
            if cfg.get("model_name"):
                models.setdefault(cfg["model_name"], sae.source)
            if layer != exp.source.layer:
                problems.append(f"{field}.saes: {sae.source} reads {cfg['hook_name']} (layer {layer}), the audit's "
                                f"source.layer is {exp.source.layer}: audit SAEs of one hook together")
            if d_model is not None and cfg.get("d_in") != d_model:
                problems.append(f"{field}.saes: {sae.source} has d_in {cfg.get('d_in')}, the model's hidden size at "
                                f"the hook is {d_model}: audit it against the model it was trained on (source.model)")
        if sae.release is not None and not hub_sae_cached(sae):
            online = hub_reachable() if online is None else online
            if not online:
                problems.append(f"{field}.saes: {sae.source} is not in the local Hugging Face cache and the hub "
                                f"cannot be reached; on a connected machine run `huggingface-cli download "
                                f"{sae.repo_id} --include '{sae.hub_folder}/*'` and copy the cache here")
    if len(models) > 1:
        problems.append(f"{field}.saes: the SAEs were trained on different models ("
                        + ", ".join(f"{m} by {source}" for m, source in models.items())
                        + "): audit SAEs of one model together, one experiment each")
    model = exp.source.model
    if model != OFFLINE_MODEL and not names_a_local_path(model) and not _cached_repo(model).is_dir():
        online = hub_reachable() if online is None else online
        if not online:
            problems.append(f"{field}.source.model: {model!r} (from the SAEs' metadata unless set in source:) is not "
                            f"a local folder nor in the Hugging Face cache, and the hub cannot be reached; run "
                            f"`huggingface-cli download {model}` on a connected machine, or set source.model to a "
                            "local folder")
    return problems
