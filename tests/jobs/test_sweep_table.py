"""The sweep table merges each SAE's metrics, training record and every per-experiment evaluation."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from sae import layout
from sae.config import GridPoint
from sae.io import atomic_write_json, read_json
from sae.jobs.sweep_table import sweep_table
from sae.sweep import read_csv


def _point(l0):
    return GridPoint(experiment="e", architecture="batchtopk", width=8, l0=l0, seed=0)


def _inputs(tmp_path, l0s, c_dec):
    """Each point's metrics.json and train.json in its folder under the results folder `tmp_path`."""
    for l0, c in zip(l0s, c_dec, strict=True):
        atomic_write_json(layout.resolve(tmp_path, layout.METRICS, experiment="e", point=_point(l0).path),
                          {"c_dec": c, "s_n_dec": 1.0 / l0})
        atomic_write_json(layout.resolve(tmp_path, layout.TRAIN_SUMMARY, experiment="e", point=_point(l0).path),
                          {"wall_seconds": 2.0 * l0})


def _table(tmp_path, points, evaluations, true_l0=None, rounds=()):
    return sweep_table("e", points, list(rounds), tmp_path, evaluations, true_l0, tmp_path / "sweep.csv",
                       tmp_path / "rec.json", None, {}, "")


def test_rows_join_metrics_training_and_evaluations(tmp_path):
    l0s = [1, 2, 3]
    points = [_point(l0) for l0 in l0s]
    _inputs(tmp_path, l0s, [0.5, 0.2, 0.4])
    splice = tmp_path / "splice.json"
    atomic_write_json(splice, {p.key: {"splice_ce": 10.0 + p.l0} for p in points})
    rec = _table(tmp_path, points, [splice], true_l0=2.0)
    rows = read_csv(tmp_path / "sweep.csv")
    assert [(r["l0"], r["c_dec"], r["train_wall_seconds"], r["splice_ce"]) for r in rows] == [
        (1, 0.5, 2.0, 11.0), (2, 0.2, 4.0, 12.0), (3, 0.4, 6.0, 13.0)]
    assert rec == read_json(tmp_path / "rec.json")
    assert rec[0]["l0_min_c_dec"] == pytest.approx(2, abs=0.5) and rec[0]["true_l0"] == 2.0


def test_an_evaluation_missing_a_point_is_an_error(tmp_path):
    points = [_point(1), _point(2)]
    _inputs(tmp_path, [1, 2], [0.5, 0.2])
    partial = tmp_path / "partial.json"
    atomic_write_json(partial, {points[0].key: {"splice_ce": 1.0}})
    with pytest.raises(KeyError):
        _table(tmp_path, points, [partial])
    assert not (tmp_path / "sweep.csv").exists()


def test_a_refinement_rounds_points_join_the_table(tmp_path):
    _inputs(tmp_path, [1, 2, 3], [0.5, 0.2, 0.4])
    manifest = tmp_path / "round1.json"
    atomic_write_json(manifest, [_point(3).model_dump(mode="json")])
    _table(tmp_path, [_point(1), _point(2)], [], rounds=[manifest])
    assert [r["l0"] for r in read_csv(tmp_path / "sweep.csv")] == [1, 2, 3]


def test_a_point_without_its_metrics_is_an_error(tmp_path):
    _inputs(tmp_path, [1], [0.5])
    with pytest.raises(Exception, match="metrics.json"):
        _table(tmp_path, [_point(1), _point(2)], [])


def test_points_with_another_seed_at_their_l0_get_their_agreement(tmp_path):
    points = [GridPoint(experiment="e", architecture="batchtopk", width=8, l0=l0, seed=s) for l0, s in
              ((1, 0), (2, 0), (3, 0), (2, 1))]
    for p in points:
        atomic_write_json(layout.resolve(tmp_path, layout.METRICS, experiment="e", point=p.path),
                          {"c_dec": 0.1 * p.l0, "s_n_dec": 1.0})
        atomic_write_json(layout.resolve(tmp_path, layout.TRAIN_SUMMARY, experiment="e", point=p.path), {})
        weights = layout.resolve(tmp_path, layout.SAE_WEIGHTS, experiment="e", point=p.path)
        weights.parent.mkdir(parents=True, exist_ok=True)
        # seed 1's decoder is seed 0's with rows reversed and negated: the same directions
        save_file({"W_dec": torch.eye(8).flip(0).neg() if p.seed else torch.eye(8)}, str(weights))
    _table(tmp_path, points, [])
    rows = {(r["l0"], r["seed"]): r["seed_agreement"] for r in read_csv(tmp_path / "sweep.csv")}
    assert rows[(2, 0)] == pytest.approx(1.0) and rows[(2, 1)] == pytest.approx(1.0)
    assert rows[(1, 0)] in ("", None) and rows[(3, 0)] in ("", None)
