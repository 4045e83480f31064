"""Fused vs one-at-a-time SAELens training of two sweeps, every ratio measured in this one run.

Sweeps:
  toy  the `sbw_large` sweep: BatchTopK d 100, width 50, L0 2..25, seeds 0 and 1 (48 SAEs)
  llm  a sweep from an activation store: SmolLM2-135M layer 6 (d 576), width 1024, L0 {8..128},
       seed 0 (5 SAEs); the store is extracted once into --store (default: a temporary folder)

Settings (every one includes building the SAEs and drawing the batches):
  (a)  baseline   : SAELens's own trainer (`sae.train.loop.train_sae`), one SAE at a time, 2 threads
  (a') 2 at once  : SAELens's trainer, two SAEs side by side, 1 thread each (an unfused workflow
                    run with --cores 2 does this)
  (b)  fused      : one group per seed (`sae.fused.loop.train_fused`, the batch drawn once a step), the
                    groups one after another, 2 threads
  (b') fused x2   : the seeds' groups side by side, 1 thread each (the workflow's default layout)
  1 core          : (a) and (b) again with 1 thread, for a per-core ratio

Then c_dec, the decoder metric that selects L0, is compared per SAE between (a) and (b), and
each seed's argmin-c_dec L0 is printed for both.

    .venv/bin/python benchmarks/bench_fused.py                          # both sweeps, ~10 minutes
    .venv/bin/python benchmarks/bench_fused.py --sweeps toy --samples 50000   # ~2 minutes
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from sae.config import LLMSource, ToySource
from sae.data.sources import StoreData
from sae.data.llm import extract_activations
from sae.data.toy import ToyBatches, ToyModel, build_toy_model
from sae.fused.loop import train_fused
from sae.metrics.decoder.main import c_dec
from sae.train.loop import train_sae
from sae.train.spec import TrainSpec

Point = tuple[int, float]  # (seed, l0)
Job = list[TrainSpec]  # one SAE (single) or one fused group


@dataclasses.dataclass(frozen=True)
class Data:
    """Picklable recipe for a sweep's batch stream (workers are spawned)."""

    toy: ToyModel | None = None
    store: str = ""
    scale: float = 1.0

    def batches(self, batch_size: int, seed: int) -> Any:
        if self.toy is not None:
            return ToyBatches(self.toy, batch_size, seed)
        return StoreData(Path(self.store), "cpu").training_batches(batch_size, seed, self.scale)


@dataclasses.dataclass
class Run:
    """What one setting produced: c_dec per point, wall time of the whole setting, per-job rates."""

    c_decs: dict[Point, float]
    wall: float
    rates: list[tuple[Job, float]]  # (job, samples/s of that job)


# ---------------------------------------------------------------- one job, in whatever process runs it


def _train_job(data: Data, job: Job, threads: int) -> tuple[dict[Point, float], float]:
    torch.set_num_threads(threads)
    start = time.perf_counter()
    if len(job) == 1:
        results = [train_sae(job[0], data.batches(job[0].batch_size, job[0].seed), progress=False)]
    else:
        results = train_fused(job, data.batches(job[0].batch_size, job[0].seed), progress=False)
    wall = time.perf_counter() - start
    return {(s.seed, s.l0): c_dec(r.sae.W_dec) for s, r in zip(job, results)}, wall


# ---------------------------------------------------------------- a setting: jobs over processes and threads

_worker_barrier: Any = None


@contextlib.contextmanager
def _passive_openmp() -> Iterator[None]:
    """OMP_WAIT_POLICY=PASSIVE for workers started inside: idle OpenMP threads sleep instead of spinning.

    Side-by-side processes share the 2 cores; a spinning idle thread would steal the core
    its neighbour needs.
    """
    previous = os.environ.get("OMP_WAIT_POLICY")
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["OMP_WAIT_POLICY"]
        else:
            os.environ["OMP_WAIT_POLICY"] = previous


def _keep_barrier(barrier: Any) -> None:
    global _worker_barrier
    _worker_barrier = barrier


def _wait_for_all_workers(_: int) -> None:
    _worker_barrier.wait()


def run_setting(data: Data, jobs: list[Job], processes: int, threads: int) -> Run:
    """Run every job, `processes` at a time with `threads` torch threads each; time the whole setting."""
    if processes == 1:
        start = time.perf_counter()
        outputs = [_train_job(data, job, threads) for job in jobs]
        wall = time.perf_counter() - start
    else:
        # spawn: a fresh interpreter per worker, whose OpenMP runtime starts with the environment below
        context = multiprocessing.get_context("spawn")
        # a manager's barrier: a plain one leaves named semaphores for the resource tracker to complain about
        with multiprocessing.get_context("fork").Manager() as manager, _passive_openmp(), \
                context.Pool(processes, initializer=_keep_barrier, initargs=(manager.Barrier(processes),)) as pool:
            # Interpreter start and imports (seconds) are not training: wait until every worker is up.
            pool.map(_wait_for_all_workers, range(processes), chunksize=1)
            start = time.perf_counter()
            outputs = pool.starmap(_train_job, [(data, job, threads) for job in jobs], chunksize=1)
            wall = time.perf_counter() - start
    c_decs = {point: value for job_c_decs, _ in outputs for point, value in job_c_decs.items()}
    rates = [(job, sum(s.samples for s in job) / job_wall) for job, (_, job_wall) in zip(jobs, outputs)]
    return Run(c_decs, wall, rates)


# ---------------------------------------------------------------- reporting


def describe(label: str, run: Run, total_samples: int) -> None:
    rates = [rate for _, rate in run.rates]
    per_job = (f"per SAE {statistics.fmean(rates):,.0f} samples/s (min {min(rates):,.0f}, max {max(rates):,.0f})"
               if all(len(job) == 1 for job, _ in run.rates) else
               "per group " + ", ".join(f"x{len(job)}: {rate:,.0f}" for job, rate in run.rates) + " samples/s")
    print(f"  {label:<44} wall {run.wall:7.1f} s  {total_samples / run.wall:11,.0f} samples/s  [{per_job}]",
          flush=True)


def compare_c_dec(single: dict[Point, float], fused: dict[Point, float]) -> None:
    diffs = [abs(single[p] - fused[p]) for p in single]
    print(f"  c_dec |(a) - (b)|: max {max(diffs):.2e}, mean {statistics.fmean(diffs):.2e} over {len(diffs)} SAEs")
    for seed in sorted({seed for seed, _ in single}):
        picks = [min((p for p in d if p[0] == seed), key=d.get)[1] for d in (single, fused)]
        print(f"    seed {seed}: argmin-c_dec L0 (a) {picks[0]:g}, (b) {picks[1]:g}")


def bench_sweep(name: str, data: Data, groups: list[Job]) -> dict[str, float]:
    singles = [[s] for g in groups for s in g]
    total = sum(s.samples for (s,) in singles)
    print(f"\n[{name}] {len(singles)} SAEs in {len(groups)} group(s), {groups[0][0].samples:,} samples each, "
          f"d {groups[0][0].d_in}, width {groups[0][0].width}, batch {groups[0][0].batch_size}; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    runs = {
        "a": run_setting(data, singles, processes=1, threads=2),
        "a'": run_setting(data, singles, processes=2, threads=1),
        "b": run_setting(data, groups, processes=1, threads=2),
    }
    describe("(a)  SAELens one at a time, 2 threads", runs["a"], total)
    describe("(a') SAELens two side by side, 1 thread each", runs["a'"], total)
    describe("(b)  fused, groups in turn, 2 threads", runs["b"], total)
    if len(groups) > 1:
        runs["b'"] = run_setting(data, groups, processes=2, threads=1)
        describe("(b') fused, groups side by side, 1 thread each", runs["b'"], total)
    runs["a1"] = run_setting(data, singles, processes=1, threads=1)
    runs["b1"] = run_setting(data, groups, processes=1, threads=1)
    describe("1 core: SAELens one at a time", runs["a1"], total)
    describe("1 core: fused, groups in turn", runs["b1"], total)

    fused_best = min(("b", "b'"), key=lambda k: runs[k].wall if k in runs else float("inf"))
    ratios = {
        f"{name}: best fused ({fused_best}) / (a)": runs["a"].wall / runs[fused_best].wall,
        f"{name}: best fused ({fused_best}) / (a')": runs["a'"].wall / runs[fused_best].wall,
        f"{name}: 1 core fused / SAELens": runs["a1"].wall / runs["b1"].wall,
    }
    print(f"  load average now {os.getloadavg()[0]:.2f}")
    for label, ratio in ratios.items():
        print(f"  speed-up {label}: {ratio:.2f}x")
    compare_c_dec(runs["a"].c_decs, runs["b"].c_decs)
    return ratios


# ---------------------------------------------------------------- sweeps


def toy_sweep(args: argparse.Namespace) -> tuple[Data, list[Job]]:
    model = build_toy_model(ToySource.model_validate({"preset": "sbw_large"}).model)
    groups = [[TrainSpec("batchtopk", d_in=model.d_model, width=50, l0=float(l0), seed=seed, samples=args.samples,
                         batch_size=1024, lr=3e-4, log_every=100) for l0 in range(2, 26)] for seed in (0, 1)]
    return Data(toy=model), groups


def llm_sweep(args: argparse.Namespace, store_dir: Path) -> tuple[Data, list[Job]]:
    # the default study's LLM source, shorter: the benchmark needs a stream, not a good SAE
    source = LLMSource.model_validate({"layer": 6, "tokens": args.llm_tokens, "heldout_tokens": 4096})
    extract_activations(source, store_dir, progress=True)
    store = StoreData(store_dir, "cpu")
    scale = store.activation_scale(normalize=True)
    group = [TrainSpec("batchtopk", d_in=store.d_model, width=1024, l0=float(l0), seed=0, samples=args.llm_samples,
                       batch_size=1024, lr=1e-3, log_every=100) for l0 in (8, 16, 32, 64, 128)]
    return Data(store=str(store_dir), scale=scale), [group]


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweeps", nargs="+", default=["toy", "llm"], choices=["toy", "llm"])
    parser.add_argument("--samples", type=int, default=200_000, help="training samples per toy SAE")
    parser.add_argument("--llm-samples", type=int, default=51_200, help="training samples per LLM SAE")
    parser.add_argument("--llm-tokens", type=int, default=60_000, help="activations to extract for the LLM store")
    parser.add_argument("--store", type=Path, default=None,
                        help="activation store folder to extract into or reuse (default: a temporary folder)")
    return parser.parse_args()


def main() -> None:
    args = _parse()
    print(f"{os.cpu_count()} CPU cores, torch {torch.__version__}")
    ratios: dict[str, float] = {}
    if "toy" in args.sweeps:
        ratios |= bench_sweep("toy sbw_large", *toy_sweep(args))
    if "llm" in args.sweeps:
        with tempfile.TemporaryDirectory() as tmp:
            ratios |= bench_sweep("llm store", *llm_sweep(args, args.store or Path(tmp) / "store"))
    print("\nsummary")
    for label, ratio in ratios.items():
        print(f"  {label}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
