"""The L0 recommendation against toy models whose true L0 is known.

Builds one experiment per model of `recommendation_suite.yaml` (features, d, width, firing shape scaled to
the true L0, correlation strength and sign), trains and evaluates its grid and the experiment's refinement
rounds, recommends by `sae.recommend`, and prints per model: true L0, the coarse grid's recommendation, the
points refinement added, the final recommendation, its interval and rule, every rule's answer, whether the
truth lies in the interval and within 1 of the recommendation, the SAE-samples spent, and the seconds taken.

    nice .venv/bin/python benchmarks/bench_recommendation.py --out /tmp/bench_rec
    nice .venv/bin/python benchmarks/bench_recommendation.py --out /tmp/bench_rec --only small_pos --samples 20000
    # log-spaced grids, 3 rounds, each refinement spacing on the same coarse grids:
    nice .venv/bin/python benchmarks/bench_recommendation.py --suite benchmarks/recommendation_log_grids.yaml \
        --out /tmp/rec_log --spacing log
    nice .venv/bin/python benchmarks/bench_recommendation.py --suite benchmarks/recommendation_log_grids.yaml \
        --out /tmp/rec_linear --spacing linear --coarse-from /tmp/rec_log

One process, models one after another, running each experiment's plan (`sae.plan`) through the workflow's own
job functions (`train_job`, `evaluate_points`, `refine_round`) on the workflow's output layout under
`--out/results`, without Snakemake's per-job start-up. No MLflow runs.

Re-running with the same --out reuses every trained job, metrics file and refinement round already there, so an
interrupted run resumes; a table row is appended to `--out/table.jsonl` as each model finishes. A different
recipe (`--lr`, `--samples`) needs a new --out: the script stops rather than mix two recipes in one folder.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

import torch
import yaml

from sae import layout
from sae.config import Experiment, GridPoint, load_study_config
from sae.io import read_json
from sae.jobs.evaluate import evaluate_points
from sae.jobs.refine import refine_round
from sae.refine import round_points
from sae.jobs.toy_model import write_toy_model
from sae.jobs.train import train_job
from sae.plan import TrainJob, build_experiment_plan, training_params
from sae.recommend import recommend_l0
from sae.sweep import point_row

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


def load_suite(path: Path) -> dict[str, Any]:
    """A suite file; one with `base: <file>` takes its recipe from that suite, and a model with `like: <name>` is
    that suite's model with the keys given (a grid of its own, say)."""
    suite = yaml.safe_load(path.read_text())
    if "base" not in suite:
        return suite
    base = load_suite(path.with_name(suite.pop("base")))
    models = {name: base["models"][m.pop("like")] | m if "like" in m else m for name, m in suite.pop("models").items()}
    return base | suite | {"models": models}


def study(suite: dict[str, Any], out: Path, only: list[str] | None) -> dict[str, Any]:
    models = {k: v for k, v in suite["models"].items() if not only or k in only}
    if only and set(only) - set(models):
        raise SystemExit(f"--only: no model {sorted(set(only) - set(models))} in the suite")
    return {"results_dir": str(out / "results"),
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

class Runner:
    """One experiment's plan, run as the workflow runs it, each job skipped when its outputs already exist."""

    def __init__(self, results: Path, name: str, exp: Experiment):
        self.results, self.name, self.exp = results, name, exp
        self.plan = build_experiment_plan(name, exp)
        self.source = layout.resolve(results, layout.TOY_MODEL_DIR, experiment=name)

    def path(self, pattern: str, **wildcards: Any) -> Path:
        return layout.resolve(self.results, pattern, experiment=self.name, **wildcards)

    def folders(self, points: list[GridPoint]) -> list[Path]:
        return [self.path(layout.POINT_DIR, point=p.path) for p in points]

    def train(self, jobs: list[TrainJob]) -> None:
        for job in jobs:
            folders = self.folders(list(job.points))
            if not all((f / layout.SUMMARY_FILE).exists() for f in folders):
                train_job(Experiment.model_validate(training_params(self.exp, job)), job.points, self.source,
                          folders, layout.resolve(self.results, job.checkpoints), None)

    def rows(self, points: list[GridPoint]) -> list[dict[str, Any]]:
        """The points' sweep-table rows (grid columns and metrics), evaluating those not evaluated yet."""
        todo = [p for p in points if not self.path(layout.METRICS, point=p.path).exists()]
        if todo:
            evaluate_points(self.exp, todo, self.source, self.folders(todo), None)
        return [point_row(p) | read_json(self.path(layout.METRICS, point=p.path)) for p in points]

    def run(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[GridPoint]]:
        """The coarse grid, then each refinement round; returns every row, the recommendation after the coarse grid
        and after each round, and the added points."""
        exp = self.exp
        if not self.path(layout.TOY_WEIGHTS).exists():
            write_toy_model(exp.source, self.source)
        self.train(self.plan.train_jobs)
        rows = self.rows(self.plan.points)
        history = recommend_l0(rows, exp.source.model.true_l0)
        manifests: list[Path] = []
        for round_ in range(1, self.plan.rounds + 1):
            manifest = layout.resolve(self.results, self.plan.round_manifest(round_))
            if not manifest.exists():
                refine_round(self.name, exp, round_, manifests, self.results, self.source, manifest, None)
            manifests.append(manifest)
            rows += self.rows(round_points([manifest]))
            history += recommend_l0(rows, exp.source.model.true_l0)
        return rows, history, round_points(manifests)


def interval(rec: dict[str, Any]) -> str:
    return f"[{rec['interval_low']:.2f}, {rec['interval_high']:.2f}]" if rec["recommended_l0"] is not None else "-"


def table_row(name: str, exp: Experiment, rows: list[dict[str, Any]], history: list[dict[str, Any]],
              added: list[GridPoint]) -> dict[str, Any]:
    """The rule applied now to every row (so that a changed rule needs no retraining); the interval after each round."""
    rec, coarse = history[-1], history[0]
    true, value = rec["true_l0"], rec["recommended_l0"]
    return {"model": name, "true": true, "coarse": coarse["recommended_l0"], "coarse_interval": interval(coarse),
            "rounds": " > ".join(interval(r) for r in history[1:]),
            "added": " ".join(f"{p.l0:g}/s{p.seed}" for p in added), "recommended": value, "interval": interval(rec),
            "rule": rec["rule"], "min_c_dec": rec["l0_min_c_dec"], "argmin_c_dec": rec["l0_argmin_c_dec"],
            "elbow": rec["l0_elbow_c_dec"], "s_n_floor": rec["l0_floor_s_n_dec"],
            "in_interval": value is not None and rec["interval_low"] <= true <= rec["interval_high"],
            "within_1": value is not None and abs(value - true) <= 1} | compute(exp, rows, rec)


def show(rows: list[dict[str, Any]]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.2f}" if isinstance(v, float) else "-" if v is None else str(v)

    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(r[k]) for k in header) + " |" for r in rows]
    return "\n".join(lines)


def recorded(configfile: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """The study config of --out with `raw`'s experiments added; stops if one ran there with another config."""
    old = yaml.safe_load(configfile.read_text()) if configfile.exists() else {"experiments": {}}
    changed = sorted(n for n, e in raw["experiments"].items() if old["experiments"].get(n, e) != e)
    if changed:
        raise SystemExit(f"{changed} ran in {configfile.parent} with another config (recipe or grid): use a new --out")
    return raw | {"experiments": old["experiments"] | raw["experiments"]}


def copy_coarse(source: Path, out: Path, experiments: dict[str, Experiment]) -> None:
    """Copy each experiment's toy model and coarse grid points from `source` (another --out) where they are absent
    here; stops if an experiment ran there with another source, grid or recipe."""
    theirs = yaml.safe_load((source / "study.yaml").read_text())["experiments"]
    for name, exp in experiments.items():
        mine = exp.model_dump(mode="json", include={"source", "grid", "training"})
        if name not in theirs or Experiment.model_validate(theirs[name]).model_dump(
                mode="json", include={"source", "grid", "training"}) != mine:
            raise SystemExit(f"--coarse-from: {name} did not run in {source} with this source, grid and recipe")
        plan = build_experiment_plan(name, exp)
        for pattern, wildcards in [(layout.TOY_MODEL_DIR, {})] + [(layout.POINT_DIR, {"point": p.path}) for p in plan.points]:
            here, there = (layout.resolve(d / "results", pattern, experiment=name, **wildcards) for d in (out, source))
            if not here.exists():
                shutil.copytree(there, here)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the study config, results and table")
    parser.add_argument("--suite", type=Path, default=SUITE, help=f"suite file (default {SUITE.name})")
    parser.add_argument("--only", nargs="*", help="models of the suite to run (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--lr", type=float, help="learning rate instead of the suite's")
    parser.add_argument("--samples", type=int, help="training samples per SAE instead of the suite's")
    parser.add_argument("--spacing", choices=["log", "linear"], help="refine.spacing instead of the suite's")
    parser.add_argument("--rounds", type=int, help="refinement rounds instead of the suite's")
    parser.add_argument("--coarse-from", type=Path,
                        help="an earlier --out of the same suite and recipe whose coarse grids (toy models, trained and "
                        "evaluated SAEs) are copied here rather than trained again: to compare refinement settings")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    suite = load_suite(args.suite)
    suite["training"] |= {k: v for k, v in {"lr": args.lr, "samples": args.samples}.items() if v is not None}
    suite["refine"] = suite.get("refine", {}) | {k: v for k, v in {"spacing": args.spacing, "rounds": args.rounds}.items()
                                                 if v is not None}
    raw = study(suite, out, args.only)
    configfile = out / "study.yaml"
    configfile.write_text(yaml.safe_dump(recorded(configfile, raw)))
    config = load_study_config(raw)
    if args.coarse_from:
        copy_coarse(args.coarse_from.resolve(), out, config.experiments)
    print(f"recipe {config.experiments[next(iter(raw['experiments']))].training.model_dump(include={'samples', 'lr', 'batch_size'})}, "
          f"{args.threads} thread(s)", flush=True)
    start, table = time.perf_counter(), []
    for name, exp in config.experiments.items():
        t0 = time.perf_counter()
        row = table_row(name, exp, *Runner(Path(config.results_dir), name, exp).run())
        table.append(row | {"seconds": round(time.perf_counter() - t0)})
        with open(out / "table.jsonl", "a") as f:
            f.write(json.dumps(table[-1]) + "\n")
        print(json.dumps(table[-1]), flush=True)
    print(show(table))
    print(f"\n{sum(r['in_interval'] for r in table)}/{len(table)} intervals hold the true L0; "
          f"{sum(r['within_1'] for r in table)}/{len(table)} recommendations within 1 of it; "
          f"wall time {time.perf_counter() - start:.0f} s with {args.threads} thread(s)")


if __name__ == "__main__":
    main()
