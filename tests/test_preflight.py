"""Checks before any job: missing, unreadable or too small local inputs, a layer beyond the model, an unreachable
tracking server."""

from __future__ import annotations

import gzip
import json
import os
import socket

import pytest

from sae.config import load_study_config
from sae.preflight import max_stored_tokens, study_problems, tracking_problems
from tests.conftest import make_study


def llm_study(tmp_path, **source):
    study = make_study()
    study["experiments"]["lm"] = {
        "source": {"kind": "llm", "layer": 1, "tokens": 4000, "heldout_tokens": 800} | source,
        "grid": {"architecture": ["batchtopk"], "width": [8], "l0": [2], "seed": [0]},
        "training": {"samples": 4096, "batch_size": 512},
    }
    study["tracking"] = {"uri": f"sqlite:///{tmp_path}/mlflow.db"}
    return load_study_config(study)


def model_dir(tmp_path, blocks=3):
    (tmp_path / "model").mkdir(parents=True)
    (tmp_path / "model/config.json").write_text(json.dumps({"num_hidden_layers": blocks}))
    return str(tmp_path / "model")


def test_offline_defaults_and_hub_ids_pass(tmp_path):
    assert study_problems(llm_study(tmp_path)) == []
    assert study_problems(llm_study(tmp_path, model="google/gemma-2-2b", dataset="Salesforce/wikitext")) == []


def test_missing_local_model_directory(tmp_path):
    [problem] = study_problems(llm_study(tmp_path, model=str(tmp_path / "nope")))
    assert problem.startswith("experiments.lm.source.model: local model directory") and "does not exist" in problem


def test_layer_beyond_the_model(tmp_path):
    [problem] = study_problems(llm_study(tmp_path, model=model_dir(tmp_path, blocks=3), layer=3))
    assert problem == "experiments.lm.source.layer: 3 is beyond the model's 3 blocks (0 to 2)"
    assert study_problems(llm_study(tmp_path, model=model_dir(tmp_path / "b", blocks=3), layer=2)) == []


def test_missing_empty_and_columnless_datasets(tmp_path):
    missing = study_problems(llm_study(tmp_path, dataset=str(tmp_path / "corpus.csv")))
    assert missing[0].startswith("experiments.lm.source.dataset: local file") and "does not exist" in missing[0]
    (tmp_path / "empty.txt").write_text("")
    assert study_problems(llm_study(tmp_path, dataset=str(tmp_path / "empty.txt")))[0].endswith("is empty")
    (tmp_path / "corpus.csv").write_text("prompt,label\nhello,1\n")
    [problem] = study_problems(llm_study(tmp_path, dataset=str(tmp_path / "corpus.csv")))
    assert "has no column 'text' (it has ['prompt', 'label'])" in problem and "source.text_column" in problem
    small = dict(tokens=20, heldout_tokens=10)  # (the 21-byte file yields at most 22 tokens)
    assert study_problems(llm_study(tmp_path, dataset=str(tmp_path / "corpus.csv"), text_column="prompt",
                                    **small)) == []
    (tmp_path / "rows.jsonl").write_text('{"body": "hi"}\n')
    assert "has no column 'text'" in study_problems(llm_study(tmp_path, dataset=str(tmp_path / "rows.jsonl")))[0]


def test_a_dataset_certain_to_be_too_small(tmp_path):
    (tmp_path / "two.txt").write_text("ab\ncd\n")  # 6 bytes in at most 3 rows: (6 + 2 * 3) * 128 // 127 = 12
    assert max_stored_tokens(tmp_path / "two.txt", "text", 128) == 12
    [problem] = study_problems(llm_study(tmp_path, dataset=str(tmp_path / "two.txt"), tokens=13, heldout_tokens=1))
    assert problem.startswith(f"experiments.lm.source.tokens: {tmp_path / 'two.txt'} can yield at most 12 tokens")
    assert "fewer than source.tokens = 13; lower source.tokens" in problem
    assert study_problems(llm_study(tmp_path, dataset=str(tmp_path / "two.txt"), tokens=12, heldout_tokens=1)) == []


def test_layer_beyond_the_offline_gguf_model(tmp_path):
    [problem] = study_problems(llm_study(tmp_path, layer=30))  # SmolLM2-135M: 30 blocks in its GGUF metadata
    assert problem == "experiments.lm.source.layer: 30 is beyond the model's 30 blocks (0 to 29)"
    assert study_problems(llm_study(tmp_path, layer=29)) == []
    [problem] = study_problems(llm_study(tmp_path, gguf_file="nope.gguf"))
    assert problem.startswith("experiments.lm.source.gguf_file: ") and "nope.gguf does not exist" in problem
    (tmp_path / "local").mkdir()
    (tmp_path / "local/model.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")  # a header cut short
    [problem] = study_problems(llm_study(tmp_path, model=str(tmp_path / "local"), gguf_file="model.gguf"))
    assert "cannot read the GGUF metadata of" in problem and "download it again" in problem
    [problem] = study_problems(llm_study(tmp_path, model=str(tmp_path / "local")))
    assert problem.endswith("holds no config.json; set source.gguf_file to one of its .gguf files")


UNREADABLE = {
    "binary.jsonl": (bytes(range(256)), "holds NUL bytes: it is binary, not text"),
    "latin1.txt": ("café\n".encode("latin-1"), "is not UTF-8 text (byte 3 is b'\\xe9')"),
    "lines.jsonl": (b"text: hello\n", "holds no JSON records (it starts with 'text: hello')"),
    "object.jsonl": (b'{"text": "a",\n "b": 1}\n', "is not JSON lines: its first line is not one JSON object"),
    "table.parquet": (b"text\nhello\n", "is not a Parquet file"),
}


@pytest.mark.parametrize("name", UNREADABLE)
def test_an_unreadable_dataset_is_named_with_the_fix(tmp_path, name):
    content, message = UNREADABLE[name]
    (tmp_path / name).write_bytes(content)
    [problem] = study_problems(llm_study(tmp_path, dataset=str(tmp_path / name)))
    assert problem.startswith(f"experiments.lm.source.dataset: cannot read {tmp_path / name}: {message}; replace it")


def test_a_directory_needs_data_files(tmp_path):
    (tmp_path / "corpus.jsonl").mkdir()
    (tmp_path / "corpus.jsonl/notes.md").write_text("not data")
    [problem] = study_problems(llm_study(tmp_path, dataset=str(tmp_path / "corpus.jsonl")))
    assert f"{tmp_path / 'corpus.jsonl'} is a directory holding no data file" in problem
    (tmp_path / "corpus.jsonl/part-0.jsonl").write_text('{"text": "hi"}\n')
    assert study_problems(llm_study(tmp_path, dataset=str(tmp_path / "corpus.jsonl"))) == []


def test_a_compressed_csv_is_read_for_its_columns(tmp_path):
    with gzip.open(tmp_path / "corpus.csv.gz", "wt") as f:
        f.write("prompt,label\nhello,1\n")
    [problem] = study_problems(llm_study(tmp_path, dataset=str(tmp_path / "corpus.csv.gz")))
    assert "has no column 'text' (it has ['prompt', 'label'])" in problem


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_dataset_without_read_permission(tmp_path):
    (tmp_path / "corpus.txt").write_text("hello\n" * 1000)
    (tmp_path / "corpus.txt").chmod(0)
    [problem] = study_problems(llm_study(tmp_path, dataset=str(tmp_path / "corpus.txt"), tokens=20, heldout_tokens=1))
    assert "cannot read" in problem and "Permission denied" in problem


def test_unreachable_tracking_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once closed
    [problem] = tracking_problems(f"http://127.0.0.1:{port}", timeout=1)
    assert problem.startswith(f"tracking.uri: no MLflow server answers at 127.0.0.1:{port}")
    assert tracking_problems("sqlite:///x/mlflow.db") == []


def test_reachable_tracking_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert tracking_problems(f"http://127.0.0.1:{s.getsockname()[1]}", timeout=1) == []


# ------------------------------------------------------------- where the study writes
def test_a_results_dir_that_is_a_file(tmp_path):
    (tmp_path / "results").write_text("not a folder")
    study = load_study_config(make_study(results_dir=str(tmp_path / "results"),
                                         tracking={"uri": f"sqlite:///{tmp_path}/db/mlflow.db"}))
    [problem] = study_problems(study)
    assert problem == (f"results_dir: {tmp_path / 'results'} exists and is a file, not a folder; move the file "
                       "away or choose another folder")
    study = load_study_config(make_study(results_dir=str(tmp_path / "results/sub"),
                                         tracking={"uri": f"sqlite:///{tmp_path}/db/mlflow.db"}))
    [problem] = study_problems(study)
    assert problem.startswith(f"results_dir: {tmp_path / 'results/sub'} cannot be created: {tmp_path / 'results'} "
                              "is a file, not a folder")


def test_a_file_where_the_study_writes_a_folder(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results/toy").write_text("")
    study = load_study_config(make_study(results_dir=str(tmp_path / "results"),
                                         tracking={"uri": f"sqlite:///{tmp_path}/results/mlflow.db"}))
    assert study_problems(study) == [f"results_dir: {tmp_path / 'results/toy'} is a file where the study writes a "
                                     "folder; move it away"]


def test_the_sqlite_store_folder_and_file(tmp_path):
    (tmp_path / "taken").write_text("")
    [problem] = tracking_problems(f"sqlite:///{tmp_path}/taken/mlflow.db")
    assert problem.startswith(f"tracking.uri: {tmp_path / 'taken'} exists and is a file, not a folder")
    (tmp_path / "store").mkdir()
    (tmp_path / "store/mlartifacts").write_text("")
    [problem] = tracking_problems(f"sqlite:///{tmp_path}/store/mlflow.db")
    assert problem.startswith(f"tracking.uri: {tmp_path / 'store/mlartifacts'} exists and is a file")
    (tmp_path / "dir.db").mkdir()
    [problem] = tracking_problems(f"sqlite:///{tmp_path}/dir.db")
    assert problem.startswith(f"tracking.uri: {tmp_path / 'dir.db'} is a folder, not an SQLite file")
    assert tracking_problems(f"sqlite:///{tmp_path}/new/deeper/mlflow.db") == []  # created by the first job


def test_a_damaged_sqlite_store_is_named_with_the_fix(tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_text("not a database at all")
    [problem] = tracking_problems(f"sqlite:///{db}")
    assert problem == (f"tracking.uri: {db} is not an SQLite database (it starts with b'not a da'); move it aside "
                       f"(mv {db} {db}.damaged) and re-run: a fresh MLflow store is created (the runs of the old one "
                       "are not recovered)")
    import sqlite3

    sqlite3.connect(tmp_path / "good.db").execute("create table t (x)").connection.commit()
    db.write_bytes(b"")  # an empty file: SQLite makes it a database
    assert tracking_problems(f"sqlite:///{tmp_path}/good.db") == tracking_problems(f"sqlite:///{db}") == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_folder_without_write_permission(tmp_path):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o500)
    [problem] = tracking_problems(f"sqlite:///{tmp_path}/ro/sub/mlflow.db")
    assert "cannot be created" in problem and "is not writable" in problem


# ------------------------------------------------------------- an MLflow server with basic authentication
class _AuthServer:
    """A stand-in for `mlflow server --app-name basic-auth`: 200 with the right Basic credentials, else 401."""

    def __init__(self, user="alice", password="s3cret"):
        import base64
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.paths = paths = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                paths.append(self.path)
                ok = self.headers.get("Authorization") == expected
                self.send_response(200 if ok else 401)
                self.end_headers()
                self.wfile.write(b'{"experiments": []}' if ok else b"")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def auth_server():
    server = _AuthServer()
    yield server
    server.server.shutdown()


def test_credentials_for_an_authenticated_server(auth_server, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    [problem] = tracking_problems(auth_server.uri, timeout=5)
    assert problem == (f"tracking.uri: MLflow server {auth_server.uri} requires credentials and none are set "
                       "(HTTP 401): set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to a user of its "
                       "basic-auth app in the environment that runs snakemake (never in the config)")
    assert auth_server.paths == ["/api/2.0/mlflow/experiments/search?max_results=1"]
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    [problem] = tracking_problems(auth_server.uri, timeout=5)
    assert "only one of MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD is set" in problem
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong")
    [problem] = tracking_problems(auth_server.uri, timeout=5)
    assert "refused the credentials of user 'alice' (HTTP 401)" in problem and "wrong" not in problem
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
    assert tracking_problems(auth_server.uri, timeout=5) == []


def test_credentials_in_the_uri_are_refused():
    [problem] = tracking_problems("http://alice:s3cret@127.0.0.1:5000")
    assert problem.startswith("tracking.uri: holds credentials (user:password@); remove them and set")
    assert "s3cret" not in problem


# ------------------------------------------------------------- an interrupted run's leftovers
def _mark_incomplete(workdir, output):
    from base64 import urlsafe_b64encode

    marker = workdir / ".snakemake/incomplete" / urlsafe_b64encode(str(output).encode()).decode()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text('{"external_jobid": null}')
    return marker


def test_outputs_left_incomplete_by_an_interrupted_run_are_removed(tmp_path, capsys):
    from sae.preflight import discard_interrupted_outputs

    (tmp_path / "results/p").mkdir(parents=True)
    (tmp_path / "results/p/train.json").write_text("{}")  # written before the interrupt
    (tmp_path / "results/group").mkdir()
    (tmp_path / "results/keep.json").write_text("{}")  # complete: no marker
    markers = [_mark_incomplete(tmp_path, "results/p/train.json"), _mark_incomplete(tmp_path, "results/group"),
               _mark_incomplete(tmp_path, tmp_path / "results/p/curve.json")]  # never written; absolute
    assert discard_interrupted_outputs(tmp_path) == [tmp_path / "results/group", tmp_path / "results/p/train.json"]
    assert not (tmp_path / "results/p/train.json").exists() and not (tmp_path / "results/group").exists()
    assert (tmp_path / "results/keep.json").exists() and not any(m.exists() for m in markers)
    assert "results/p/train.json: left incomplete by an interrupted run; removed" in capsys.readouterr().err


def test_a_running_snakemake_keeps_its_outputs(tmp_path):
    from sae.preflight import discard_interrupted_outputs

    (tmp_path / "out.txt").write_text("partial")
    marker = _mark_incomplete(tmp_path, "out.txt")
    (tmp_path / ".snakemake/locks").mkdir()
    (tmp_path / ".snakemake/locks/0.output.lock").write_text(f"{tmp_path / 'out.txt'}\n")
    assert discard_interrupted_outputs(tmp_path) == []
    assert (tmp_path / "out.txt").exists() and marker.exists()
