"""Ctrl-C (SIGINT to snakemake and its jobs, as a terminal sends it) during training, extraction and MLflow
logging; then the same command again finishes, without --rerun-incomplete or --unlock, with the results of an
uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from mlflow.tracking import MlflowClient

from sae import layout
from sae.config import GridPoint, grid_points, load_study_config
from tests.test_workflow_llm import tiny_llm_study
from tests.tiny_lm import write_corpus
from tests.workflow_checks import TINY_CONFIG, run_snakemake, snakemake_command

pytestmark = pytest.mark.slow
POINT = GridPoint(experiment="tiny_small", architecture="batchtopk", width=5, l0=2, seed=0)


def one_point_study(tmp_path: Path, **training) -> tuple[Path, Path, dict]:
    """The tiny toy study at L0 2 only (one SAE, trained alone), long enough to be interrupted."""
    raw = yaml.safe_load(TINY_CONFIG.read_text())
    exp = raw["experiments"]["tiny_small"]
    exp["grid"]["l0"] = [2]
    exp["training"] |= training
    results = tmp_path / "results"
    raw |= {"results_dir": str(results), "tracking": {"uri": f"sqlite:///{results}/mlflow.db"}}
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump(raw))
    return config, results, raw


def interrupt(tmp_path: Path, config: Path, ready, *extra: str, timeout: float = 300, after=lambda: None) -> str:
    """Start snakemake, send SIGINT to it and its jobs once `ready()` holds (then call `after()`), and return
    its console."""
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.Popen(snakemake_command(tmp_path, "--cores", "1", *extra, configfile=config),
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    deadline = time.time() + timeout
    try:
        while not ready():
            assert proc.poll() is None, f"the run ended before the interrupt:\n{proc.stdout.read()[-3000:]}"
            assert time.time() < deadline, "the moment to interrupt never came"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
        after()
        console, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0, console[-3000:]
    assert not (tmp_path / ".snakemake/locks").exists() or not any((tmp_path / ".snakemake/locks").iterdir())
    return console


def rerun(tmp_path: Path, config: Path, *extra: str):
    """The same command again: no --rerun-incomplete, no --unlock."""
    proc = run_snakemake(tmp_path, "--cores", "1", *extra, configfile=config)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def reference_sae(raw: dict, results: Path, tmp_path: Path):
    """The SAE an uninterrupted run trains, computed here with the job's own functions."""
    from sae_lens import SAE

    from sae.data.toy import ToyBatches, ToyModel
    from sae.jobs.train import train_spec
    from sae.train.loop import train_sae
    from sae.train.save import save_trained_sae

    study = load_study_config(raw)
    model = ToyModel.load(layout.resolve(results, layout.TOY_MODEL_DIR, experiment="tiny_small"))
    spec = train_spec(study.experiments["tiny_small"], next(grid_points(study)), model.d_model)
    torch.set_num_threads(1)  # as the job did (threads: 1): another count reorders float sums
    save_trained_sae(train_sae(spec, ToyBatches(model, spec.batch_size, spec.seed), progress=False), tmp_path / "ref")
    return SAE.load_from_disk(str(tmp_path / "ref"))


def assert_same_sae(point_dir: Path, reference) -> None:
    from sae_lens import SAE

    trained = SAE.load_from_disk(str(point_dir / layout.SAE_FOLDER))
    for name in ("W_enc", "W_dec", "b_enc", "b_dec", "threshold"):
        assert torch.equal(getattr(trained, name), getattr(reference, name)), name


def assert_one_finished_child_run(results: Path, point_dir: Path) -> None:
    """Exactly one live child run for the point, finished, holding the metrics of its metrics.json."""
    client = MlflowClient(f"sqlite:///{results}/mlflow.db")
    exp_id = client.get_experiment_by_name("tiny_small").experiment_id
    [run] = client.search_runs([exp_id], f"tags.`sae.grid_key` = '{POINT.key}'")
    assert run.info.status == "FINISHED"
    metrics = json.loads((point_dir / "metrics.json").read_text())
    assert {k: run.data.metrics[k] for k in ("c_dec", "mcc")} == pytest.approx({k: metrics[k] for k in ("c_dec", "mcc")})
    summary = json.loads((point_dir / "train.json").read_text())
    assert run.data.metrics["train.samples"] == summary["samples"]


def test_ctrl_c_during_training(tmp_path):
    config, results, raw = one_point_study(tmp_path, samples=120_000, checkpoints=12, log_every=100)
    point_dir = layout.resolve(results, layout.POINT_DIR, experiment="tiny_small", point=POINT.path)
    console = interrupt(tmp_path, config, lambda: (point_dir / "checkpoints/latest").exists())
    assert "Traceback" not in console.split("Terminating processes on user request")[0], console[-3000:]
    assert not (point_dir / "train.json").exists()

    rerun(tmp_path, config)
    assert json.loads((point_dir / "train.json").read_text())["resumed_from_samples"] > 0
    assert_same_sae(point_dir, reference_sae(raw, results, tmp_path))
    assert_one_finished_child_run(results, point_dir)


def test_ctrl_c_during_mlflow_logging(tmp_path):
    """The job has written its SAE and is logging it when interrupted: a lock held on the SQLite store keeps it
    there (MLflow retries a locked store)."""
    config, results, raw = one_point_study(tmp_path)
    point_dir = layout.resolve(results, layout.POINT_DIR, experiment="tiny_small", point=POINT.path)
    db = results / "mlflow.db"
    runs_file = layout.resolve(results, layout.RUNS_FILE)
    holder: list[sqlite3.Connection] = []

    def logging_blocked() -> bool:
        if not holder and runs_file.exists():  # the store is set up: from now on every write waits for us
            conn = sqlite3.connect(db, timeout=30, isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            holder.append(conn)
        return bool(holder) and (point_dir / "train.json").exists() and time.sleep(1) is None

    def release() -> None:  # once interrupted: Snakemake's onerror marks the sweep FAILED in the store
        while holder:
            conn = holder.pop()
            conn.execute("ROLLBACK")
            conn.close()

    try:
        interrupt(tmp_path, config, logging_blocked, after=release)
    finally:
        release()
    assert (point_dir / "train.json").exists()  # written before the interrupt, so marked incomplete

    proc = rerun(tmp_path, config)
    assert "left incomplete by an interrupted run; removed" in proc.stderr
    assert_same_sae(point_dir, reference_sae(raw, results, tmp_path))
    assert_one_finished_child_run(results, point_dir)


def test_ctrl_c_during_extraction(tmp_path):
    config, results = tiny_llm_study(tmp_path)
    raw = yaml.safe_load(config.read_text())
    # enough text for many shards, so that the interrupt lands between the first and the last
    raw["experiments"]["tiny_llm"]["source"] |= {"dataset": str(write_corpus(tmp_path / "corpus.txt", 12_000)),
                                                 "tokens": 60_000, "shard_tokens": 256}
    config.write_text(yaml.safe_dump(raw))
    until = ("--until", "extract_activations")

    def some_shards_written() -> bool:
        stores = list((results / "activations").glob("*/progress.json"))
        return bool(stores) and len(json.loads(stores[0].read_text())["shards"]) >= 3

    interrupt(tmp_path, config, some_shards_written, *until)
    [store] = (results / "activations").iterdir()
    assert not (store / "manifest.json").exists(), "the extraction finished before the interrupt"

    rerun(tmp_path, config, *until)
    manifest = json.loads((store / "manifest.json").read_text())
    assert manifest["extraction"]["resumed_from_tokens"] > 0 and manifest["tokens"] == 60_000

    reference = tmp_path / "reference"
    reference.mkdir()
    ref_raw = raw | {"results_dir": str(reference / "results"),
                     "tracking": {"uri": f"sqlite:///{reference}/results/mlflow.db"}}
    (reference / "study.yaml").write_text(yaml.safe_dump(ref_raw))
    rerun(reference, reference / "study.yaml", *until)
    [ref_store] = (reference / "results/activations").iterdir()
    assert ref_store.name == store.name
    shards = sorted(p.name for p in store.glob("shard_*.npy"))
    assert shards == sorted(p.name for p in ref_store.glob("shard_*.npy"))
    for name in shards:
        assert np.array_equal(np.load(store / name), np.load(ref_store / name)), name
