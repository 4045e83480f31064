"""The work of a study as one typed plan, built from the validated config: every job, what it reads and writes.

The workflow's rules are one template per kind of job below, filled from this plan (no rule names a
metric or branches on refinement rounds); the recommendation benchmark runs the same jobs in one process.
Paths are `sae.layout` patterns filled in, relative to the study's results folder. Torch-free: the
Snakefile builds the plan at parse time.

Kinds of job, and what each serves (a job pays Python start-up once for all of it):

  toy model          one per toy experiment: the toy model's weights
  audit import       one per audit experiment: its given SAEs into point folders (sae.audit), in place of training
  store              one per distinct LLM source: the activation store (shared by experiments)
  shared input       one per identity: data that per-experiment evaluations declare they read (a probe set)
  train              one per `TrainJob`: the points that train together (`training_jobs`, the one rule),
                     each written to its own folder, with its MLflow child run
  continue           one per training job whose SAEs a per-SAE metric continues (hedging's control/extended)
  evaluate           one per experiment: every per-SAE metric of its coarse grid (and its toy's ground truth)
  llm evaluation     one per experiment and per-experiment evaluation (the language model loaded once)
  refine round       one per experiment and round: plans the round's points, trains them (with
                     `ExperimentPlan.extend`, under the same rule), continues and evaluates them
  sweep table        one per experiment: the table and the recommendation
  figures            one per experiment (all its figures), one for the study-scope figures
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sae import layout
from sae.architectures import ARCHITECTURES
from sae.audit.resolve import ResolvedSAE, resolve
from sae.config import Experiment, GridPoint, StudyConfig
from sae.config.grid import experiment_points
from sae.data.inputs import store_identity
from sae.figures import FIGURES, draws_for, study_figure_experiments
from sae.fused.plan import near_equal_chunks
from sae.metrics import Continuation, SharedInput, enabled


@dataclass(frozen=True)
class TrainJob:
    """Grid points trained in one process: a fused stack (one batch stream) when more than one, else one SAE alone."""

    experiment: str
    name: str  # unique within the experiment
    points: tuple[GridPoint, ...]
    round: int = 0  # 0: the coarse grid; r: refinement round r

    @property
    def fused(self) -> bool:
        return len(self.points) > 1

    @property
    def checkpoints(self) -> str:
        if self.fused:
            return layout.JOB_CHECKPOINTS.format(experiment=self.experiment, job=self.name)
        return layout.CHECKPOINTS.format(experiment=self.experiment, point=self.points[0].path)


def training_jobs(experiment: str, points: Sequence[GridPoint], fused_group_size: int, round_: int = 0) -> list[TrainJob]:
    """The one rule of what trains together: points sharing architecture, width, swept options and seed (and so
    one batch stream) of a fusable architecture, by L0 in near-equal chunks of at most `fused_group_size`;
    every other point alone. Names are stable when another curve's points change."""
    prefix = f"refine{round_}_" if round_ else ""
    by_key: dict[tuple[Any, ...], list[GridPoint]] = {}
    alone: list[GridPoint] = []
    for point in points:
        if fused_group_size > 1 and ARCHITECTURES[point.architecture].fusable:
            key = (point.architecture, point.width, point.seed, tuple(sorted(point.options.items())))
            by_key.setdefault(key, []).append(point)
        else:
            alone.append(point)
    jobs = []
    for (arch, width, seed, options), members in by_key.items():
        for i, chunk in enumerate(near_equal_chunks(sorted(members, key=lambda p: p.l0), fused_group_size)):
            if len(chunk) == 1:
                alone.extend(chunk)
            else:
                jobs.append(TrainJob(experiment, prefix + layout.group_name(arch, width, seed, dict(options), i),
                                     tuple(chunk), round_))
    jobs += [TrainJob(experiment, prefix + p.path.replace("/", "_"), (p,), round_) for p in alone]
    return jobs


def continuations(exp: Experiment, point: GridPoint) -> list[Continuation]:
    """What the experiment's enabled per-SAE metrics continue `point`'s SAE into (each variant once; none in an audit,
    whose validation refuses such metrics)."""
    found = [c for spec in enabled(exp, "sae") if spec.continuations is not None
             for c in spec.continuations(getattr(exp.metrics, spec.name), point, exp.training.samples)]
    variants = [c.variant for c in found]
    if len(set(variants)) != len(variants):
        raise ValueError(f"two metrics declare the same continuation variants: {sorted(variants)}")
    return found


def shared_inputs(exp: Experiment) -> dict[str, dict[str, SharedInput]]:
    """per-experiment evaluation -> {name the evaluation reads it by: the shared input}."""
    return {spec.name: spec.shared_inputs(exp.source, getattr(exp.metrics, spec.name))
            for spec in enabled(exp, "experiment") if spec.shared_inputs is not None}


def training_params(exp: Experiment, job: TrainJob) -> dict[str, Any]:
    """The experiment as the training job needs it (JSON): no metrics, a grid of the job's points only, and for a
    refinement round `refine.samples` where set. Snakemake reruns a job whose params change: only these."""
    params = exp.for_training(list(job.points))
    if job.round and exp.refine is not None and exp.refine.samples is not None:
        params["training"] = params.get("training", {}) | {"samples": exp.refine.samples}
    return params


@dataclass
class ExperimentPlan:
    name: str
    config: Experiment
    store: str | None  # the activation store's name (LLM sources), else None
    points: list[GridPoint]  # the coarse grid
    train_jobs: list[TrainJob]
    evaluations: dict[str, dict[str, SharedInput]]  # per-experiment evaluation -> its shared inputs by name
    figures: list[str]  # experiment-scope figures drawn for it
    audited: list[ResolvedSAE] = field(default_factory=list)  # an audit's SAEs, one per point

    @property
    def is_audit(self) -> bool:
        return self.config.is_audit

    @property
    def is_toy(self) -> bool:
        return self.config.source.kind == "toy"

    @property
    def rounds(self) -> int:
        return self.config.refine.rounds if self.config.refine else 0

    def path(self, pattern: str, **wildcards: Any) -> str:
        return pattern.format(experiment=self.name, **wildcards)

    @property
    def source_input(self) -> str:
        """What its jobs read of the source: the toy model's weights, or the store's manifest."""
        return layout.STORE_MANIFEST.format(store=self.store) if self.store else self.path(layout.TOY_WEIGHTS)

    def trained_files(self, point: GridPoint) -> dict[str, str]:
        """A trained (or an audit's imported) point's files (its SAE's declared one by one: Snakemake notices one
        deleted)."""
        record = (("record", layout.AUDIT_RECORD),) if self.is_audit else \
            (("summary", layout.TRAIN_SUMMARY), ("curve", layout.CURVE))
        return {name: self.path(pattern, point=point.path) for name, pattern in
                (("cfg", layout.SAE_CFG), ("weights", layout.SAE_WEIGHTS), *record)}

    def continuations(self, point: GridPoint) -> list[Continuation]:
        return continuations(self.config, point)

    def continued_files(self, point: GridPoint) -> list[str]:
        return [self.path(layout.with_variant(pattern, c.variant), point=point.path)
                for c in self.continuations(point)
                for pattern in (layout.CONTINUED_SAE_CFG, layout.CONTINUED_SAE_WEIGHTS, layout.CONTINUED_SUMMARY,
                                layout.CONTINUED_CURVE)]

    def evaluated_files(self, point: GridPoint) -> dict[str, str]:
        return {"metrics": self.path(layout.METRICS, point=point.path),
                "tensors": self.path(layout.TENSORS, point=point.path)}

    def continue_jobs(self) -> list[TrainJob]:
        """The coarse training jobs whose SAEs some metric continues."""
        return [job for job in self.train_jobs if any(self.continuations(p) for p in job.points)]

    def round_manifest(self, round_: int) -> str:
        return self.path(layout.REFINE_ROUND, round=round_)

    def extend(self, round_: int, points: Sequence[GridPoint]) -> list[TrainJob]:
        """The training jobs of the points refinement round `round_` adds, under the same rule as the grid's."""
        jobs = training_jobs(self.name, points, self.config.training.fused_group_size, round_)
        self.train_jobs += jobs
        return jobs


@dataclass
class StudyPlan:
    study: StudyConfig
    experiments: dict[str, ExperimentPlan]
    stores: dict[str, Any]  # store name -> its LLM source
    shared: dict[str, SharedInput]  # shared input name -> it
    study_figures: dict[str, list[str]]  # study-scope figure -> the experiments it draws

    @property
    def points(self) -> list[GridPoint]:
        return [p for e in self.experiments.values() for p in e.points]


def build_experiment_plan(name: str, exp: Experiment, results_dir: str = "results") -> ExperimentPlan:
    # an LLM store's identity fingerprints its local input files (a directory walk): computed once here
    store = layout.store_name(store_identity(exp.source)) if exp.source.kind == "llm" else None
    audited = resolve(exp.saes, results_dir, f"experiments.{name}.saes") if exp.saes is not None else []
    # an audited SAE's architecture and width are read from its files (the import job): its rows carry them
    points = [GridPoint(experiment=name, architecture="audited", width=0, l0=None, seed=0, sae=s.name)
              for s in audited] if exp.is_audit else list(experiment_points(name, exp.grid))
    return ExperimentPlan(
        audited=audited,
        name=name, config=exp, store=store, points=points,
        train_jobs=[] if exp.is_audit else training_jobs(name, points, exp.training.fused_group_size),
        evaluations={spec.name: {} for spec in enabled(exp, "experiment")} | shared_inputs(exp),
        figures=[f for f, spec in FIGURES.items() if spec.scope == "experiment" and draws_for(spec, exp)],
    )


def build_plan(study: StudyConfig) -> StudyPlan:
    experiments = {name: build_experiment_plan(name, exp, study.results_dir) for name, exp in study.experiments.items()}
    stores = {e.store: e.config.source for e in experiments.values() if e.store}
    shared = {s.name: s for e in experiments.values() for inputs in e.evaluations.values() for s in inputs.values()}
    study_figures = {f: study_figure_experiments(spec, study.experiments)
                     for f, spec in FIGURES.items() if spec.scope == "study"}
    return StudyPlan(study, experiments, stores, shared, {f: e for f, e in study_figures.items() if e})
