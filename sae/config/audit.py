"""`saes:` of an audit experiment: SAEs that exist already (a SAELens release and id, or a local folder)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sae.options import Strict

# The on-disk formats an audited folder may be in; `auto` tells them apart by their files (sae.audit.formats).
SAEFormat = Literal["auto", "sae_lens", "sparsify", "dictionary_learning"]


class AuditedSAE(Strict):
    """One SAE, or with a glob pattern (`*`, `?`, `[...]`) a ladder of them, to audit."""

    path: str | None = Field(
        None, description="Local folder of a saved SAE (glob patterns allowed): SAELens's format (cfg.json, "
        "sae_weights.safetensors), sparsify's (cfg.json, sae.safetensors) or dictionary_learning's "
        "(config.json, ae.pt).")
    format: SAEFormat = Field("auto", description="The folder's format; `auto` tells it by its files.")
    release: str | None = Field(
        None, description="SAELens pretrained release (sae_lens/pretrained_saes.yaml), e.g. gemma-scope-2b-pt-res.")
    id: str | None = Field(
        None, description="SAE id within the release; glob patterns match a ladder "
        "(`layer_12/width_16k/average_l0_*`).")

    @model_validator(mode="after")
    def _one_source(self) -> AuditedSAE:
        local, hub = self.path is not None, (self.release, self.id) != (None, None)
        if local == hub:
            raise ValueError("give either `path` (a local folder) or `release` and `id` (a SAELens release)")
        if hub and (self.release is None or self.id is None):
            raise ValueError("a SAELens release needs both `release` and `id`")
        if hub and self.format != "auto":
            raise ValueError("`format` is for local folders; a release's loader is SAELens's own")
        return self
