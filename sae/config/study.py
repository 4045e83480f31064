"""The study: named experiments, each a source, a grid, architecture options, training and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, ValidationError, create_model, field_validator, model_validator

from sae.architectures import ARCHITECTURES, options_for
from sae.config.grid import GridConfig, GridPoint, experiment_points
from sae.config.metrics import MetricsConfig
from sae.config.sources import LLMSource, ToySource
from sae.config.training import TrainingConfig
from sae.metrics import METRICS
from sae.options import Strict

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"


def _architecture_options_model() -> type[Strict]:
    """`architectures`: each architecture's own options (those that have any), fixed for the experiment."""
    fields: dict[str, Any] = {
        name: (spec.options, Field(default_factory=spec.options, description=f"Options of {name}."))
        for name, spec in ARCHITECTURES.items() if spec.options.model_fields
    }
    return create_model("ArchitectureOptions", __base__=Strict, **fields)


ArchitectureOptions = _architecture_options_model()


def _source_kind(value: Any) -> str:
    # `kind` may be left out for toy models: `{preset: sbw_large}` reads as it looks
    return value.get("kind", "toy") if isinstance(value, dict) else value.kind


class Experiment(Strict):
    source: Annotated[
        Annotated[ToySource, Tag("toy")] | Annotated[LLMSource, Tag("llm")],
        Discriminator(_source_kind),
    ] = Field(description="Where activations come from: a toy model (`kind: toy`, the default) or a language model.")
    grid: GridConfig = Field(description="The SAEs to train: product of architectures, widths, L0s, seeds and swept options.")
    architectures: ArchitectureOptions = Field(  # type: ignore[valid-type]
        ArchitectureOptions(), description="Each architecture's own options, fixed for this experiment.")
    training: TrainingConfig = Field(TrainingConfig(), description="How each SAE is trained.")
    metrics: MetricsConfig = Field(MetricsConfig(), description="How each SAE is evaluated.")  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _normalisation_needs_a_store(self) -> Experiment:
        if self.training.normalize_activations and self.source.kind != "llm":
            raise ValueError("training.normalize_activations needs an llm source (it uses the store's mean norm)")
        return self

    @model_validator(mode="after")
    def _true_features_exist(self) -> Experiment:
        if self.training.init == "true_features":
            if self.source.kind != "toy":
                raise ValueError("training.init: true_features needs a toy source")
            if max(self.grid.width) > self.source.model.num_features:
                raise ValueError(f"training.init: true_features needs every width <= the toy's "
                                 f"{self.source.model.num_features} features")
        return self

    @model_validator(mode="after")
    def _metric_settings_fit(self) -> Experiment:
        for name in METRICS:
            getattr(self.metrics, name).check_experiment(self)
        return self

    @model_validator(mode="after")
    def _option_fixed_or_swept(self) -> Experiment:
        for arch in self.grid.swept_architectures():
            options = getattr(self.architectures, arch)
            # a re-validated dump (the rules' params) marks every default as set: only a changed value is fixed
            fixed = {k for k in options.model_fields_set if getattr(options, k) != type(options).model_fields[k].default}
            both = sorted(fixed & set(self.grid.axes(arch)))
            if both:
                raise ValueError(f"{arch} options {both} are both fixed (architectures.{arch}) and swept "
                                 f"(grid.sweep.{arch}): keep one")
        return self

    def options(self, point: GridPoint) -> Strict:
        """The point's architecture options: the experiment's fixed ones, then its swept values."""
        fixed = getattr(self.architectures, point.architecture, None)
        return options_for(point.architecture, (fixed.model_dump() if fixed else {}) | point.options)


class TrackingConfig(Strict):
    uri: str = Field("sqlite:///results/mlflow.db", description="MLflow tracking URI (sqlite:///path or http://host:port).")
    experiment_prefix: str = Field("", description="Prefix of every MLflow experiment name.")

    @field_validator("uri")
    @classmethod
    def _known_scheme(cls, uri: str) -> str:
        if not uri.startswith(("sqlite:///", "http://", "https://", "postgresql://")):
            raise ValueError("must start with sqlite:///, http://, https:// or postgresql://")
        return uri


class StudyConfig(Strict):
    results_dir: str = Field("results", description="Directory of every output.")
    experiments: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Experiment] = Field(
        min_length=1, description="Named experiments; the name is the first path component of their outputs."
    )
    tracking: TrackingConfig = Field(TrackingConfig(), description="Where MLflow records runs.")


def grid_points(config: StudyConfig) -> Iterator[GridPoint]:
    for name, exp in config.experiments.items():
        yield from experiment_points(name, exp.grid)


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
