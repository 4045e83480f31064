"""Toy models with known features, built from `sae_lens.synthetic`.

A toy model is materialised once per experiment (feature directions,
correlation matrix, firing probabilities) so that every training and metric
job of the experiment sees exactly the same ground truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file
from sae_lens.synthetic import (
    ActivationGenerator,
    FeatureDictionary,
    create_correlation_matrix_from_correlations,
    generate_random_correlation_matrix,
    hierarchy_modifier,
)
from sae_lens.synthetic import HierarchyNode as SaeLensHierarchyNode

from sae import layout
from sae.config.sources import HierarchyNode, RandomCorrelation, ToyModelConfig, true_l0
from sae.io import atomic_path, atomic_write_json, read_json, read_tensors
from sae.wsae.data import superposition

# the file names sae.layout gives the toy model's rule outputs
WEIGHTS_FILE, INFO_FILE = Path(layout.TOY_WEIGHTS).name, Path(layout.TOY_INFO).name


@dataclass
class ToyModel:
    feature_vectors_FD: torch.Tensor
    firing_probabilities_F: torch.Tensor
    correlation_FF: torch.Tensor | None
    magnitude_mean: float
    magnitude_std: float
    hierarchy: list[HierarchyNode] | None = None
    magnitudes: str = "normal"  # or "uniform": U[0, 2 magnitude_mean]

    @property
    def num_features(self) -> int:
        return self.feature_vectors_FD.shape[0]

    @property
    def d_model(self) -> int:
        return self.feature_vectors_FD.shape[1]

    @property
    def true_l0(self) -> float:
        return true_l0(self.firing_probabilities_F.tolist(), self.hierarchy)

    def to(self, device: str | torch.device) -> ToyModel:
        corr = None if self.correlation_FF is None else self.correlation_FF.to(device)
        return ToyModel(
            self.feature_vectors_FD.to(device),
            self.firing_probabilities_F.to(device),
            corr,
            self.magnitude_mean,
            self.magnitude_std,
            self.hierarchy,
            self.magnitudes,
        )

    def feature_dictionary(self) -> FeatureDictionary:
        fd = FeatureDictionary(self.num_features, self.d_model, bias=False, initializer=None,
                               device=self.feature_vectors_FD.device)
        fd.feature_vectors.data = self.feature_vectors_FD.clone()
        fd.feature_vectors.requires_grad_(False)
        return fd.eval()

    def activation_generator(self) -> ActivationGenerator:
        uniform = self.magnitudes == "uniform"
        modifiers = [] if not self.hierarchy else [hierarchy_modifier(
            [SaeLensHierarchyNode.from_dict(root.to_sae_lens()) for root in self.hierarchy])]
        if uniform:
            modifiers.append(self._uniform_magnitudes)
        return ActivationGenerator(
            num_features=self.num_features,
            firing_probabilities=self.firing_probabilities_F,
            # uniform: every firing feature first gets exactly magnitude_mean > 0, then a uniform draw
            std_firing_magnitudes=0.0 if uniform else self.magnitude_std,
            mean_firing_magnitudes=self.magnitude_mean,
            correlation_matrix=self.correlation_FF,
            modify_activations=modifiers or None,
            device=self.feature_vectors_FD.device,
        )

    def _uniform_magnitudes(self, acts_BF: torch.Tensor) -> torch.Tensor:
        return torch.where(acts_BF > 0, torch.rand_like(acts_BF) * (2 * self.magnitude_mean), 0.0)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {"feature_vectors_FD": self.feature_vectors_FD, "firing_probabilities_F": self.firing_probabilities_F}
        if self.correlation_FF is not None:
            tensors["correlation_FF"] = self.correlation_FF
        with atomic_path(directory / WEIGHTS_FILE) as tmp:
            save_file({k: v.contiguous().cpu() for k, v in tensors.items()}, str(tmp))
        atomic_write_json(
            directory / INFO_FILE,
            {
                "num_features": self.num_features,
                "d_model": self.d_model,
                "true_l0": self.true_l0,
                "magnitude_mean": self.magnitude_mean,
                "magnitude_std": self.magnitude_std,
                "magnitudes": self.magnitudes,
                "hierarchy": None if self.hierarchy is None else [root.model_dump() for root in self.hierarchy],
            },
        )

    @classmethod
    def load(cls, directory: Path, device: str | torch.device = "cpu") -> ToyModel:
        weights, info_file = Path(directory) / WEIGHTS_FILE, Path(directory) / INFO_FILE
        tensors = read_tensors(weights, rebuild=directory, device=str(device))
        info = read_json(info_file, rebuild=directory)
        return cls(
            tensors["feature_vectors_FD"],
            tensors["firing_probabilities_F"],
            tensors.get("correlation_FF"),
            info["magnitude_mean"],
            info["magnitude_std"],
            None if info.get("hierarchy") is None else [HierarchyNode.model_validate(r) for r in info["hierarchy"]],
            info.get("magnitudes", "normal"),
        )


def _feature_vectors(cfg: ToyModelConfig) -> torch.Tensor:
    if cfg.superposition is not None:
        geometry = cfg.superposition
        return superposition(geometry.monosemantic, geometry.antipodal_pairs, geometry.pentagons).T.contiguous()
    gen = torch.Generator().manual_seed(cfg.seed)
    gauss_DF = torch.randn(cfg.d_model, cfg.num_features, generator=gen, dtype=torch.float64)
    if cfg.orthogonal:
        # Exact orthonormality via QR: the papers' toys assume orthogonal features, and
        # SAELens's iterative orthogonaliser only approximates it.
        q_DF, _ = torch.linalg.qr(gauss_DF)
        return q_DF.T.float().contiguous()
    return (gauss_DF / gauss_DF.norm(dim=0, keepdim=True)).T.float().contiguous()


def sparse_but_wrong_correlation_matrix(num_features: int, corr: RandomCorrelation) -> torch.Tensor:
    """The random correlation matrix as Sparse but Wrong draws it (`generate_random_correlation_matrix` in
    `sparse_but_wrong/toy_models/get_training_batch.py`), written from its description.

    Python's `random` seeded with `corr.seed` picks int(pairs·(1 − uncorrelated_ratio)) of the pairs
    i < j (row-major) with `random.sample`; the first int(that·positive_ratio) picked are positive, the
    rest negative, each with strength `random.uniform(min_strength, max_strength)` drawn in pick order.
    Then, in float32: eigenvalues clipped at 1e-6, rebuilt, rescaled to unit diagonal, diagonal set to 1.
    A private `random.Random` replaces the global seeding, which draws the same numbers.
    """
    rng = random.Random(corr.seed)
    matrix = torch.eye(num_features)
    pairs = [(i, j) for i in range(num_features) for j in range(i + 1, num_features)]
    correlated = len(pairs) - int(len(pairs) * corr.uncorrelated_ratio)
    if correlated == 0:
        return matrix
    positive = int(correlated * corr.positive_ratio)
    for rank, (i, j) in enumerate(rng.sample(pairs, correlated)):
        sign = 1 if rank < positive else -1
        matrix[i, j] = matrix[j, i] = sign * rng.uniform(corr.min_strength, corr.max_strength)
    eigenvalues, eigenvectors = torch.linalg.eigh(matrix)
    matrix = eigenvectors @ torch.diag(eigenvalues.clamp(min=1e-6)) @ eigenvectors.T
    diag_sqrt = matrix.diag().sqrt()
    matrix = matrix / (diag_sqrt.unsqueeze(0) * diag_sqrt.unsqueeze(1))
    matrix.fill_diagonal_(1.0)
    return matrix


def _correlation_matrix(cfg: ToyModelConfig) -> torch.Tensor | None:
    corr = cfg.correlations
    if corr is None:
        return None
    if isinstance(corr, RandomCorrelation) and corr.generator == "sparse_but_wrong":
        return sparse_but_wrong_correlation_matrix(cfg.num_features, corr)
    if isinstance(corr, RandomCorrelation):
        return generate_random_correlation_matrix(
            cfg.num_features,
            positive_ratio=corr.positive_ratio,
            uncorrelated_ratio=corr.uncorrelated_ratio,
            min_correlation_strength=corr.min_strength,
            max_correlation_strength=corr.max_strength,
            seed=corr.seed,
        )
    pairs = {(min(p.i, p.j), max(p.i, p.j)): p.rho for p in corr}
    return create_correlation_matrix_from_correlations(cfg.num_features, pairs)


def build_toy_model(cfg: ToyModelConfig) -> ToyModel:
    return ToyModel(
        feature_vectors_FD=_feature_vectors(cfg),
        firing_probabilities_F=torch.tensor(cfg.firing_probabilities, dtype=torch.float32),
        correlation_FF=_correlation_matrix(cfg),
        magnitude_mean=cfg.magnitude_mean,
        magnitude_std=cfg.magnitude_std,
        hierarchy=cfg.hierarchy,
        magnitudes=cfg.magnitudes,
    )


class ToyBatches:
    """Endless batches of (hidden activations, true feature activations) from a private RNG stream.

    The stream depends only on `seed`, not on what else draws from torch's global
    RNG, so an SAE's data is the same whether it trains alone, in a group, or
    resumes from a checkpoint (the stream state is part of `state_dict`).
    """

    def __init__(self, model: ToyModel, batch_size: int, seed: int):
        self.feature_dict = model.feature_dictionary()
        self.generator = model.activation_generator()
        self.batch_size = batch_size
        self.device = model.feature_vectors_FD.device
        self._rng_state = self._fresh_state(seed)

    def _fresh_state(self, seed: int) -> torch.Tensor:
        with torch.random.fork_rng(devices=self._cuda_devices()):
            torch.manual_seed(seed)
            return self._get_state()

    def _cuda_devices(self) -> list[int]:
        return [self.device.index or 0] if self.device.type == "cuda" else []

    def _get_state(self) -> torch.Tensor:
        return torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else torch.get_rng_state()

    def _set_state(self, state: torch.Tensor) -> None:
        if self.device.type == "cuda":
            torch.cuda.set_rng_state(state, self.device)
        else:
            torch.set_rng_state(state)

    @torch.no_grad()
    def next_with_features(self) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.random.fork_rng(devices=self._cuda_devices()):
            self._set_state(self._rng_state)
            features_BF = self.generator.sample(self.batch_size)
            self._rng_state = self._get_state()
        return self.feature_dict(features_BF), features_BF

    def __iter__(self) -> ToyBatches:
        return self

    def __next__(self) -> torch.Tensor:
        return self.next_with_features()[0]

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"rng_state": self._rng_state.clone()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self._rng_state = state["rng_state"].clone()
