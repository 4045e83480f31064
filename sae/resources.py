"""Will the study fit? Each training job's peak memory against the device it runs on, and each activation
store's size against the free disk space where it goes. Checked in pre-flight, before any job starts.

Torch-free (the Snakefile runs it on every invocation). A job's peak is the process (Python with torch and
SAELens imported) plus, per member trained at once, its weights, gradients and Adam moments and the
activations of a batch; a fused group is split as `sae.fused.plan.plan_groups` will split it. The
coefficients are measured (`benchmarks/bench_memory.py`) and rounded down: the estimate is meant to stay at
or below a job's real peak, so that a wrong estimate lets a job run rather than refusing one that fits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sae import layout
from sae.config import StudyConfig
from sae.fused.plan import estimate_group_bytes

from sae.plan import build_plan

# What a training job asks a cluster for, per attempt (workflow/rules/train.smk; a retry asks for twice as much).
TRAIN_MEM_MB, TRAIN_RUNTIME_MIN = 8000, 480

# What a training job holds at its peak, measured (benchmarks/bench_memory.py: maximum resident set size on the
# small toy, CPU) and rounded down, so that the estimate stays under the peak. The fused planner's own
# estimate (estimate_group_bytes: 16 batch x width floats per member) is generous on purpose and measured
# 14-65 % above these peaks: right for splitting groups, wrong for refusing a study.
# The process before its SAE: Python, torch, SAELens and our modules (measured 0.60 GiB).
PROCESS_BYTES = 550 * 2**20
# float32 values of shape batch x width alive at a step's peak, per member: trained alone by SAELens (measured
# 8.2 standard, 10.0-10.9 BatchTopK) or stacked by sae.fused (13.3); and of shape batch x d_in.
_PER_SAMPLE_LATENT = {"alone": 8, "fused": 12}
_PER_SAMPLE_INPUT = 4
# float32 copies of the weights: the weights, their gradients, Adam's two moments (and, fused, the stack).
_PARAM_COPIES = {"alone": 4, "fused": 5}
STORE_ITEM_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
GiB = 2**30
_RAM, _GPU = "this machine's RAM", "the GPU's memory"
# What plan_groups lets a fused job stack (sae.fused.plan's default budget): half the RAM, 80 % of a GPU's memory
# (of its free memory there: the job's own CUDA context is not counted here either).
_STACK_FRACTION = {_RAM: 0.5, _GPU: 0.8}


@dataclass(frozen=True)
class _Shape:
    """What `estimate_group_bytes` reads of a TrainSpec (which imports torch)."""

    d_in: int
    width: int
    batch_size: int


@dataclass(frozen=True)
class TrainingJob:
    """One training job: a fused group (its members train stacked, in one process) or a point alone."""

    experiment: str
    name: str
    members: int
    width: int
    d_in: int
    batch_size: int
    device: str  # training.device: auto, cpu or cuda

    @property
    def rule(self) -> str:
        """Its kind of rule (each training job has a rule of its own, `train_<experiment>_<job>`)."""
        return "train"

    def member_bytes(self) -> int:
        """Peak memory of one member at a training step (see _PER_SAMPLE_LATENT), without the process."""
        kind = "fused" if self.members > 1 else "alone"
        params = 2 * self.width * self.d_in + self.width + self.d_in
        per_sample = _PER_SAMPLE_LATENT[kind] * self.width + _PER_SAMPLE_INPUT * self.d_in
        return 4 * (_PARAM_COPIES[kind] * params + self.batch_size * per_sample)

    def stacked(self, budget_bytes: int | None) -> int:
        """Members trained at once: all of them, or as many as `plan_groups` puts in `budget_bytes` (it divides
        the budget by its own, generous, estimate of a member)."""
        if budget_bytes is None:
            return self.members
        planned = estimate_group_bytes([_Shape(self.d_in, self.width, self.batch_size)])
        return min(self.members, max(1, budget_bytes // planned))

    def peak_bytes(self, budget_bytes: int | None = None) -> int:
        """Peak memory on the CPU: the process and the largest stack it trains at once."""
        return PROCESS_BYTES + self.stacked(budget_bytes) * self.member_bytes()


def training_jobs(study: StudyConfig, d_models: Mapping[str, int | None]) -> list[TrainingJob]:
    """The coarse grid's training jobs (`sae.plan`); experiments whose d_model is unknown (a hub model) are left out."""
    jobs = []
    for name, plan in build_plan(study).experiments.items():
        exp, d_in = study.experiments[name], d_models.get(name)
        if d_in is None:
            continue
        for job in plan.train_jobs:
            label = f"fused group {job.name}" if job.fused else job.points[0].key
            jobs.append(TrainingJob(name, label, len(job.points), job.points[0].width, d_in,
                                    exp.training.batch_size, exp.training.device))
    return jobs


# ------------------------------------------------------------------ what a job may use
@dataclass(frozen=True)
class Limits:
    """Memory a training job may use: the machine's RAM, a visible GPU's memory, the profile's mem_mb."""

    ram_bytes: int | None
    gpu_bytes: int | None  # None: no GPU visible here
    mem_mb: Mapping[str, int] = field(default_factory=dict)  # kind of rule -> the mem_mb its jobs ask a cluster for
    cluster: bool = False  # jobs run elsewhere (a cluster executor): this machine's RAM and GPU are not theirs

    def of(self, job: TrainingJob) -> tuple[int | None, str, bool]:
        """(the job's limit in bytes, None when unknown; what it is; whether the job's process counts in it)."""
        on_gpu = job.device == "cuda" or (job.device == "auto" and self.gpu_bytes is not None and not self.cluster)
        if on_gpu and self.gpu_bytes is not None and not self.cluster:
            return self.gpu_bytes, _GPU, False
        if self.cluster or on_gpu:  # a node we do not see, or a GPU not visible here: the profile's request
            mem_mb = self.mem_mb.get(job.rule)
            return (None, "", True) if mem_mb is None else (mem_mb * 2**20, f"the mem_mb of {job.rule}", True)
        return self.ram_bytes, _RAM, True


def ram_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None


def visible_gpu_bytes() -> int | None:
    """The smallest total memory of the GPUs visible here (nvidia-smi; torch is too slow to import here)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return None
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index,memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    sizes = {}
    for line in out.strip().splitlines():
        index, _, mib = line.partition(",")
        if mib.strip().isdigit():
            sizes[index.strip()] = int(mib) * 2**20
    if visible is not None:
        wanted = [v.strip() for v in visible.split(",")]
        sizes = {i: s for i, s in sizes.items() if i in wanted} or sizes  # (UUIDs: keep them all)
    return min(sizes.values()) if sizes else None


def runs_elsewhere(workflow: Any) -> bool:
    """Whether jobs go to a cluster executor. While the Snakefile is read Snakemake has not set up its executor
    yet; what tells is the resource settings: a cluster run has `--jobs` (nodes) and no `--cores`."""
    settings = getattr(workflow, "resource_settings", None)
    return settings is not None and settings.cores is None and settings.nodes is not None


def limits_of(workflow: Any | None) -> Limits:
    if workflow is None:
        return Limits(ram_bytes(), visible_gpu_bytes())
    return Limits(ram_bytes(), visible_gpu_bytes(), {"train": TRAIN_MEM_MB}, runs_elsewhere(workflow))


# ------------------------------------------------------------------ the checks
def _gib(n: int) -> str:
    return f"{n / GiB:.1f} GiB"


def memory_problems(study: StudyConfig, d_models: Mapping[str, int | None], limits: Limits) -> list[str]:
    """One line per experiment whose largest training job would not fit the memory it runs in."""
    worst: dict[str, tuple[int, str]] = {}  # experiment -> (bytes over the limit, its line)
    for job in training_jobs(study, d_models):
        limit, what, process = limits.of(job)
        if limit is None:
            continue
        # a fused job on a machine we see stacks what fits its budget (plan_groups: half the RAM, 80 % of the
        # GPU); on a node we do not see, every member (that node's RAM is not what the scheduler grants it)
        stacked = job.stacked(int(limit * _STACK_FRACTION[what]) if what in _STACK_FRACTION else None)
        peak = (PROCESS_BYTES if process else 0) + stacked * job.member_bytes()
        if peak <= limit or peak - limit <= worst.get(job.experiment, (0, ""))[0]:
            continue
        fixes = "lower grid.width, training.batch_size" + (" or training.fused_group_size" if stacked > 1 else "")
        if job.device != "cpu" and what == _GPU:
            fixes += ", or train on the CPU (training.device: cpu)"
        if what.startswith("the mem_mb"):
            fixes += (f", or raise the job's mem_mb (set-resources for its rule train_{job.experiment}_<job>; "
                      f"{TRAIN_MEM_MB} MB by default)")
        size = f"{stacked} x " if stacked > 1 else ""
        worst[job.experiment] = (peak - limit, (
            f"experiments.{job.experiment}: training {job.name} needs about {_gib(peak)} of memory ({size}width "
            f"{job.width} on d_in {job.d_in} at batch {job.batch_size}), more than {what} ({_gib(limit)}); {fixes}"))
    return [line for _, line in worst.values()]


def store_bytes(tokens: int, d_model: int, dtype: str) -> int:
    return tokens * d_model * STORE_ITEM_BYTES[dtype]


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_problems(stores: Mapping[str, tuple[str, Any, int | None]], results_dir: str | Path) -> list[str]:
    """One line per activation store that would not fit the free space left where it goes.

    `stores`: store name -> (the first experiment using it, its LLM source, its d_model or None). A store
    already complete needs nothing; one interrupted needs what its shards do not hold yet.
    """
    lines, planned = [], {}
    for name, (experiment, source, d_model) in stores.items():
        folder = layout.resolve(results_dir, layout.STORE_DIR, store=name)
        if d_model is None or (folder / "manifest.json").exists():
            continue
        written = sum(p.stat().st_size for p in folder.glob("shard_*.npy")) if folder.is_dir() else 0
        need = max(0, store_bytes(source.tokens, d_model, source.dtype) - written)
        where = _existing(folder)
        try:
            device, free = where.stat().st_dev, shutil.disk_usage(where).free
        except OSError:
            continue  # the folder checks report an unusable results_dir
        planned[device] = planned.get(device, 0) + need
        if planned[device] > free:
            lines.append(f"experiments.{experiment}.source: its activation store needs {_gib(need)} "
                         f"({source.tokens} tokens x d_model {d_model} x {STORE_ITEM_BYTES[source.dtype]} bytes, "
                         f"{source.dtype}) but {where} has {_gib(free)} free"
                         + (f" ({_gib(planned[device] - need)} taken by the stores before it)"
                            if planned[device] > need else "")
                         + "; free space, lower source.tokens, store float16/bfloat16 (source.dtype) "
                         "or set results_dir on a larger disk")
    return lines
