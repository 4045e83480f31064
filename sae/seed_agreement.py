"""Agreement between seeds: how well the decoders of SAEs that differ only in their seed match each other.

A signal of the L0 that needs no ground truth (issue 26): per curve and L0, the Hungarian-matched mean |cos|
between the decoder rows of two seeds, the MCC that `ground_truth` computes against a toy's true features
(`sae_lens.synthetic.mean_correlation_coefficient`) with another seed's decoder in their place. Where the SAEs
learn the true features both seeds find the same directions; where they mix features (wrong L0) the mixtures
can differ between seeds. Whether it peaks at the true L0 is measured, not assumed
(benchmarks/bench_seed_agreement.py, docs/recommendation_extras.md). The recommendation reports its argmax
beside c_dec's answers; the rule does not use it.

It is the one sweep-table column read from weights (the decoders of two SAEs), not from a metrics JSON: it is a
property of a pair of SAEs, and the sweep-table job already waits for every SAE's files.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sae.config import GridPoint
from sae.sweep import curve_key, point_row

if TYPE_CHECKING:
    import torch


def read_decoder(weights: Path) -> torch.Tensor:
    """W_dec [latents, d] of a saved SAE (its sae_weights.safetensors), without the rest of its weights."""
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        return f.get_tensor("W_dec").float()


def siblings(points: Sequence[GridPoint]) -> list[list[GridPoint]]:
    """Groups of points that differ only in their seed (same curve and L0), of two or more."""
    groups: dict[tuple, list[GridPoint]] = defaultdict(list)
    for point in points:
        groups[(curve_key(point_row(point)), point.l0)].append(point)
    return [g for g in groups.values() if len({p.seed for p in g}) > 1]


def seed_agreement(points: Sequence[GridPoint], decoder: Mapping[str, torch.Tensor] | None = None,
                   weights: Mapping[str, Path] | None = None) -> dict[str, float]:
    """Point key -> mean over the other seeds of its curve and L0 of the matched mean |cos| between decoders.

    Decoders come from `decoder` (key -> W_dec) or are read from `weights` (key -> sae_weights.safetensors) for
    the points that have siblings only. A point without another seed at its L0 gets no value.
    """
    groups = siblings(points)
    if not groups:
        return {}
    # imports torch and sae_lens (seconds of a sweep-table job's start-up): only where two seeds share an L0
    from sae_lens.synthetic import mean_correlation_coefficient

    if decoder is None:
        decoder = {p.key: read_decoder(weights[p.key]) for g in groups for p in g}
    pairs: dict[str, list[float]] = defaultdict(list)
    for group in groups:
        for a, b in itertools.combinations(group, 2):
            value = mean_correlation_coefficient(decoder[a.key], decoder[b.key])
            pairs[a.key].append(value)
            pairs[b.key].append(value)
    return {key: sum(v) / len(v) for key, v in pairs.items()}
