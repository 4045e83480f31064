"""Does agreement between seeds peak at the true L0? Measured on the SAEs a recommendation benchmark trained.

Reads an `--out` folder of `bench_recommendation.py` (its study.yaml and results: every model's coarse grid and
refinement rounds, two seeds each) and prints per model and L0: the seed agreement (`sae.seed_agreement`, the
Hungarian-matched mean |cos| between the decoders of the two seeds), the MCC against the true features (the
`ground_truth` metric, mean over seeds) and c_dec; then per model the L0 of highest agreement against the true
L0, the L0 of best MCC and the recommended L0, and whether the agreement peak is at the grid L0 nearest the truth.
No training: it reads what is there.

    nice .venv/bin/python benchmarks/bench_seed_agreement.py /tmp/bench_rec [/tmp/other_out ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import torch
import yaml

from sae import layout
from sae.config import load_study_config
from sae.io import read_json
from sae.plan import build_experiment_plan
from sae.recommend import recommend_l0
from sae.refine import round_points
from sae.seed_agreement import seed_agreement
from sae.sweep import point_row


def model_table(results: Path, name: str, exp: Any) -> dict[str, Any] | None:
    """The model's row; None where no L0 has two evaluated seeds yet (a run still under way)."""
    plan = build_experiment_plan(name, exp)
    manifests = sorted(layout.resolve(results, plan.round_manifest(r)) for r in range(1, plan.rounds + 1))
    points = [p for p in plan.points + round_points([m for m in manifests if m.exists()])
              if layout.resolve(results, layout.METRICS, experiment=name, point=p.path).exists()]
    agreement = seed_agreement(points, weights={
        p.key: layout.resolve(results, layout.SAE_WEIGHTS, experiment=name, point=p.path) for p in points})
    rows = [point_row(p) | read_json(layout.resolve(results, layout.METRICS, experiment=name, point=p.path))
            | ({"seed_agreement": agreement[p.key]} if p.key in agreement else {}) for p in points]
    by_l0: dict[float, list[dict[str, Any]]] = {}
    for row in rows:
        by_l0.setdefault(float(row["l0"]), []).append(row)
    per_l0 = {l0: {m: statistics.fmean(r[m] for r in rs) for m in ("seed_agreement", "mcc", "c_dec")
                   if all(m in r for r in rs)} for l0, rs in sorted(by_l0.items())}
    compared = [l0 for l0, v in per_l0.items() if "seed_agreement" in v]
    if not compared:
        return None
    rec, = recommend_l0(rows, exp.source.model.true_l0)
    true = exp.source.model.true_l0
    nearest = min(compared, key=lambda l0: abs(l0 - true))
    peak = rec["l0_argmax_seed_agreement"]
    best_mcc = max(per_l0, key=lambda l0: per_l0[l0].get("mcc", -1))
    return {"model": name, "true": true, "agreement_peak": peak, "nearest_grid_l0": nearest,
            "peak_at_truth": peak == nearest, "peak_within_1": abs(peak - true) <= 1, "best_mcc_l0": best_mcc,
            "peak_is_best_mcc": peak == best_mcc, "recommended": rec["recommended_l0"],
            "per_l0": {f"{l0:g}": {k: round(v, 4) for k, v in vals.items()} for l0, vals in per_l0.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outs", type=Path, nargs="+", help="--out folders of bench_recommendation.py")
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = []
    for out in args.outs:
        config = load_study_config(yaml.safe_load((out / "study.yaml").read_text()))
        for name, exp in config.experiments.items():
            row = model_table(Path(config.results_dir), name, exp) if len(exp.grid.seed) > 1 else None
            if row is not None:
                table.append(row | {"out": str(out)})
                print(json.dumps(table[-1]), flush=True)
    print("\n| model | true L0 | agreement peak | grid L0 nearest the truth | best-MCC L0 | recommended |")
    print("|---|---|---|---|---|---|")
    for r in table:
        print(f"| {r['model']} | {r['true']:.2f} | {r['agreement_peak']:g} | {r['nearest_grid_l0']:g} | "
              f"{r['best_mcc_l0']:g} | {r['recommended']:.2f} |")
    print(f"\nagreement peaks at the grid L0 nearest the truth on {sum(r['peak_at_truth'] for r in table)}/{len(table)}, "
          f"within 1 of it on {sum(r['peak_within_1'] for r in table)}/{len(table)}, "
          f"at the best-MCC L0 on {sum(r['peak_is_best_mcc'] for r in table)}/{len(table)}")


if __name__ == "__main__":
    main()
