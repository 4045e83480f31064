"""Fused vs one-at-a-time SAELens training of the `sbw_large` sweep, measured in one run.

(a) every grid point alone with `sae.train.train_sae` (SAELens's `SAETrainer`),
(b) one fused group per seed with `sae.fused.train_fused`, the batch drawn once a step.
Both include building the SAEs and generating the batches. Then c_dec (the decoder
metric that selects L0) is compared per SAE, on the sweep and on a subset trained longer.

    .venv/bin/python benchmarks/bench_fused.py              # 24 L0 x 2 seeds x 200k samples
    .venv/bin/python benchmarks/bench_fused.py --samples 50000 --subset-samples 0
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence

import torch

from sae.config import ToySource
from sae.data.toy import ToyBatches, ToyModel, build_toy_model
from sae.fused import train_fused
from sae.metrics.decoder import c_dec
from sae.train import TrainSpec, train_sae

Point = tuple[int, float]  # (seed, l0)


def _specs(l0s: Sequence[float], seed: int, args: argparse.Namespace, samples: int) -> list[TrainSpec]:
    return [TrainSpec("batchtopk", d_in=100, width=50, l0=l0, seed=seed, samples=samples,
                      batch_size=args.batch_size, lr=args.lr, log_every=100) for l0 in l0s]


def train_single(model: ToyModel, specs: list[TrainSpec], threads: int) -> tuple[dict[Point, float], float]:
    """Each SAE alone with SAELens's trainer; returns c_dec per point and the summed wall time."""
    torch.set_num_threads(threads)
    c_decs, total = {}, 0.0
    for spec in specs:
        start = time.perf_counter()
        result = train_sae(spec, ToyBatches(model, spec.batch_size, spec.seed), progress=False)
        wall = time.perf_counter() - start
        c_decs[(spec.seed, spec.l0)] = c_dec(result.sae.W_dec)
        total += wall
        print(f"  single l0={spec.l0:>4g} seed={spec.seed}: {spec.samples / wall:9,.0f} samples/s", flush=True)
    return c_decs, total


def train_groups(model: ToyModel, groups: list[list[TrainSpec]], threads: int) -> tuple[dict[Point, float], float]:
    """Each group fused on one batch stream; returns c_dec per point and the summed wall time."""
    torch.set_num_threads(threads)
    c_decs, total = {}, 0.0
    for specs in groups:
        start = time.perf_counter()
        results = train_fused(specs, ToyBatches(model, specs[0].batch_size, specs[0].seed), progress=False)
        wall = time.perf_counter() - start
        c_decs.update({(s.seed, s.l0): c_dec(r.sae.W_dec) for s, r in zip(specs, results)})
        total += wall
        samples = sum(s.samples for s in specs)
        print(f"  fused x{len(specs)} seed={specs[0].seed}: {samples / wall:9,.0f} samples/s aggregate", flush=True)
    return c_decs, total


def compare_c_dec(single: dict[Point, float], fused: dict[Point, float]) -> None:
    diffs = [abs(single[p] - fused[p]) for p in single]
    print(f"  c_dec |single - fused|: max {max(diffs):.2e}, mean {statistics.fmean(diffs):.2e} over {len(diffs)} SAEs")
    for seed in sorted({seed for seed, _ in single}):
        picks = [min((p for p in d if p[0] == seed), key=d.get)[1] for d in (single, fused)]
        print(f"  seed {seed}: argmin-c_dec L0 single {picks[0]:g}, fused {picks[1]:g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200_000, help="training samples per SAE")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--l0", type=float, nargs="+", default=[float(k) for k in range(2, 26)])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--single-threads", type=int, default=1, help="torch threads of one-at-a-time training")
    parser.add_argument("--fused-threads", type=int, default=1,
                        help="torch threads of the fused process (1: the same resources as (a))")
    parser.add_argument("--subset", type=float, nargs="+", default=[8.0, 11.0, 14.0])
    parser.add_argument("--subset-samples", type=int, default=1_000_000, help="0 skips the longer c_dec check")
    args = parser.parse_args()

    model = build_toy_model(ToySource.model_validate({"preset": "sbw_large"}).model)
    groups = [_specs(args.l0, seed, args, args.samples) for seed in args.seeds]
    n_saes, total_samples = sum(map(len, groups)), sum(s.samples for g in groups for s in g)
    print(f"sbw_large sweep: {n_saes} BatchTopK SAEs (d 100, width 50), {args.samples:,} samples each, "
          f"batch {args.batch_size}, {os.cpu_count()} CPU cores")

    print(f"(a) one at a time, SAELens SAETrainer, {args.single_threads} thread(s)")
    single, single_wall = train_single(model, [s for g in groups for s in g], args.single_threads)
    print(f"(b) fused, one group per seed, {args.fused_threads} thread(s)")
    fused, fused_wall = train_groups(model, groups, args.fused_threads)

    single_rate, fused_rate = total_samples / single_wall, total_samples / fused_wall
    print("\nresult (one run)")
    print(f"  one at a time: wall {single_wall:8.1f} s, aggregate {single_rate:11,.0f} samples/s "
          f"(= per-SAE SAELens rate)")
    print(f"  fused        : wall {fused_wall:8.1f} s, aggregate {fused_rate:11,.0f} samples/s")
    print(f"  speed-up     : {single_wall / fused_wall:.2f}x")
    compare_c_dec(single, fused)

    if args.subset_samples:
        print(f"\nc_dec after {args.subset_samples:,} samples, l0 {args.subset}, seed {args.seeds[0]}")
        subset = _specs(args.subset, args.seeds[0], args, args.subset_samples)
        single_sub, _ = train_single(model, subset, args.single_threads)
        fused_sub, _ = train_groups(model, [subset], args.fused_threads)
        for s in subset:
            a, b = single_sub[(s.seed, s.l0)], fused_sub[(s.seed, s.l0)]
            print(f"  l0 {s.l0:>4g}: c_dec single {a:.6f}, fused {b:.6f}, |diff| {abs(a - b):.1e}")


if __name__ == "__main__":
    main()
