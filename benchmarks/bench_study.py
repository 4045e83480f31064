"""The default study end to end, from an empty results folder: wall time, jobs and the start-up share.

Runs `snakemake --cores N --workflow-profile workflow/profiles/default` in each checkout given (the
first is the baseline every ratio is against), one after another on this machine, and prints per
checkout: wall time, the number of jobs, job-seconds (each job process from its start to its exit),
start-up seconds (interpreter start plus every top-level `import` a job process executes, lazy ones
inside functions included), the CPU seconds the whole study used (Snakemake and every job, user +
system) and how busy the machine was with other work meanwhile (CPU seconds of the machine not spent
by the study, per wall second), with ratios against the first checkout. Wall time depends on other
load; the study's CPU seconds much less so.

Start-up is measured the same way for every checkout, without touching its code: a `sitecustomize`
module put first on PYTHONPATH times the outermost `import` statements of each job process and writes
one JSON line per job at its exit. Each checkout's own `sae` package is put on PYTHONPATH too, so an
editable install of another checkout in the venv is not what runs.

    .venv/bin/python benchmarks/bench_study.py /path/to/main-clone .     # baseline, then this checkout
    .venv/bin/python benchmarks/bench_study.py . --cores 2 --snakemake .venv/bin/snakemake

Each checkout's `results/` folder is deleted first (the study starts from nothing); its `.venv` is not
used: every checkout runs under the same Python (`--snakemake`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Written into a temporary folder put first on PYTHONPATH; Python imports it at start-up in every process.
SITECUSTOMIZE = r'''
import atexit, builtins, json, os, sys, time

def _process_start():
    """Seconds since the epoch when this process started (/proc: the interpreter's own boot included)."""
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return time.time() - uptime + start_ticks / os.sysconf("SC_CLK_TCK")

_START = _process_start()
_BOOT = time.time() - _START  # interpreter start before this module ran
_imports = [0.0]
_depth = [0]
_original = builtins.__import__

def _timed_import(*args, **kwargs):
    if _depth[0]:
        return _original(*args, **kwargs)
    _depth[0] = 1
    t = time.perf_counter()
    try:
        return _original(*args, **kwargs)
    finally:
        _imports[0] += time.perf_counter() - t
        _depth[0] = 0

def _report():
    script = next((a for a in sys.argv if "/.snakemake/scripts/" in a), None)
    if script is None:  # snakemake itself, or a helper process: not a job
        return
    rule = os.path.basename(script).split(".", 1)[1].rsplit(".py", 1)[0]
    line = {"rule": rule, "start": _START, "end": time.time(), "startup": _BOOT + _imports[0]}
    with open(os.environ["BENCH_STUDY_JOBS"], "a") as f:
        f.write(json.dumps(line) + "\n")

builtins.__import__ = _timed_import
atexit.register(_report)
'''


def _machine_busy_seconds() -> float:
    """CPU seconds every core of this machine spent busy since boot (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def run_study(checkout: Path, snakemake: str, cores: int) -> dict:
    results = checkout / "results"
    shutil.rmtree(results, ignore_errors=True)
    shutil.rmtree(checkout / ".snakemake", ignore_errors=True)
    with tempfile.TemporaryDirectory() as hook:
        Path(hook, "sitecustomize.py").write_text(SITECUSTOMIZE)
        jobs_file = Path(hook, "jobs.jsonl")
        env = {**os.environ, "PYTHONPATH": f"{hook}:{checkout}", "BENCH_STUDY_JOBS": str(jobs_file)}
        t0, busy0, cpu0 = time.monotonic(), _machine_busy_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [snakemake, "--cores", str(cores), "--workflow-profile", "workflow/profiles/default"],
            cwd=checkout, env=env, capture_output=True, text=True,
        )
        wall = time.monotonic() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        study_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        other_load = (_machine_busy_seconds() - busy0 - study_cpu) / wall
        jobs = [json.loads(line) for line in jobs_file.read_text().splitlines()] if jobs_file.exists() else []
    log = proc.stdout + proc.stderr
    (checkout / "bench_study.log").write_text(log)
    if proc.returncode != 0:
        sys.exit(f"{checkout}: snakemake exited {proc.returncode}; its output is in {checkout / 'bench_study.log'}")
    steps = re.findall(r"(\d+) of (\d+) steps \(100%\) done", log)
    job_seconds = sum(j["end"] - j["start"] for j in jobs)
    startup = sum(j["startup"] for j in jobs)
    by_rule: dict[str, list[float]] = {}
    for j in jobs:
        by_rule.setdefault(j["rule"], []).append(j["end"] - j["start"])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True,
                            text=True).stdout.strip()
    return {
        "checkout": str(checkout), "commit": commit, "wall_seconds": wall,
        "jobs_snakemake": int(steps[-1][1]) if steps else None, "job_processes": len(jobs),
        "study_cpu_seconds": study_cpu, "other_load_cores": other_load,
        "job_seconds": job_seconds, "startup_seconds": startup,
        "startup_share": startup / job_seconds if job_seconds else float("nan"),
        "by_rule": {rule: [len(t), sum(t)] for rule, t in sorted(by_rule.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", nargs="+", type=Path, help="the first is the baseline")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--snakemake", default=str(Path(sys.executable).parent / "snakemake"))
    parser.add_argument("--out", type=Path, help="also write the measurements here as JSON")
    args = parser.parse_args()
    rows = []
    for checkout in args.checkouts:
        row = run_study(checkout.resolve(), args.snakemake, args.cores)
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = rows[0]
    print(f"\n{'checkout':<30} {'commit':<9} {'wall s':>7} {'x base':>7} {'jobs':>5} {'job-s':>7} "
          f"{'start-up s':>10} {'share':>6} {'CPU s':>7} {'x base':>7} {'other load':>10}")
    for r in rows:
        print(f"{r['checkout'][-30:]:<30} {r['commit']:<9} {r['wall_seconds']:7.0f} "
              f"{base['wall_seconds'] / r['wall_seconds']:7.2f} {r['jobs_snakemake'] or r['job_processes']:>5} "
              f"{r['job_seconds']:7.0f} {r['startup_seconds']:10.0f} {r['startup_share']:6.1%} "
              f"{r['study_cpu_seconds']:7.0f} {base['study_cpu_seconds'] / r['study_cpu_seconds']:7.2f} "
              f"{r['other_load_cores']:10.2f}")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
