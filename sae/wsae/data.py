"""The WSAE synthetic data's geometry: sparse ground-truth features superposed into fewer input dimensions.

x_p = W_p x with unit columns; the geometry is ours, after *Toy Models of Superposition*: some
input dimensions carry one feature, some an antipodal pair (+1, −1 on one dimension), and pairs
of dimensions carry a regular pentagon of five features. The toy source `wsae_superposition`
(`sae.config.sources`) draws x (zero with probability S, else U[0, 1]) and builds x_p from it.
"""

from __future__ import annotations

import math

import torch


def superposition(monosemantic: int = 4, antipodal_pairs: int = 2, pentagons: int = 1) -> torch.Tensor:
    """W_p [input dimensions, features]: `monosemantic` 1-feature dimensions, then the pairs (one dimension
    each), then the pentagons (two dimensions each)."""
    d = monosemantic + antipodal_pairs + 2 * pentagons
    eye = torch.eye(d)
    columns = [eye[i] for i in range(monosemantic)]
    for p in range(antipodal_pairs):
        columns += [eye[monosemantic + p], -eye[monosemantic + p]]
    for q in range(pentagons):
        a = monosemantic + antipodal_pairs + 2 * q
        for k in range(5):
            columns.append(math.cos(2 * math.pi * k / 5) * eye[a] + math.sin(2 * math.pi * k / 5) * eye[a + 1])
    return torch.stack(columns, dim=1)
