"""The workflow end to end: snakemake on the tiny study, then what a researcher would check."""

import subprocess
import time

import pytest
import yaml
from mlflow.tracking import MlflowClient

from sae import layout
from sae.figures import FIGURES, draws_for
from sae.config import GridPoint, grid_points, load_study_config
from sae.plan import build_plan

from tests.workflow_checks import REPO, check_study_outputs, child_run_keys, run_snakemake, study_config

pytestmark = pytest.mark.slow
TINY_POINT = GridPoint(experiment="tiny_small", architecture="batchtopk", width=5, l0=2, seed=0).path
# the tiny grid (L0 1, 2, 3 of one seed) is one fused training job
TINY_TRAIN_RULE = "train_tiny_small_batchtopk_w5_seed0_0"


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
    target = layout.resolve(results, layout.METRICS, experiment="tiny_small", point=TINY_POINT)
    proc = run_snakemake(work, "--cores", "2", "--config", f"results_dir={results}", f"tracking={{uri: '{uri}'}}",
                         "--forcerun", TINY_TRAIN_RULE, "--until", str(target))
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_study_outputs(results, uri, parent_status="RUNNING")  # retrained, its sweep table not yet rewritten
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("tiny_small")
    deleted = client.search_runs([exp.experiment_id], run_view_type=2)  # DELETED_ONLY
    assert len(deleted) == 3  # the re-run job replaced its three SAEs' runs rather than adding three more


def test_a_changed_training_config_reruns_training(finished_study, tmp_path):
    work, results, uri = finished_study
    changed = tmp_path / "changed.yaml"
    changed.write_text((REPO / "tests/configs/tiny.yaml").read_text().replace("samples: 20480", "samples: 40960"))
    proc = run_snakemake(work, "-n", "--quiet", "rules", "--config", f"results_dir={results}",
                         f"tracking={{uri: '{uri}'}}", configfile=changed)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert TINY_TRAIN_RULE in proc.stdout and "toy_model" not in proc.stdout


def test_a_changed_metric_setting_reruns_evaluation_only(finished_study, tmp_path):
    work, results, uri = finished_study
    changed = tmp_path / "changed.yaml"
    changed.write_text((REPO / "tests/configs/tiny.yaml").read_text().replace("eval_batches: 2", "eval_batches: 3"))
    proc = run_snakemake(work, "-n", "--quiet", "rules", "--config", f"results_dir={results}",
                         f"tracking={{uri: '{uri}'}}", configfile=changed)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "evaluate_tiny_small" in proc.stdout and "train_" not in proc.stdout


def test_a_changed_description_reruns_only_the_sweep_table_and_figures(finished_study, tmp_path):
    work, results, uri = finished_study
    changed = tmp_path / "changed.yaml"
    changed.write_text((REPO / "tests/configs/tiny.yaml").read_text().replace(
        "  tiny_small:\n", "  tiny_small:\n    description: A new label\n"))
    proc = run_snakemake(work, "-n", "--quiet", "rules", "--config", f"results_dir={results}",
                         f"tracking={{uri: '{uri}'}}", configfile=changed)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the sweep table sets the MLflow description; nothing trains or evaluates again
    assert "sweep_table" in proc.stdout
    assert not any(rule in proc.stdout for rule in ("train_", "evaluate_", "toy_model", "tracking_init"))


def test_an_added_l0_trains_only_its_group(finished_study, tmp_path):
    """The tiny grid is one fused group: adding an L0 retrains that group (documented), never the toy model."""
    work, results, uri = finished_study
    changed = tmp_path / "changed.yaml"
    changed.write_text((REPO / "tests/configs/tiny.yaml").read_text().replace("l0: [1, 2, 3]", "l0: [1, 2, 3, 4]"))
    proc = run_snakemake(work, "-n", "--config", f"results_dir={results}", f"tracking={{uri: '{uri}'}}",
                         configfile=changed)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("rule train_") == 1 and "rule toy_model" not in proc.stdout


def test_a_study_with_continuations_has_their_runs(tmp_path):
    """metrics.hedging: the point's run and one per continuation (control, extended), each under the parent."""
    study = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    results = tmp_path / "results"
    uri = f"sqlite:///{results}/mlflow.db"
    study |= {"results_dir": str(results), "tracking": {"uri": uri}}
    exp = study["experiments"]["tiny_small"]
    exp["grid"]["l0"] = [1, 2]
    exp["metrics"] |= {"hedging": {"enabled": True, "new_latents": 2, "samples": 10240, "baselines": 2}}
    config = tmp_path / "hedging.yaml"
    config.write_text(yaml.safe_dump(study))
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_study_outputs(results, uri, configfile=config)
    checked = study_config(results, uri, config)
    assert len(child_run_keys(checked.experiments["tiny_small"], grid_points(checked))) == 2 + 2 * 2


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


def test_default_config_dry_run_plans_every_job_of_the_plan(tmp_path):
    # in an empty working directory, so that results of an earlier `make study` do not hide jobs
    proc = run_snakemake(tmp_path, "-n", "--quiet", "rules", configfile=REPO / "config.yaml")
    assert proc.returncode == 0, proc.stderr
    study = load_study_config(yaml.safe_load((REPO / "config.yaml").read_text()))
    plan = build_plan(study)
    counts = {line.split()[0]: int(line.split()[1]) for line in proc.stdout.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}

    def jobs(kind):
        return sum(n for rule, n in counts.items() if rule.startswith(kind + "_"))

    assert jobs("train") == sum(len(e.train_jobs) for e in plan.experiments.values())
    assert sum(len(j.points) for e in plan.experiments.values() for j in e.train_jobs) == len(list(grid_points(study)))
    assert jobs("evaluate") == len(study.experiments) == jobs("figures") == counts["sweep_table"]
    kinds = [e.source.kind for e in study.experiments.values()]
    assert counts["toy_model"] == kinds.count("toy")
    # one extraction feeds every LLM training job
    assert counts.get("extract_activations", 0) == min(1, kinds.count("llm"))
    assert counts["total"] - counts["all"] <= 100


def test_report_has_every_figure_with_captions(finished_study):
    work, results, uri = finished_study
    report = work / "report.html"
    proc = run_snakemake(work, "--config", f"results_dir={results}", f"tracking={{uri: '{uri}'}}",
                         "--report", str(report))
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = report.read_text()
    tiny_small = study_config(results, uri).experiments["tiny_small"]
    for figure in FIGURES:
        if draws_for(FIGURES[figure], tiny_small) and FIGURES[figure].scope == "experiment":
            assert f"{figure}.png" in html
    assert "Hungarian matching" in html  # a caption from workflow/report/
    assert "tiny_small" in html  # figures are grouped by experiment


def test_killed_training_resumes_from_its_checkpoint(tmp_path):
    """SIGKILL the whole workflow mid-training, re-run it: same SAE as an uninterrupted run, one MLflow run."""
    import os
    import signal

    import torch
    from sae_lens import SAE

    from sae.data.toy import ToyBatches, ToyModel
    from sae.jobs.train import train_spec
    from sae.train.loop import train_sae
    from sae.train.save import save_trained_sae
    from tests.workflow_checks import snakemake_command

    raw = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    exp = raw["experiments"]["tiny_small"]
    exp["grid"]["l0"] = [2]
    exp["training"] |= {"samples": 600_000, "checkpoints": 20, "log_every": 100}
    results = tmp_path / "results"
    raw |= {"results_dir": str(results), "tracking": {"uri": f"sqlite:///{results}/mlflow.db"}}
    config = tmp_path / "resume.yaml"
    config.write_text(yaml.safe_dump(raw))
    point_dir = layout.resolve(results, layout.POINT_DIR, experiment="tiny_small", point=TINY_POINT)

    proc = subprocess.Popen(snakemake_command(tmp_path, "--cores", "1", configfile=config), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (point_dir / "checkpoints/latest").exists():
        assert proc.poll() is None and time.time() < deadline, "training finished or stalled before a checkpoint"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # Snakemake makes the folders of declared outputs before the job starts; no file in them may exist yet
    assert not any((point_dir / layout.SAE_FOLDER / name).exists() for name in layout.SAE_FILES)
    assert not (point_dir / "train.json").exists()

    assert run_snakemake(tmp_path, "--unlock", configfile=config).returncode == 0
    rerun = run_snakemake(tmp_path, "--cores", "1", "--rerun-incomplete", configfile=config)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summary = yaml.safe_load((point_dir / "train.json").read_text())
    assert summary["resumed_from_samples"] > 0

    study = load_study_config(raw)
    point = next(grid_points(study))
    model = ToyModel.load(layout.resolve(results, layout.TOY_MODEL_DIR, experiment="tiny_small"))
    spec = train_spec(study.experiments["tiny_small"], point, model.d_model)
    torch.set_num_threads(1)  # as the job did (threads: 1): another count reorders float sums
    save_trained_sae(train_sae(spec, ToyBatches(model, spec.batch_size, spec.seed), progress=False), tmp_path / "ref")
    resumed, reference = SAE.load_from_disk(str(point_dir / "sae")), SAE.load_from_disk(str(tmp_path / "ref"))
    assert torch.equal(resumed.W_dec, reference.W_dec) and torch.equal(resumed.W_enc, reference.W_enc)
    assert torch.equal(resumed.threshold, reference.threshold)

    client = MlflowClient(f"sqlite:///{results}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("tiny_small").experiment_id],
                              "tags.`sae.role` = 'child'", run_view_type=3)  # ALL, deleted included
    assert len(runs) == 1
