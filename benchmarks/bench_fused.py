"""Fused vs one-at-a-time SAELens training of the `sbw_large` sweep, measured in one run.

(a) every grid point alone with `sae.train.train_sae` (SAELens's `SAETrainer`),
(b) one fused group per seed with `sae.fused.train_fused`, the batch drawn once a step.
Both include building the SAEs and generating the batches. Two resource settings:

  1 core : (a) one process, 1 thread      vs (b) 1 thread
  2 cores: (a) 2 processes x 1 thread     vs (b) 1 process, 2 threads, and 2 processes x 1 thread
           (the workflow runs single jobs side by side; a fused job may take `threads: 2`,
           or the seeds' groups may run as two 1-thread jobs)

Then c_dec (the decoder metric that selects L0) is compared per SAE, on the sweep and
on a subset trained longer. `--dead-window` shrinks SAELens's dead-latent window in
both trainers so that the TopK auxiliary loss runs (at 1000 steps it never does here).

    .venv/bin/python benchmarks/bench_fused.py                    # 24 L0 x 2 seeds x 200k samples
    .venv/bin/python benchmarks/bench_fused.py --samples 50000 --subset-samples 0   # ~1-2 minutes
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

import sae.fused
import sae.train
from sae.config import ToySource
from sae.data.toy import ToyBatches, ToyModel, build_toy_model
from sae.fused import train_fused
from sae.metrics.decoder import c_dec
from sae.train import TrainSpec, train_sae

Point = tuple[int, float]  # (seed, l0)
Job = list[TrainSpec]  # one SAE (single) or one fused group


@dataclasses.dataclass
class Run:
    """What one setting produced: c_dec per point, wall time of the whole setting, per-job rates."""

    c_decs: dict[Point, float]
    wall: float
    rates: list[tuple[Job, float]]  # (job, samples/s of that job)


def _specs(l0s: Sequence[float], seed: int, args: argparse.Namespace, samples: int) -> list[TrainSpec]:
    return [TrainSpec("batchtopk", d_in=100, width=50, l0=l0, seed=seed, samples=samples,
                      batch_size=args.batch_size, lr=args.lr, log_every=100) for l0 in l0s]


def _set_dead_window(window: int | None) -> None:
    """Shrink SAELens's dead-latent window in both trainers (as tests/test_fused.py does)."""
    if window is None:
        return
    original = sae.train._trainer_config

    def short(spec: TrainSpec) -> Any:
        return dataclasses.replace(original(spec), dead_feature_window=window)

    sae.train._trainer_config = short
    sae.fused._trainer_config = short


# ---------------------------------------------------------------- one job, in whatever process runs it


def _train_fused_job(model: ToyModel, job: Job, threads: int, dead_window: int | None) -> tuple[dict[Point, float], float]:
    torch.set_num_threads(threads)
    _set_dead_window(dead_window)
    start = time.perf_counter()
    results = train_fused(job, ToyBatches(model, job[0].batch_size, job[0].seed), progress=False)
    wall = time.perf_counter() - start
    return {(s.seed, s.l0): c_dec(r.sae.W_dec) for s, r in zip(job, results)}, wall


def _train_single_job(model: ToyModel, job: Job, threads: int, dead_window: int | None) -> tuple[dict[Point, float], float]:
    torch.set_num_threads(threads)
    _set_dead_window(dead_window)
    (spec,) = job
    start = time.perf_counter()
    result = train_sae(spec, ToyBatches(model, spec.batch_size, spec.seed), progress=False)
    wall = time.perf_counter() - start
    return {(spec.seed, spec.l0): c_dec(result.sae.W_dec)}, wall


# ---------------------------------------------------------------- a setting: jobs over processes and threads

_worker_barrier: Any = None


@contextlib.contextmanager
def _passive_openmp() -> Any:
    """OMP_WAIT_POLICY=PASSIVE for workers started inside: idle OpenMP threads sleep instead of spinning.

    On a machine shared with other jobs, spinning threads steal the core their partner
    thread needs, and every parallel region waits for a descheduled thread: a 2-thread fused
    step measured 730 ms instead of 43 ms with one other busy process on the 2 cores.
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



def run_setting(train: Callable[..., tuple[dict[Point, float], float]], model: ToyModel, jobs: list[Job],
                processes: int, threads: int, dead_window: int | None) -> Run:
    """Run every job, `processes` at a time with `threads` torch threads each; time the whole setting."""
    if processes == 1 and threads == 1:
        start = time.perf_counter()
        outputs = [train(model, job, threads, dead_window) for job in jobs]
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
            outputs = pool.starmap(train, [(model, job, threads, dead_window) for job in jobs], chunksize=1)
            wall = time.perf_counter() - start
    c_decs = {point: value for job_c_decs, _ in outputs for point, value in job_c_decs.items()}
    rates = [(job, sum(s.samples for s in job) / job_wall) for job, (_, job_wall) in zip(jobs, outputs)]
    return Run(c_decs, wall, rates)


def print_single_rates(run: Run) -> None:
    rates = [rate for _, rate in run.rates]
    print(f"    per-SAE SAELens samples/s: mean {statistics.fmean(rates):,.0f}, "
          f"min {min(rates):,.0f}, max {max(rates):,.0f} over {len(rates)} SAEs")
    for job, rate in run.rates:
        print(f"      l0={job[0].l0:>4g} seed={job[0].seed}: {rate:9,.0f} samples/s", flush=True)


def print_fused_rates(run: Run) -> None:
    for job, rate in run.rates:
        print(f"    fused x{len(job)} seed={job[0].seed}: {rate:11,.0f} samples/s aggregate", flush=True)


def print_comparison(label: str, single: Run, fused: Run, total_samples: int) -> float:
    speedup = single.wall / fused.wall
    print(f"  {label}")
    print(f"    one at a time: wall {single.wall:7.1f} s, {total_samples / single.wall:11,.0f} samples/s aggregate")
    print(f"    fused        : wall {fused.wall:7.1f} s, {total_samples / fused.wall:11,.0f} samples/s aggregate")
    print(f"    speed-up     : {speedup:.2f}x")
    return speedup


def compare_c_dec(single: dict[Point, float], fused: dict[Point, float], label: str) -> None:
    diffs = [abs(single[p] - fused[p]) for p in single]
    print(f"  c_dec |single - {label}|: max {max(diffs):.2e}, mean {statistics.fmean(diffs):.2e} over {len(diffs)} SAEs")
    for seed in sorted({seed for seed, _ in single}):
        picks = [min((p for p in d if p[0] == seed), key=d.get)[1] for d in (single, fused)]
        print(f"    seed {seed}: argmin-c_dec L0 single {picks[0]:g}, {label} {picks[1]:g}")


# ---------------------------------------------------------------- main


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200_000, help="training samples per SAE")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--l0", type=float, nargs="+", default=[float(k) for k in range(2, 26)])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--settings", nargs="+", default=["1core", "2cores"], choices=["1core", "2cores"])
    parser.add_argument("--dead-window", type=int, default=None,
                        help="SAELens dead_feature_window in steps for both trainers (default: SAELens's 1000)")
    parser.add_argument("--subset", type=float, nargs="+", default=[8.0, 11.0, 14.0])
    parser.add_argument("--subset-samples", type=int, default=1_000_000, help="0 skips the longer c_dec check")
    return parser.parse_args()


def main() -> None:
    args = _parse()
    model = build_toy_model(ToySource.model_validate({"preset": "sbw_large"}).model)
    groups = [_specs(args.l0, seed, args, args.samples) for seed in args.seeds]
    singles = [[s] for g in groups for s in g]
    total_samples = sum(s.samples for g in groups for s in g)
    print(f"sbw_large sweep: {len(singles)} BatchTopK SAEs (d 100, width 50), {args.samples:,} samples each, "
          f"batch {args.batch_size}, {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.2f}, "
          f"dead window {args.dead_window or 'SAELens default'}")
    dead = args.dead_window
    speedups = {}
    single_1 = fused_1 = None
    if "1core" in args.settings:
        print("\n[1 core] (a) one at a time, 1 process x 1 thread")
        single_1 = run_setting(_train_single_job, model, singles, processes=1, threads=1, dead_window=dead)
        print_single_rates(single_1)
        print("[1 core] (b) fused, one group per seed, 1 thread")
        fused_1 = run_setting(_train_fused_job, model, groups, processes=1, threads=1, dead_window=dead)
        print_fused_rates(fused_1)
    if "2cores" in args.settings:
        print("\n[2 cores] (a) one at a time, 2 processes x 1 thread")
        single_2 = run_setting(_train_single_job, model, singles, processes=2, threads=1, dead_window=dead)
        print_single_rates(single_2)
        print("[2 cores] (b) fused, one group per seed, 1 process x 2 threads (OMP_WAIT_POLICY=PASSIVE)")
        fused_2t = run_setting(_train_fused_job, model, groups, processes=1, threads=2, dead_window=dead)
        print_fused_rates(fused_2t)
        print("[2 cores] (b') fused, the seeds' groups side by side, 2 processes x 1 thread")
        fused_2p = run_setting(_train_fused_job, model, groups, processes=2, threads=1, dead_window=dead)
        print_fused_rates(fused_2p)

    print(f"\nresult (one run, load average now {os.getloadavg()[0]:.2f})")
    if single_1 is not None and fused_1 is not None:
        speedups["1 core"] = print_comparison("1 core: 1 thread vs 1 thread", single_1, fused_1, total_samples)
    if "2cores" in args.settings:
        speedups["2 cores, threads"] = print_comparison(
            "2 cores: SAELens 2 processes x 1 thread vs fused 1 process x 2 threads", single_2, fused_2t, total_samples)
        speedups["2 cores, processes"] = print_comparison(
            "2 cores: SAELens 2 processes x 1 thread vs fused 2 processes x 1 thread", single_2, fused_2p,
            total_samples)
    reference = single_1 or single_2
    compare_c_dec(reference.c_decs, (fused_1 or fused_2t).c_decs, "fused")
    if "2cores" in args.settings:
        compare_c_dec(reference.c_decs, fused_2p.c_decs, "fused (2 processes)")
    print("  speed-ups: " + ", ".join(f"{k} {v:.2f}x" for k, v in speedups.items()))

    if args.subset_samples:
        print(f"\nc_dec after {args.subset_samples:,} samples, l0 {args.subset}, seed {args.seeds[0]}")
        subset = _specs(args.subset, args.seeds[0], args, args.subset_samples)
        single_sub = run_setting(_train_single_job, model, [[s] for s in subset], 1, 1, dead)
        fused_sub = run_setting(_train_fused_job, model, [subset], 1, 1, dead)
        for s in subset:
            a, b = single_sub.c_decs[(s.seed, s.l0)], fused_sub.c_decs[(s.seed, s.l0)]
            print(f"  l0 {s.l0:>4g}: c_dec single {a:.6f}, fused {b:.6f}, |diff| {abs(a - b):.1e}")


if __name__ == "__main__":
    main()
