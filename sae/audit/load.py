"""An audited SAE loaded with SAELens (its own loaders and converters) and written into its point folder in
SAELens's format, where every per-SAE metric and LLM evaluation reads trained SAEs."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

from sae import layout
from sae.audit import formats
from sae.audit.resolve import AuditError, ResolvedSAE

# SAELens cfg fields an audit reports as the SAE's metadata (its MLflow params, audit.json)
METADATA = ("architecture", "d_in", "d_sae", "dtype", "normalize_activations", "apply_b_dec_to_input")


def _dictionary_learning_disk_loader(path: str | Path, device: str = "cpu",
                                     cfg_overrides: dict[str, Any] | None = None) -> tuple[dict, dict]:
    """SAELens's dictionary_learning converter (`dictionary_learning_sae_huggingface_loader_1`) on a local folder.

    SAELens has it for the hub only: it fetches `<folder>/config.json` and `<folder>/ae.pt` with
    `hf_hub_download`, which here answers with the local files instead, so the conversion is SAELens's own.
    """
    from sae_lens.loading import pretrained_sae_loaders as loaders

    folder = Path(path)
    with mock.patch.object(loaders, "hf_hub_download", lambda repo_id, filename, **_: str(Path(repo_id) / filename)):
        cfg, state, _ = loaders.dictionary_learning_sae_huggingface_loader_1(
            str(folder.parent), folder.name, device=device, cfg_overrides=cfg_overrides)
    return cfg, state


def _sparsify_disk_loader(path: str | Path, device: str = "cpu",
                          cfg_overrides: dict[str, Any] | None = None) -> tuple[dict, dict]:
    """A folder saved by sparsify's `SparseCoder.save_to_disk`, as a SAELens TopK SAE.

    The model, hook and context come from SAELens's `get_sparsify_config_from_disk`. Its weights loader
    (`sparsify_disk_loader`, SAELens 6.54) does not fit what sparsify saves today: it transposes `W_dec`, which
    sparsify stores as (num_latents, d_in) like SAELens, and it keeps `b_dec` out of the encoder input when
    `normalize_decoder` is set, where `SparseCoder.encode` always subtracts it (sparsify/sparse_coder.py). So the
    weights are read here; sparsify's encoder is ReLU then top-k, SAELens's TopK top-k then ReLU: the same codes.
    """
    from safetensors.torch import load_file
    from sae_lens.loading.pretrained_sae_loaders import get_sparsify_config_from_disk

    folder = Path(path)
    cfg = get_sparsify_config_from_disk(folder, device, cfg_overrides)
    if cfg["activation_fn_kwargs"].get("signed"):
        raise AuditError(f"{folder}: a signed sparsify coder has no SAELens counterpart; it cannot be audited")
    cfg |= {"architecture": "topk", "k": cfg["activation_fn_kwargs"]["k"], "apply_b_dec_to_input": True}
    weights = load_file(folder / formats.FILES["sparsify"][1], device=device)
    state = {"W_enc": weights["encoder.weight"].T.contiguous(), "b_enc": weights["encoder.bias"],
             "W_dec": weights["W_dec"], "b_dec": weights["b_dec"]}
    return cfg, state


def _converter(fmt: str) -> Any:
    from sae_lens.loading import pretrained_sae_loaders as loaders

    return {"sae_lens": loaders.sae_lens_disk_loader, "sparsify": _sparsify_disk_loader,
            "dictionary_learning": _dictionary_learning_disk_loader}[fmt]


def load_audited(sae: ResolvedSAE, device: str = "cpu") -> Any:
    """The SAE in SAELens's inference form, in float32 (sparsify saves bfloat16; every metric here is float32)."""
    import torch
    from sae_lens import SAE

    if sae.path is None:
        loaded = SAE.from_pretrained(sae.release, sae.id, device=device).to(dtype=torch.float32)
    else:
        folder = Path(sae.path)
        missing = [f for f in formats.FILES[sae.format] if not (folder / f).is_file()]
        if missing:
            raise AuditError(f"{folder} is not an SAE folder in {sae.format}'s format: {', '.join(missing)} missing")
        loaded = SAE.load_from_disk(folder, device=device, dtype="float32", converter=_converter(sae.format))
    # a converter's transposes (dictionary_learning's W_dec) are views, which save_model refuses
    for param in loaded.parameters():
        param.data = param.data.contiguous()
    return loaded


def metadata(sae_module: Any) -> dict[str, Any]:
    """What the SAE says about itself: its shape and architecture, and its model, hook and context."""
    cfg = sae_module.cfg.to_dict()
    meta = cfg.get("metadata") or {}
    meta = meta if isinstance(meta, dict) else vars(meta)
    return {k: cfg.get(k) for k in METADATA} | {f"metadata.{k}": v for k, v in sorted(meta.items())
                                                 if isinstance(v, (str, int, float, bool)) or v is None}


def check_fits(sae: ResolvedSAE, loaded: Any, layer: int, d_model: int) -> None:
    """The SAE reads the residual stream after block `layer` of a model of hidden size `d_model` (pre-flight checked
    the SAELens-format folders it could read; this checks every SAE, once loaded)."""
    from sae.audit.metadata import hook_layer

    meta = metadata(loaded)
    hook = meta.get("metadata.hook_name")
    if hook is not None and hook_layer(hook, sae.source) != layer:
        raise AuditError(f"{sae.source}: its hook {hook} is not the audit's layer {layer} (source.layer): audit SAEs "
                         "of one hook together")
    if loaded.cfg.d_in != d_model:
        raise AuditError(f"{sae.source}: d_in {loaded.cfg.d_in} does not match the model's hidden size {d_model} "
                         "at the hook; audit it against the model and layer it was trained on (source:)")


def import_sae(sae: ResolvedSAE, point_dir: Path, layer: int, d_model: int, device: str = "cpu") -> dict[str, Any]:
    """Write `sae` into `point_dir/sae` in SAELens's format, atomically; returns its record (audit.json).

    A folder already in SAELens's format is copied byte for byte (its metrics then equal its original's
    exactly); any other is loaded through SAELens and saved with `save_model`.
    """
    loaded = load_audited(sae, device)
    check_fits(sae, loaded, layer, d_model)
    target = point_dir / layout.SAE_FOLDER
    point_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=point_dir, prefix=".import-") as tmp:
        staged = Path(tmp) / layout.SAE_FOLDER
        if sae.path is not None and sae.format == "sae_lens":
            staged.mkdir()
            for name in layout.SAE_FILES:
                shutil.copyfile(Path(sae.path) / name, staged / name)
        else:
            loaded.save_model(staged)
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    return sae.record() | {"name": sae.name} | metadata(loaded)
