"""The study: named experiments, each a source, a grid, architecture options, training and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, ValidationError, create_model, field_validator, model_validator

from sae import layout
from sae.architectures import ARCHITECTURES, options_for
from sae.config.audit import AuditedSAE
from sae.config.grid import GridConfig, GridPoint, experiment_points
from sae.config.metrics import MetricsConfig
from sae.config.refine import RefineConfig
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


def _values(values: list[Any]) -> str:
    """A grid axis in a few words: every value, or its range and count when there are many."""
    shown = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    return ", ".join(shown) if len(shown) <= 4 else f"{shown[0]}–{shown[-1]} ({len(shown)} values)"


class Experiment(Strict):
    description: str | None = Field(
        None, description="What the experiment is for, in words: the description of its MLflow experiment "
        "(omitted: its source and grid, e.g. `Toy model sbw_large (50 features in d 100, true L0 10.95); "
        "batchtopk, top_afa; width 50; L0 2–25 (12 values); seeds 0, 1`). A label only: changing it retrains "
        "and re-evaluates nothing.")
    source: Annotated[
        Annotated[ToySource, Tag("toy")] | Annotated[LLMSource, Tag("llm")],
        Discriminator(_source_kind),
    ] = Field(description="Where activations come from: a toy model (`kind: toy`, the default) or a language model.")
    grid: GridConfig | None = Field(
        None, description="The SAEs to train: product of architectures, widths, L0s, seeds and swept options "
        "(or `saes`, not both).")
    saes: list[AuditedSAE] | None = Field(
        None, min_length=1, description="An audit: SAEs that exist already, evaluated and given a verdict on "
        "their L0 instead of trained (or `grid`, not both). Needs an llm source; its model, layer and context "
        "length default to the first SAE's metadata.")
    architectures: ArchitectureOptions = Field(  # type: ignore[valid-type]
        ArchitectureOptions(), description="Each architecture's own options, fixed for this experiment.")
    training: TrainingConfig = Field(TrainingConfig(), description="How each SAE is trained.")
    metrics: MetricsConfig = Field(MetricsConfig(), description="How each SAE is evaluated.")  # type: ignore[valid-type]
    refine: RefineConfig | None = Field(
        None, description="Adaptive refinement: after the coarse grid, add L0s and seeds inside the recommended "
        "interval and recommend again (toy sources; omitted: none).")

    @model_validator(mode="after")
    def _grid_or_saes(self) -> Experiment:
        if (self.grid is None) == (self.saes is None):
            raise ValueError("give either `grid` (SAEs to train) or `saes` (SAEs to audit), not both")
        if self.saes is not None and self.source.kind != "llm":
            raise ValueError("an audit (`saes`) needs an llm source: the SAEs read a language model's activations")
        continuing = [n for n, spec in METRICS.items()
                      if spec.continuations is not None and getattr(self.metrics, n).enabled]
        if self.saes is not None and continuing:
            raise ValueError(f"metrics {continuing} train each SAE further, which an audit does not: disable them")
        return self

    @property
    def is_audit(self) -> bool:
        return self.saes is not None

    @model_validator(mode="after")
    def _refine_toy_only(self) -> Experiment:
        # the per-experiment LLM evaluations are planned over the coarse grid only
        if self.refine is not None and self.source.kind != "toy":
            raise ValueError("refine needs a toy source")
        return self

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
            if self.grid is not None and max(self.grid.width) > self.source.model.num_features:
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
        for arch in self.grid.swept_architectures() if self.grid is not None else ():
            options = getattr(self.architectures, arch)
            # a re-validated dump (the rules' params) marks every default as set: only a changed value is fixed
            fixed = {k for k in options.model_fields_set if getattr(options, k) != type(options).model_fields[k].default}
            both = sorted(fixed & set(self.grid.axes(arch)))
            if both:
                raise ValueError(f"{arch} options {both} are both fixed (architectures.{arch}) and swept "
                                 f"(grid.sweep.{arch}): keep one")
        return self

    def describe(self) -> str:
        """The MLflow experiment's description: the configured one, else the source and grid in words."""
        if self.description:
            return self.description
        source = self.source
        if source.kind == "toy":
            model = source.model
            what = (f"Toy model {source.preset or '(custom)'} ({model.num_features} features in d {model.d_model}, "
                    f"true L0 {model.true_l0:.4g})")
        else:
            what = f"{source.model} layer {source.layer} on {source.dataset} ({source.tokens:,} tokens)"
        if self.saes is not None:
            return f"{what}; audit of {len(self.saes)} given SAE entr{'y' if len(self.saes) == 1 else 'ies'}: " + \
                ", ".join(s.path or f"{s.release}/{s.id}" for s in self.saes)
        grid = self.grid
        parts = [", ".join(grid.architecture), f"width {_values(grid.width)}"]
        parts += [f"L0 {_values(sorted(grid.l0))}"] if grid.l0 else []
        parts += [f"{arch}.{option} {_values(values)}" for arch in grid.swept_architectures()
                  for option, values in grid.axes(arch).items()]
        parts.append(f"seed{'s' if len(grid.seed) > 1 else ''} {_values(grid.seed)}")
        return f"{what}; {'; '.join(parts)}"

    def for_jobs(self) -> dict[str, Any]:
        """This experiment as its continuation, evaluation, refinement and sweep-table jobs get it, as JSON.

        Without the description, which only labels the MLflow experiment: Snakemake reruns a job whose params
        change, and a new description should rerun nothing (the sweep-table job, which sets it, takes it apart).
        """
        return self.model_dump(mode="json", exclude={"description"}, exclude_unset=True)

    def for_training(self, points: list[GridPoint]) -> dict[str, Any]:
        """This experiment as the training job of `points` (one point, or one fused group) needs it, as JSON.

        No metrics, no description, and a grid of those points only: Snakemake reruns a job whose params change,
        so a metric setting, the description or another grid point must not reach them.
        """
        shared = {(p.architecture, p.width, p.seed, layout.point_path(p.architecture, p.width, None, 0, p.options))
                  for p in points}
        if len(shared) != 1:
            raise ValueError(f"a training job's points differ in more than their L0: {sorted(shared)}")
        first = points[0]
        l0s = [p.l0 for p in points if p.l0 is not None]
        grid = {"architecture": [first.architecture], "width": [first.width], "seed": [first.seed],
                "l0": l0s or None, "sweep": {first.architecture: {k: [v] for k, v in first.options.items()}}
                if first.options else {}}
        # exclude_unset: an option re-validated from a full dump would count as set, and clash with its sweep
        return self.model_dump(mode="json", exclude={"metrics", "description"}, exclude_unset=True) | {"grid": grid}

    def options(self, point: GridPoint) -> Strict:
        """The point's architecture options: the experiment's fixed ones, then its swept values.

        An options model with a `for_source(kind)` method resolves there the defaults that depend on the
        source kind (top_afa's standardisation).
        """
        fixed = getattr(self.architectures, point.architecture, None)
        options = options_for(point.architecture, (fixed.model_dump() if fixed else {}) | point.options)
        for_source = getattr(options, "for_source", None)
        return options if for_source is None else for_source(self.source.kind)


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

    @field_validator("experiments")
    @classmethod
    def _names_free(cls, experiments: dict[str, Any]) -> dict[str, Any]:
        taken = sorted(set(experiments) & set(layout.RESERVED_NAMES))
        if taken:
            raise ValueError(f"experiment name(s) {taken} are folders every study uses in results_dir "
                             f"({', '.join(layout.RESERVED_NAMES)}); rename the experiment")
        return experiments


def grid_points(config: StudyConfig) -> Iterator[GridPoint]:
    for name, exp in config.experiments.items():
        if exp.grid is not None:
            yield from experiment_points(name, exp.grid)


class ConfigError(ValueError):
    """A config failed validation; the message names every bad field path."""


def _field_path(loc: tuple[Any, ...]) -> str:
    # pydantic puts the union tag after `source` (source.toy.preset): the user wrote source.preset
    parts = [str(p) for i, p in enumerate(loc) if not (i > 0 and loc[i - 1] == "source" and p in ("toy", "llm"))]
    return ".".join(parts) or "<root>"


def load_study_config(raw: dict[str, Any]) -> StudyConfig:
    """The validated study; an audit's `source:` is first completed from its SAEs' metadata (their cfg.json)."""
    from sae.audit.metadata import fill_sources  # reads files: the one step of loading that does
    from sae.audit.resolve import AuditError

    try:
        return StudyConfig.model_validate(fill_sources(raw))
    except AuditError as err:
        raise ConfigError("invalid config:\n" + "\n".join(f"  {line}" for line in str(err).splitlines())) from None
    except ValidationError as err:
        lines = [f"  {_field_path(e['loc'])}: {e['msg']}" for e in err.errors()]
        raise ConfigError("invalid config:\n" + "\n".join(lines)) from None
