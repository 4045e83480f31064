import json
import multiprocessing as mp
import time

import pytest

from mlflow.tracking import MlflowClient

from sae import tracking


def uri_in(tmp_path):
    return f"sqlite:///{tmp_path}/mlflow.db"


def start_child(uri, parent, key, params):
    return tracking.start_child_runs(uri, parent, {key: params})[key]


def child_id(uri, parent, key):
    return tracking.child_run_ids(uri, parent, [key])[key]


def write(uri, run, finish=False, **log):
    tracking.write_runs(uri, {run: tracking.RunLog(**log)}, finish=finish)


def test_parent_runs_are_created_once(tmp_path):
    uri = uri_in(tmp_path)
    first = tracking.ensure_parent_runs(uri, {"a": "study-a", "b": "study-b"}, "s1")
    again = tracking.ensure_parent_runs(uri, {"a": "study-a", "b": "study-b"}, "s1")
    assert first == again and first["a"] != first["b"]
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("study-a")
    assert len(client.search_runs([exp.experiment_id])) == 1
    # a model-training experiment for the MLflow UI, not a GenAI app
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"


def test_an_experiment_made_elsewhere_is_marked_for_model_training(tmp_path):
    uri = uri_in(tmp_path)
    MlflowClient(uri).create_experiment("study-a")
    tracking.ensure_parent_runs(uri, {"a": "study-a"}, "s1")
    assert MlflowClient(uri).get_experiment_by_name("study-a").tags["mlflow.experimentKind"] == "custom_model_development"


def test_retried_child_run_replaces_the_old_one(tmp_path):
    uri = uri_in(tmp_path)
    parent = tracking.ensure_parent_runs(uri, {"a": "study-a"}, "s1")["a"]
    old = start_child(uri, parent, "a/topk/w5/l0_2/seed0", {"l0": 2})
    new = start_child(uri, parent, "a/topk/w5/l0_2/seed0", {"l0": 2})
    assert old != new
    assert child_id(uri, parent, "a/topk/w5/l0_2/seed0") == new
    client = MlflowClient(uri)
    live = client.search_runs([client.get_run(parent).info.experiment_id], "tags.`sae.role` = 'child'")
    assert [r.info.run_id for r in live] == [new]


def test_curve_metrics_and_artifacts(tmp_path):
    uri = uri_in(tmp_path)
    parent = tracking.ensure_parent_runs(uri, {"a": "study-a"}, "s1")["a"]
    run = start_child(uri, parent, "k", {"width": 5})
    artifact = tmp_path / "m.json"
    artifact.write_text("{}")
    curve = [{"step": s, "loss": 1.0 / s} for s in range(1, 1201)]  # over MLflow's 1000-per-batch limit
    write(uri, run, metrics={"c_dec": 0.1}, curve=curve, artifacts={"metrics": artifact}, finish=True)
    client = MlflowClient(uri)
    assert len(client.get_metric_history(run, "train/loss")) == 1200
    got = client.get_run(run)
    assert got.data.metrics["c_dec"] == 0.1 and got.data.params["width"] == "5"
    assert got.data.tags["mlflow.parentRunId"] == parent and got.info.status == "FINISHED"
    assert [a.path for a in client.list_artifacts(run, "metrics")] == ["metrics/m.json"]


def _child(args):
    uri, parent, i = args
    run = start_child(uri, parent, f"k{i}", {"i": i})
    write(uri, run, metrics={"value": float(i)}, curve=[{"step": s, "loss": s} for s in range(50)])
    return run


def test_a_batch_of_children_is_created_and_written_at_once(tmp_path):
    uri = uri_in(tmp_path)
    parent = tracking.ensure_parent_runs(uri, {"a": "study-a"}, "s1")["a"]
    first = tracking.start_child_runs(uri, parent, {f"k{i}": {"i": i} for i in range(3)})
    again = tracking.start_child_runs(uri, parent, {"k1": {"i": 1}, "k2": {"i": 2}})  # a retried job's batch
    assert tracking.child_run_ids(uri, parent, ["k0", "k1", "k2"]) == {"k0": first["k0"]} | again
    tracking.write_runs(uri, {run: tracking.RunLog(metrics={"v": float(i)}) for i, run in enumerate(again.values())},
                        finish=True)
    client = MlflowClient(uri)
    assert [client.get_run(r).data.metrics["v"] for r in again.values()] == [0.0, 1.0]
    assert all(client.get_run(r).info.status == "FINISHED" for r in again.values())
    assert client.get_run(first["k1"]).info.lifecycle_stage == "deleted"
    with pytest.raises(tracking.TrackingError, match="k9"):
        tracking.child_run_ids(uri, parent, ["k0", "k9"])


def test_parallel_writers_lose_nothing(tmp_path):
    uri = uri_in(tmp_path)
    parent = tracking.ensure_parent_runs(uri, {"a": "study-a"}, "s1")["a"]
    with mp.get_context("spawn").Pool(4) as pool:
        runs = pool.map(_child, [(uri, parent, i) for i in range(8)])
    client = MlflowClient(uri)
    for i, run in enumerate(runs):
        data = client.get_run(run).data
        assert data.metrics["value"] == i
        assert len(client.get_metric_history(run, "train/loss")) == 50


def test_unreachable_server_fails_with_a_clear_message():
    with pytest.raises(tracking.TrackingError, match="unreachable"):
        tracking.ensure_parent_runs("http://127.0.0.1:9", {"a": "study-a"}, "s1")


def test_two_studies_on_one_store_keep_their_own_runs(tmp_path):
    uri = uri_in(tmp_path)
    # same config experiment name, same MLflow experiment, same grid key: only the study differs
    first = tracking.ensure_parent_runs(uri, {"a": "shared"}, "study-1")["a"]
    second = tracking.ensure_parent_runs(uri, {"a": "shared"}, "study-2")["a"]
    assert first != second
    run_1 = start_child(uri, first, "a/topk/w5/l0_2/seed0", {"l0": 2})
    run_2 = start_child(uri, second, "a/topk/w5/l0_2/seed0", {"l0": 2})
    write(uri, child_id(uri, second, "a/topk/w5/l0_2/seed0"), metrics={"c_dec": 2.0})
    client = MlflowClient(uri)
    assert client.get_run(run_1).info.lifecycle_stage == "active"  # the other study's child was not replaced
    assert "c_dec" not in client.get_run(run_1).data.metrics and client.get_run(run_2).data.metrics["c_dec"] == 2.0
    assert child_id(uri, first, "a/topk/w5/l0_2/seed0") == run_1
    # a re-run of the first study replaces only its own child
    rerun = start_child(uri, first, "a/topk/w5/l0_2/seed0", {"l0": 2})
    assert client.get_run(run_1).info.lifecycle_stage == "deleted"
    assert client.get_run(run_2).info.lifecycle_stage == "active" and rerun != run_1


def test_artifacts_of_a_sqlite_store_live_beside_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's default would be ./mlruns here
    uri = f"sqlite:///{tmp_path}/results/mlflow.db"
    parent = tracking.ensure_parent_runs(uri, {"a": "study-a"}, "s1")["a"]
    artifact = tmp_path / "table.csv"
    artifact.write_text("l0\n1\n")
    write(uri, parent, artifacts={"tables": artifact})
    assert (tmp_path / "results/mlartifacts/study-a").is_dir() and not (tmp_path / "mlruns").exists()
    assert len(list((tmp_path / "results/mlartifacts/study-a").rglob("table.csv"))) == 1


def _start_study(args):
    uri, study, start_at = args
    time.sleep(max(0.0, start_at - time.time()))  # both processes hit the fresh store at the same moment
    parent = tracking.ensure_parent_runs(uri, {"a": "shared", "b": f"{study}-only"}, study)["a"]
    return parent, start_child(uri, parent, "a/k", {"study": study})


def test_two_studies_starting_at_once_on_a_fresh_sqlite_store(tmp_path):
    uri = uri_in(tmp_path)
    start_at = time.time() + 8  # after both spawned interpreters have imported mlflow
    with mp.get_context("spawn").Pool(2) as pool:
        (parent_1, child_1), (parent_2, child_2) = pool.map(_start_study, [(uri, "s1", start_at), (uri, "s2", start_at)])
    client = MlflowClient(uri)
    assert parent_1 != parent_2 and child_1 != child_2
    assert all(client.get_run(r).info.lifecycle_stage == "active" for r in (parent_1, parent_2, child_1, child_2))


        

def test_parent_run_holds_config_and_answer_and_ends_finished(tmp_path):
    uri = uri_in(tmp_path)
    parent = tracking.ensure_parent_runs(uri, {"a": "study-a"}, "s1")["a"]
    config = {"training": {"samples": 100, "lr": 3e-4}, "grid": {"l0": [2, 3]}}
    tracking.finish_parent(uri, parent, config, {"recommended_l0": 2.5}, {"recommendation.rule": "c_dec_minimum"},
                           note="first", description="first")
    # a re-run with a changed config updates the same run; the changed value goes to a tag
    tracking.finish_parent(uri, parent, config | {"training": {"samples": 200, "lr": 3e-4}},
                           {"recommended_l0": 2.25}, {"recommendation.rule": "c_dec_minimum"},
                           note="Recommended L0 2.25", description="A toy sweep")
    client = MlflowClient(uri)
    run = client.get_run(parent)
    assert run.info.status == "FINISHED"
    # what the UI shows in words: the run's note, the experiment's description
    assert run.data.tags["mlflow.note.content"] == "Recommended L0 2.25"
    assert client.get_experiment(run.info.experiment_id).tags["mlflow.note.content"] == "A toy sweep"
    assert run.data.params == {"training.samples": "100", "training.lr": "0.0003", "grid.l0": "[2, 3]"}
    assert run.data.tags["config.training.samples"] == "200"
    assert run.data.metrics["recommended_l0"] == 2.25 and run.data.tags["recommendation.rule"] == "c_dec_minimum"
    assert tracking.ensure_parent_runs(uri, {"a": "study-a"}, "s1")["a"] == parent


def test_retraining_reopens_the_parent_and_a_failed_workflow_fails_it(tmp_path):
    uri = uri_in(tmp_path)
    parents = tracking.ensure_parent_runs(uri, {"a": "study-a", "b": "study-b"}, "s1")
    runs_file = tmp_path / "runs.json"
    runs_file.write_text(json.dumps(parents))
    tracking.finish_parent(uri, parents["a"], {}, {}, {}, "", "")
    tracking.finish_parent(uri, parents["b"], {}, {}, {}, "", "")
    start_child(uri, parents["b"], "b/k", {"l0": 2})
    client = MlflowClient(uri)
    assert client.get_run(parents["b"]).info.status == "RUNNING"
    tracking.fail_unfinished_parents(uri, runs_file)
    assert [client.get_run(parents[k]).info.status for k in "ab"] == ["FINISHED", "FAILED"]
    tracking.fail_unfinished_parents(uri, tmp_path / "absent.json")  # failed before any run existed


def test_parent_tags_of_swept_curves_are_valid_mlflow_keys(tmp_path):
    uri = uri_in(tmp_path)
    parent = tracking.ensure_parent_runs(uri, {"a": "study-a"}, "s1")["a"]
    # a curve of a swept option is named like "balanced_matryoshka.w4.beta=0.0."; MLflow refuses "=" in keys
    tracking.finish_parent(uri, parent, {}, {"balanced_matryoshka.w4.beta=0.0.recommended_l0": 1.0},
                           {"balanced_matryoshka.w4.beta=0.0.recommendation.rule": "c_dec_minimum"}, "", "")
    run = MlflowClient(uri).get_run(parent)
    assert run.data.tags["balanced_matryoshka.w4.beta_0.0.recommendation.rule"] == "c_dec_minimum"
    assert run.data.metrics["balanced_matryoshka.w4.beta_0.0.recommended_l0"] == 1.0
