"""The per-SAE evaluation job: numbers and exported tensors written for one trained SAE."""

from __future__ import annotations

import pytest
from safetensors.torch import load_file

from sae.config import GridPoint, ToySource
from sae.data.toy import build_toy_model
from sae.io import read_json
from sae.jobs.evaluate import evaluate_point, ground_truth_sweep
from sae.metrics.ground_truth.main import ground_truth_sae
from tests.factories import experiment


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("toy")
    build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model).save(directory)
    return directory


def test_evaluate_point_writes_metrics_and_tensors(toy_dir, tmp_path):
    model = build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model)
    # saved as training saves (SAELens's inference format), so the job loads it as it loads a trained SAE
    ground_truth_sae(model.feature_vectors_FD, l0=2).save_inference_model(tmp_path / "sae")
    exp, point = experiment(), GridPoint(experiment="toy", architecture="batchtopk", width=5, l0=2, seed=0)
    out = evaluate_point(exp, point, toy_dir, tmp_path / "sae", tmp_path / "metrics.json",
                         tmp_path / "tensors.safetensors", track=None)
    assert read_json(tmp_path / "metrics.json") == out
    # the ground-truth dictionary, loaded back from disk: its latents are the true features
    assert out["mcc"] == pytest.approx(1.0, abs=1e-5) and out["c_dec"] == pytest.approx(0.0, abs=1e-6)
    assert load_file(tmp_path / "tensors.safetensors")["ground_truth.cos_HF"].shape == (5, 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "sae", "tensors.safetensors"]


def test_ground_truth_sweep_covers_the_grid_l0s_it_can_reach(toy_dir, tmp_path):
    exp = experiment(grid={"architecture": ["batchtopk"], "width": [8], "l0": [6, 1, 2], "seed": [0]})
    rows = ground_truth_sweep(exp, toy_dir, tmp_path / "gt.json")
    # 6 > the 5 true features: the ground truth has no SAE there
    assert [r["l0"] for r in rows] == [1, 2] and rows == read_json(tmp_path / "gt.json")
    assert rows[0]["variance_explained"] < rows[1]["variance_explained"]
