"""Registry of trainable architectures: grid name -> SAELens training config.

Each entry turns a grid point's (width, target L0) into a SAELens
`TrainingSAEConfig`; SAELens does the rest (forward pass, losses, saving).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Architecture = Literal["batchtopk", "topk", "jumprelu", "standard", "matryoshka_batchtopk"]


@dataclass(frozen=True)
class ArchitectureSpec:
    sae_lens_name: str
    integer_l0: bool
    # (width, l0, options) -> extra SAELens config fields
    fields: Callable[[int, float, dict[str, Any]], dict[str, Any]]
    # sae.fused can train a group of these as stacked tensors
    fusable: bool = False


def _matryoshka_widths(width: int, prefixes: list[float]) -> list[int]:
    inner = sorted({max(1, round(width * p)) for p in prefixes if round(width * p) < width})
    return [*inner, width]


ARCHITECTURES: dict[str, ArchitectureSpec] = {
    "batchtopk": ArchitectureSpec("batchtopk", False, lambda w, l0, o: {"k": float(l0)}, fusable=True),
    "topk": ArchitectureSpec("topk", True, lambda w, l0, o: {"k": int(l0)}, fusable=True),
    # Gemma Scope 2's quadratic penalty pulls L0 towards target_l0.
    "jumprelu": ArchitectureSpec(
        "jumprelu",
        False,
        lambda w, l0, o: {"jumprelu_sparsity_loss_mode": "quadratic", "target_l0": float(l0), "l0_coefficient": 1.0},
    ),
    # No SAELens knob targets an L0 for L1 SAEs: the trainer steers l1_coefficient (see sae.train).
    "standard": ArchitectureSpec("standard", False, lambda w, l0, o: {"l1_coefficient": o["standard_l1_init"]}),
    "matryoshka_batchtopk": ArchitectureSpec(
        "matryoshka_batchtopk",
        False,
        lambda w, l0, o: {"k": float(l0), "matryoshka_widths": _matryoshka_widths(w, o["matryoshka_prefixes"])},
    ),
}


def build_training_sae(
    architecture: str, d_in: int, width: int, l0: float, options: dict[str, Any], device: str = "cpu"
) -> Any:
    """A freshly initialised SAELens TrainingSAE for one grid point (seed the RNG first)."""
    # Imported here so that validating a config (in the Snakefile) stays free of torch.
    from sae_lens.registry import get_sae_training_class

    spec = ARCHITECTURES[architecture]
    sae_cls, cfg_cls = get_sae_training_class(spec.sae_lens_name)
    cfg = cfg_cls(d_in=d_in, d_sae=width, device=device, **spec.fields(width, l0, options))
    return sae_cls(cfg)
