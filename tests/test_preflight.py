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
