"""The L0 recommendation against toy models whose true L0 is known.

Builds one study experiment per model of `recommendation_suite.yaml` (features, d, width, firing
shape scaled to the true L0, correlation strength and sign), runs the workflow up to each
experiment's sweep table, applies the rule of `sae.recommend` to it, and prints per model: true L0, recommended L0, interval, rule,
every rule's answer, whether the truth lies in the interval and within 1 of the recommendation.

    nice .venv/bin/python benchmarks/bench_recommendation.py --out /tmp/bench_rec
    nice .venv/bin/python benchmarks/bench_recommendation.py --out /tmp/bench_rec --only small_pos

Re-running with the same --out trains nothing again (the workflow's outputs are kept); a changed training
recipe in the suite retrains. Cost: 18 fused groups of 5M samples (~30 s to ~5 min each on one core) and
~330 per-SAE jobs whose start-up dominates on a loaded machine (README: "Measured on the toy suite").
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from sae import layout
from sae.config import Experiment, load_study_config
from sae.recommend import recommend_l0
from sae.sweep import read_csv

REPO = Path(__file__).resolve().parent.parent
SUITE = Path(__file__).with_name("recommendation_suite.yaml")


def firing(shape: str, n: int, true_l0: float) -> list[float]:
    """n firing probabilities of `shape` that sum to `true_l0`."""
    weights = {
        "uniform": [1.0] * n,
        # decreasing like the Sparse-but-Wrong large toy (0.345 (49 - i) / 50 + 0.05)
        "linear": [(n - i) / n + 0.15 for i in range(n)],
        # a heavy head: a few features fire most of the time
        "zipf": [(i + 1) ** -0.5 for i in range(n)],
    }[shape]
    probs = [w * true_l0 / sum(weights) for w in weights]
    if max(probs) >= 1:
        raise ValueError(f"{shape} firing over {n} features cannot reach L0 {true_l0}")
    return probs


def correlation(spec: dict[str, Any] | None, features: int) -> Any:
    """`with_first: rho` correlates feature 0 with every other; any other spec is a random matrix's."""
    if spec is not None and "with_first" in spec:
        return [{"i": 0, "j": j, "rho": spec["with_first"]} for j in range(1, features)]
    return spec


def experiment(model: dict[str, Any], suite: dict[str, Any]) -> dict[str, Any]:
    if "preset" in model:
        source = {"preset": model["preset"]}
    else:
        source = {"kind": "toy", "model": {
            "num_features": model["features"], "d_model": model["d"],
            "firing_probabilities": firing(model["firing"], model["features"], model["true_l0"]),
            "correlations": correlation(model.get("correlation"), model["features"]),
        }}
    return {
        "source": source,
        "grid": {"architecture": ["batchtopk"], "width": [model["width"]], "l0": model["l0"], "seed": suite["seeds"]},
        "training": suite["training"],
    } | ({"refine": suite["refine"]} if suite.get("refine") else {})


def study(suite: dict[str, Any], out: Path, only: list[str] | None) -> dict[str, Any]:
    models = {k: v for k, v in suite["models"].items() if not only or k in only}
    return {"results_dir": str(out / "results"), "tracking": {"uri": f"sqlite:///{out}/results/mlflow.db"},
            "experiments": {name: experiment(model, suite) for name, model in models.items()}}


def compute(exp: Experiment, sweep_rows: list[dict[str, Any]], rec: dict[str, Any]) -> dict[str, float]:
    """SAE-samples (millions) the coarse grid and refinement spent, and what a brute-force grid would: a uniform
    grid over the coarse grid's L0 range with the spacing the final grid has inside the interval (its widest gap
    there), with the grid's seeds."""
    coarse = {float(v) for v in exp.grid.l0}
    n_added = sum(float(r["l0"]) not in coarse for r in sweep_rows)
    refine_samples = exp.refine.samples if exp.refine and exp.refine.samples else exp.training.samples
    spent = {"coarse_M": (len(sweep_rows) - n_added) * exp.training.samples / 1e6,
             "refine_M": n_added * refine_samples / 1e6, "brute_force_M": None}
    if rec["recommended_l0"] is not None:
        inside = sorted({float(r["l0"]) for r in sweep_rows if rec["interval_low"] <= r["l0"] <= rec["interval_high"]})
        step = max((b - a for a, b in zip(inside, inside[1:])), default=None)
        if step:
            spent["brute_force_M"] = (math.floor((max(coarse) - min(coarse)) / step + 1e-9) + 1) * len(
                exp.grid.seed) * exp.training.samples / 1e6
    return spent


def table(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The rule applied now to each sweep table (so that a changed rule needs no retraining)."""
    config = load_study_config(raw)
    rows = []
    for name, exp in config.experiments.items():
        sweep_rows = read_csv(layout.resolve(config.results_dir, layout.SWEEP_TABLE, experiment=name))
        rec, = recommend_l0(sweep_rows, exp.source.model.true_l0)
        true, value = rec["true_l0"], rec["recommended_l0"]
        inside = value is not None and rec["interval_low"] <= true <= rec["interval_high"]
        rows.append({"model": name, "true": true, "recommended": value,
                     "interval": f"[{rec['interval_low']:.2f}, {rec['interval_high']:.2f}]" if value is not None else "-",
                     "rule": rec["rule"], "min_c_dec": rec["l0_min_c_dec"], "argmin_c_dec": rec["l0_argmin_c_dec"],
                     "elbow": rec["l0_elbow_c_dec"], "s_n_floor": rec["l0_floor_s_n_dec"],
                     "in_interval": inside, "within_1": value is not None and abs(value - true) <= 1}
                    | compute(exp, sweep_rows, rec))
    return rows


def show(rows: list[dict[str, Any]]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.2f}" if isinstance(v, float) else "-" if v is None else str(v)

    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(r[k]) for k in header) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the study config and its results")
    parser.add_argument("--only", nargs="*", help="models of the suite to run (default: all)")
    parser.add_argument("--cores", type=int, default=1)
    parser.add_argument("--snakemake", default="", help="further snakemake arguments, e.g. '--rerun-triggers mtime'")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    raw = study(yaml.safe_load(SUITE.read_text()), out, args.only)
    configfile = out / "study.yaml"
    configfile.write_text(yaml.safe_dump(raw))
    targets = [str(layout.resolve(raw["results_dir"], layout.SWEEP_TABLE, experiment=name)) for name in raw["experiments"]]
    start = time.perf_counter()
    snakemake = Path(sys.executable).parent / "snakemake"
    subprocess.run([str(snakemake), "--snakefile", str(REPO / "Snakefile"), "--directory", str(out),
                    "--configfile", str(configfile), "--replace-workflow-config", *args.snakemake.split(), "--cores", str(args.cores), *targets],
                   check=True, env=os.environ | {"PATH": f"{snakemake.parent}:{os.environ['PATH']}"})
    rows = table(raw)
    print(show(rows))
    print(f"\n{sum(r['in_interval'] for r in rows)}/{len(rows)} intervals hold the true L0; "
          f"{sum(r['within_1'] for r in rows)}/{len(rows)} recommendations within 1 of it; "
          f"workflow wall time {time.perf_counter() - start:.0f} s with --cores {args.cores}")


if __name__ == "__main__":
    main()
