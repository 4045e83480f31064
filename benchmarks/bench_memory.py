"""Peak memory of training jobs against the pre-flight estimate (`sae.resources`). Not a test.

    PYTHONPATH=. nice .venv/bin/python benchmarks/bench_memory.py [--cases alone_20k,alone_100k,fused_4x25k]

Each case runs a training job's own function (`sae.jobs.train.train_point`, or `train_group` for a fused
group) on the small toy (sbw_small, d_model 20) in a fresh process under `/usr/bin/time -v`, for a few
steps with a checkpoint (a step's peak comes in the first one), and compares its maximum resident set
size with the estimate pre-flight makes for the same job. The estimate must not exceed the peak by much:
pre-flight refuses a study on it, and a wrong estimate must err on the side of running.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from sae.config import load_study_config
from sae.resources import GiB, training_jobs

CASES = {  # name: (architecture, width, batch size, L0s trained together)
    "process": ("batchtopk", 100, 1024, [8]),
    "alone_20k_b4096": ("batchtopk", 20_000, 4096, [8]),
    "alone_20k": ("batchtopk", 20_000, 1024, [8]),
    "alone_100k": ("batchtopk", 100_000, 1024, [8]),
    "fused_4x25k": ("batchtopk", 25_000, 1024, [2, 4, 8, 16]),
    "standard_50k": ("standard", 50_000, 1024, [8]),
}

JOB = """
import json, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
from sae.config import load_study_config, grid_points
from sae.jobs.toy_model import write_toy_model
from sae.jobs.train import train_group, train_point
study = load_study_config(json.loads(sys.argv[1]))
work = Path(sys.argv[2])
[(name, exp)] = study.experiments.items()
write_toy_model(exp.source, work / "toy")
points = list(grid_points(study))
if len(points) > 1:
    train_group(exp, points, work / "toy", work / "group", work / "group.checkpoints")
else:
    train_point(exp, points[0], work / "toy", work / "point", work / "point.checkpoints", None)
"""


def study(architecture: str, width: int, batch: int, l0s: list) -> dict:
    grid = {"architecture": [architecture], "width": [width], "seed": [0], "l0": l0s}
    return {"results_dir": "unused", "tracking": {"uri": "sqlite:///unused/mlflow.db"}, "experiments": {"mem": {
        "source": {"preset": "sbw_small"}, "grid": grid,
        "training": {"samples": 3 * batch, "batch_size": batch, "log_every": 1, "checkpoints": 1, "device": "cpu",
                     "fused_group_size": len(l0s)}}}}


def peak_rss(raw: dict) -> int:
    with tempfile.TemporaryDirectory() as work:
        proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", JOB, json.dumps(raw), work],
                              capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1)) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    print(f"{'case':<14} {'estimate GiB':>12} {'peak GiB':>9} {'error':>7}")
    for name in args.cases.split(","):
        raw = study(*CASES[name])
        config = load_study_config(raw)
        [job] = training_jobs(config, {"mem": 20})
        estimate, peak = job.peak_bytes(), peak_rss(raw)
        print(f"{name:<14} {estimate / GiB:>12.2f} {peak / GiB:>9.2f} {(estimate - peak) / peak:>+7.1%}", flush=True)


if __name__ == "__main__":
    main()
