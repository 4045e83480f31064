"""The workflow end to end: snakemake on the tiny study, then what a researcher would check."""

import subprocess
import time

import pytest
import yaml
from mlflow.tracking import MlflowClient

from sae.config import grid_points, load_study_config

from tests.workflow_checks import REPO, check_study_outputs, run_snakemake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    work = tmp_path_factory.mktemp("study")
    results = work / "results"
    uri = f"sqlite:///{results}/mlflow.db"
    start = time.perf_counter()
    proc = run_snakemake(work, "--cores", "2", "--config", f"results_dir={results}", f"tracking={{uri: '{uri}'}}")
    print(f"tiny study: {time.perf_counter() - start:.0f} s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work, results, uri


def test_tiny_study_outputs(finished_study):
    _, results, uri = finished_study
    check_study_outputs(results, uri)


def test_rerunning_a_job_replaces_its_mlflow_run(finished_study):
    work, results, uri = finished_study
    target = results / "tiny_small/batchtopk/w5/l0_2/seed0/metrics.json"
    proc = run_snakemake(work, "--cores", "2", "--config", f"results_dir={results}", f"tracking={{uri: '{uri}'}}",
                         "--forcerun", "train_sae", "--until", str(target))
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_study_outputs(results, uri)
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("tiny_small")
    deleted = client.search_runs([exp.experiment_id], run_view_type=2)  # DELETED_ONLY
    assert len(deleted) == 1  # the re-run train_sae job replaced its run rather than adding a second one


def test_bad_config_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "tests/configs/tiny.yaml").read_text().replace("batch_size: 512", "batch_size: -3"))
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=bad)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "experiments.tiny_small.training.batch_size: Input should be greater than 0" in out
    assert "Traceback" not in out
    assert not (tmp_path / "results").exists()


def test_lint_is_clean():
    proc = subprocess.run([str(REPO / ".venv/bin/snakemake"), "--lint"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_default_config_dry_run_lists_toy_jobs_for_every_grid_point(tmp_path):
    proc = subprocess.run([str(REPO / ".venv/bin/snakemake"), "-n", "--quiet", "rules"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    study = load_study_config(yaml.safe_load((REPO / "config.yaml").read_text()))
    n_points = len(list(grid_points(study)))
    counts = dict(line.split() for line in proc.stdout.splitlines() if line.strip() and line.split()[-1].isdigit()
                  and len(line.split()) == 2)
    assert int(counts["train_sae"]) == n_points and int(counts["evaluate_sae"]) == n_points
    assert int(counts["toy_model"]) == len(study.experiments)
    assert "extract" not in proc.stdout
