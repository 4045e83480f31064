"""A grid point becomes a training spec with its architecture's options; one point trains and saves."""

from __future__ import annotations

import torch
from sae_lens import SAE

from sae import layout
from sae.config import GridPoint
from sae.io import read_json
from sae.jobs.train import train_job, train_spec
from tests.factories import experiment


def test_train_spec_carries_grid_training_and_fixed_options():
    exp = experiment(grid={"architecture": ["matryoshka_batchtopk"], "width": [8], "l0": [2], "seed": [3]},
                     architectures={"matryoshka_batchtopk": {"prefixes": [0.25, 0.5]}})
    point = GridPoint(experiment="toy", architecture="matryoshka_batchtopk", width=8, l0=2, seed=3)
    spec = train_spec(exp, point, d_in=20)
    assert (spec.architecture, spec.d_in, spec.width, spec.l0, spec.seed) == ("matryoshka_batchtopk", 20, 8, 2, 3)
    assert spec.samples == exp.training.samples and spec.batch_size == exp.training.batch_size
    assert spec.options["prefixes"] == [0.25, 0.5]


def test_train_spec_takes_swept_options_from_the_point():
    exp = experiment(grid={"architecture": ["standard"], "width": [8], "l0": [2], "seed": [0],
                           "sweep": {"standard": {"l1_init": [0.5, 2.0]}}})
    point = GridPoint(experiment="toy", architecture="standard", width=8, l0=2, seed=0, options={"l1_init": 0.5})
    assert train_spec(exp, point, d_in=20).options["l1_init"] == 0.5


def test_a_job_of_one_point_writes_a_loadable_sae_and_its_record(toy_dir, tmp_path):
    exp = experiment(training={"samples": 2048, "batch_size": 256, "log_every": 2})
    point = GridPoint(experiment="toy", architecture="batchtopk", width=5, l0=2, seed=0)
    out = tmp_path / "point"
    train_job(exp, [point], toy_dir, [out], tmp_path / "ckpt", track=None)
    sae = SAE.load_from_disk(out / layout.SAE_FOLDER)
    assert sae.cfg.d_in == 20 and sae.cfg.d_sae == 5
    summary = read_json(out / layout.SUMMARY_FILE)
    assert summary["samples"] == 2048 and summary["fused_group_size"] == 1
    assert len(read_json(out / layout.CURVE_FILE)) >= 2
    assert not (tmp_path / "ckpt").exists()  # checkpoints go once the SAE is saved


def test_a_fused_job_writes_each_member_into_its_own_folder(toy_dir, tmp_path):
    """No group folder and no copies: every member's SAE lands in its point's folder, trained fused."""
    exp = experiment(grid={"architecture": ["batchtopk"], "width": [5], "l0": [1, 3], "seed": [0]},
                     training={"samples": 2048, "batch_size": 256, "log_every": 2})
    points = [GridPoint(experiment="toy", architecture="batchtopk", width=5, l0=l0, seed=0) for l0 in (1, 3)]
    dirs = [tmp_path / "e" / p.path for p in points]
    train_job(exp, points, toy_dir, dirs, tmp_path / "ckpt", track=None)
    saes = [SAE.load_from_disk(folder / layout.SAE_FOLDER) for folder in dirs]
    assert all(read_json(folder / layout.SUMMARY_FILE)["fused_group_size"] == 2 for folder in dirs)
    # two SAEs, each trained at its own L0 on the one batch stream
    assert not torch.equal(saes[0].W_dec, saes[1].W_dec)
    assert saes[0].cfg.d_sae == saes[1].cfg.d_sae == 5
    assert sorted(p.name for p in (tmp_path / "e" / "batchtopk" / "w5").iterdir()) == ["l0_1", "l0_3"]
    assert not (tmp_path / "ckpt").exists()
