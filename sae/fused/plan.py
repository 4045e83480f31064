"""Which specs of one training job can share a stacked step, memory estimates, and stacks that fit a budget.

Free of torch and SAELens at import time (`sae.plan` uses `near_equal_chunks`). Which grid points form a
training job is decided once, in `sae.plan.training_jobs`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sae.architectures import ARCHITECTURES
from sae.runtime import resolve_device

if TYPE_CHECKING:
    from sae.train.spec import TrainSpec

T = TypeVar("T")

FUSED_ARCHITECTURES = tuple(name for name, spec in ARCHITECTURES.items() if spec.fusable)
# Live float32 tensors per member and sample during one step, in units of H and of D
# (hidden_pre, ReLU, masks, rescaled acts, top-k padding, aux-loss copies and their
# gradients; inputs, reconstructions, residuals and their gradients). Generous on purpose.
_ACTIVATIONS_PER_H = 16
_ACTIVATIONS_PER_D = 10
_CPU_BUDGET_FRACTION = 0.5
_CUDA_BUDGET_FRACTION = 0.8


class FusionError(ValueError):
    """The specs cannot be trained as one fused group; train them with `sae.train.loop.train_sae`."""


def fusable(spec: TrainSpec) -> bool:
    return spec.architecture in FUSED_ARCHITECTURES


def fusion_key(spec: TrainSpec) -> tuple[Any, ...]:
    """Specs with equal keys can share one stacked step (and, by the seed, one batch stream).

    The key cannot see the data source: callers group within one experiment.
    """
    return (
        spec.architecture, spec.d_in, spec.width, spec.seed, spec.samples, spec.batch_size, spec.lr,
        spec.log_every, spec.checkpoints, resolve_device(spec.device), repr(sorted(spec.options.items())),
    )


def estimate_group_bytes(specs: Sequence[TrainSpec]) -> int:
    """Peak memory of one fused step: weights, gradients, Adam moments, and activations of a batch."""
    s = specs[0]
    params = s.width * s.d_in * 2 + s.width + s.d_in
    activations = s.batch_size * (_ACTIVATIONS_PER_H * s.width + _ACTIVATIONS_PER_D * s.d_in)
    return len(specs) * 4 * (4 * params + activations)


def default_memory_budget(device: str) -> int:
    device = resolve_device(device)
    import torch  # here, not at the top: planning groups (in the Snakefile) must not pay for importing torch

    if torch.device(device).type == "cuda":
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free * _CUDA_BUDGET_FRACTION)
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * _CPU_BUDGET_FRACTION)


def near_equal_chunks(items: list[T], max_size: int) -> list[list[T]]:
    """`items` cut into ceil(n / max_size) consecutive chunks whose sizes differ by at most one, larger first.

    The fewest chunks of at most `max_size` items each, and none left nearly empty.
    """
    if not items:
        return []
    n_chunks = math.ceil(len(items) / max_size)
    size, n_larger = divmod(len(items), n_chunks)
    starts = [i * size + min(i, n_larger) for i in range(n_chunks + 1)]
    return [items[a:b] for a, b in zip(starts, starts[1:])]


def plan_groups(specs: Sequence[TrainSpec], memory_budget_bytes: int | None = None) -> list[list[TrainSpec]]:
    """Partition specs into fused groups that each fit the budget; unfusable specs stay alone.

    A key whose members do not fit together is split into near-equal groups, so a
    GPU never gets a group it cannot hold and no group is left nearly empty.
    """
    by_key: dict[tuple[Any, ...], list[TrainSpec]] = {}
    groups: list[list[TrainSpec]] = []
    for spec in specs:
        if fusable(spec):
            by_key.setdefault(fusion_key(spec), []).append(spec)
        else:
            groups.append([spec])
    for members in by_key.values():
        members = sorted(members, key=lambda s: s.l0)
        budget = memory_budget_bytes if memory_budget_bytes is not None else default_memory_budget(members[0].device)
        per_member = estimate_group_bytes(members[:1])
        groups.extend(near_equal_chunks(members, max(1, budget // per_member)))
    return groups


def check_group(specs: Sequence[TrainSpec]) -> None:
    """Raise `FusionError` unless `specs` can train as one fused group."""
    if not specs:
        raise FusionError("a fused group needs at least one spec")
    unsupported = sorted({s.architecture for s in specs if not fusable(s)})
    if unsupported:
        raise FusionError(
            f"fused training supports {list(FUSED_ARCHITECTURES)}, not {unsupported}; train those with train_sae"
        )
    keys = {fusion_key(s) for s in specs}
    if len(keys) > 1:
        raise FusionError(
            "a fused group must share architecture, d_in, width, seed, samples, batch_size, lr, log_every, "
            f"checkpoints, device and options; got {len(keys)} different combinations"
        )
