"""The two set-up jobs: the toy model written once, the MLflow parent runs created before any job logs."""

from __future__ import annotations

import torch

from sae.config import ToySource
from sae.data.toy import ToyModel, build_toy_model
from sae.io import read_json
from sae.jobs.toy_model import write_toy_model
from sae.jobs.tracking_init import init_tracking


def test_toy_model_round_trips(tmp_path):
    source = ToySource.model_validate({"preset": "sbw_small"})
    write_toy_model(source, tmp_path / "toy")
    loaded, built = ToyModel.load(tmp_path / "toy"), build_toy_model(source.model)
    assert torch.equal(loaded.feature_vectors_FD, built.feature_vectors_FD)
    assert loaded.true_l0 == built.true_l0


def test_init_tracking_writes_one_parent_run_per_experiment(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    init_tracking(uri, {"a": "study-a", "b": "study-b"}, "s1", tmp_path / "runs.json")
    runs = read_json(tmp_path / "runs.json")
    assert set(runs) == {"a", "b"} and runs["a"] != runs["b"]
    init_tracking(uri, {"a": "study-a", "b": "study-b"}, "s1", tmp_path / "runs.json")
    assert read_json(tmp_path / "runs.json") == runs  # a re-run finds the same parents
