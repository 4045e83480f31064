"""The per-SAE evaluation job: numbers and exported tensors written for one trained SAE."""

from __future__ import annotations

import pytest
from safetensors.torch import load_file

from sae.config import GridPoint, ToySource
from sae.data.toy import build_toy_model
from sae.io import read_json
from sae.jobs.evaluate import evaluate_points, ground_truth_sweep
from sae.metrics.ground_truth.main import ground_truth_sae
from tests.factories import experiment


def test_evaluate_points_writes_metrics_and_tensors_into_each_folder(toy_dir, tmp_path):
    model = build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model)
    points = [GridPoint(experiment="toy", architecture="batchtopk", width=5, l0=l0, seed=0) for l0 in (1, 2)]
    dirs = [tmp_path / p.path for p in points]
    for point, folder in zip(points, dirs):
        # saved as training saves (SAELens's inference format), so the job loads it as it loads a trained SAE
        ground_truth_sae(model.feature_vectors_FD, l0=point.l0).save_inference_model(folder / "sae")
    out = evaluate_points(experiment(), points, toy_dir, dirs, track=None)
    assert sorted(out) == sorted(p.key for p in points)
    for point, folder in zip(points, dirs):
        assert read_json(folder / "metrics.json") == out[point.key]
        # the ground-truth dictionary, loaded back from disk: its latents are the true features
        assert out[point.key]["mcc"] == pytest.approx(1.0, abs=1e-5)
        assert out[point.key]["c_dec"] == pytest.approx(0.0, abs=1e-6)
        assert load_file(folder / "tensors.safetensors")["ground_truth.cos_HF"].shape == (5, 5)
        assert sorted(p.name for p in folder.iterdir()) == ["metrics.json", "sae", "tensors.safetensors"]


def test_ground_truth_sweep_covers_the_grid_l0s_it_can_reach(toy_dir, tmp_path):
    exp = experiment(grid={"architecture": ["batchtopk"], "width": [8], "l0": [6, 1, 2], "seed": [0]})
    rows = ground_truth_sweep(exp, toy_dir, tmp_path / "gt.json")
    # 6 > the 5 true features: the ground truth has no SAE there
    assert [r["l0"] for r in rows] == [1, 2] and rows == read_json(tmp_path / "gt.json")
    assert rows[0]["variance_explained"] < rows[1]["variance_explained"]
