"""Checks before any job: missing local inputs, a layer beyond the model, an unreachable tracking server."""

from __future__ import annotations

import json
import socket

from sae.config import load_study_config
from sae.preflight import study_problems, tracking_problems
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
    assert study_problems(llm_study(tmp_path, dataset=str(tmp_path / "corpus.csv"), text_column="prompt")) == []
    (tmp_path / "rows.jsonl").write_text('{"body": "hi"}\n')
    assert "has no column 'text'" in study_problems(llm_study(tmp_path, dataset=str(tmp_path / "rows.jsonl")))[0]


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
