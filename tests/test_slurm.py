"""The tiny study on a real (single-node) Slurm cluster via snakemake-executor-plugin-slurm.

Skips only where Slurm cannot be installed (not root, no apt-get); a cluster that is
installed but will not start fails the test with the daemons' logs.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.slurm_cluster import SlurmCluster, SlurmUnavailable
from tests.workflow_checks import REPO, check_study_outputs, snakemake_command

pytestmark = pytest.mark.slow
VENV_BIN = Path(sys.executable).parent  # jobs run with --export=ALL: they need this on PATH


@pytest.fixture(scope="module")
def cluster():
    try:
        with SlurmCluster() as c:
            yield c
    except SlurmUnavailable as err:
        pytest.skip(f"no Slurm cluster on this machine: {err}")


def test_tiny_study_on_slurm(cluster, tmp_path, record_property):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install snakemake-executor-plugin-slurm")
    results = tmp_path / "results"
    uri = f"sqlite:///{results}/mlflow.db"
    slurm_logs = tmp_path / "slurm_logs"
    cmd = snakemake_command(
        tmp_path,
        "--executor", "slurm",
        "--workflow-profile", str(REPO / "workflow/profiles/slurm"),
        "--config", f"results_dir={results}", f"tracking={{uri: '{uri}'}}",
        "--slurm-status-command", "squeue",
        # The profile's 5 s suits real clusters; here jobs start at once.
        "--slurm-init-seconds-before-status-checks", "2",
        "--slurm-logdir", str(slurm_logs),
        "--latency-wait", "5",
    )
    env = cluster.env()
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"

    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1500)
    wall = time.monotonic() - start
    record_property("slurm_wall_s", round(wall, 1))
    print(f"tiny study on Slurm: {wall:.0f} s wall")

    job_logs = sorted(slurm_logs.rglob("*.log"))
    if proc.returncode != 0:
        tails = "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-2000:]}" for p in job_logs[-4:])
        pytest.fail(
            f"snakemake --executor slurm failed (rc {proc.returncode}, {wall:.0f} s)\n"
            f"{proc.stderr[-6000:]}\n{tails}\n{cluster.logs()}"
        )
    check_study_outputs(results, uri)

    # The work really went through Slurm: slurmctld (MinJobAge=3600) still lists every
    # job; the plugin puts "rule_<rule or group>[_wildcards_...]" in each job's comment.
    jobs = cluster.run("squeue", "--states=all", "-h", "-o", "%T|%k").stdout.split()
    assert jobs and all(j.startswith("COMPLETED|") for j in jobs), jobs
    assert any("train_" in j for j in jobs), jobs
    # one submission per job of the plan (tracking_init, tables and figures run on the submitting host): the toy
    # model, the tiny grid's one fused training job and its one evaluation job, not one job per SAE
    assert len(jobs) == 3, jobs
    assert job_logs, "slurm-keep-successful-logs: true should keep every job's log"
