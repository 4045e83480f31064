"""The WSAE synthetic data: sparse ground-truth features superposed into fewer input dimensions.

x_j = 0 with probability S, else U[0, 1] (Cui et al. 2025). x_p = W_p x with unit columns; the
geometry is ours, after *Toy Models of Superposition*: some input dimensions carry one feature,
some an antipodal pair (+1, −1 on one dimension), and two dimensions carry a regular pentagon
of five features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Superposition:
    W_p_DF: torch.Tensor  # input dimensions x features, unit columns
    monosemantic_F: torch.Tensor  # features that have an input dimension to themselves

    @property
    def num_features(self) -> int:
        return self.W_p_DF.shape[1]

    @property
    def d(self) -> int:
        return self.W_p_DF.shape[0]


def superposition(monosemantic: int = 4, antipodal_pairs: int = 2, pentagons: int = 1) -> Superposition:
    """W_p with `monosemantic` 1-feature dimensions, then the pairs (one dimension each), then the pentagons (two each)."""
    d = monosemantic + antipodal_pairs + 2 * pentagons
    columns, mono = [], []
    for i in range(monosemantic):
        columns.append(torch.eye(d)[i])
        mono.append(True)
    for p in range(antipodal_pairs):
        dim = monosemantic + p
        columns += [torch.eye(d)[dim], -torch.eye(d)[dim]]
        mono += [False, False]
    for q in range(pentagons):
        a, b = monosemantic + antipodal_pairs + 2 * q, monosemantic + antipodal_pairs + 2 * q + 1
        for k in range(5):
            column = torch.zeros(d)
            column[a], column[b] = math.cos(2 * math.pi * k / 5), math.sin(2 * math.pi * k / 5)
            columns.append(column)
            mono.append(False)
    return Superposition(torch.stack(columns, dim=1), torch.tensor(mono))


def sample_features(n: int, num_features: int, sparsity: float, generator: torch.Generator) -> torch.Tensor:
    """[n, features]: each entry zero with probability `sparsity`, else uniform on [0, 1]."""
    fires = torch.rand(n, num_features, generator=generator) >= sparsity
    return fires * torch.rand(n, num_features, generator=generator)


def superpose(x_NF: torch.Tensor, model: Superposition) -> torch.Tensor:
    return x_NF @ model.W_p_DF.T
