"""MLflow parameters of a grid point, and taking a trained point out of its fused group."""

from __future__ import annotations

import pytest

from sae import layout
from sae.config import GridPoint
from sae.io import UnreadableOutput, atomic_write_json, read_json
from sae.jobs.record import adopt_from_group, run_params
from tests.factories import experiment


def test_run_params_hold_grid_training_source_and_options():
    exp = experiment(grid={"architecture": ["matryoshka_batchtopk"], "width": [8], "l0": [2], "seed": [0]},
                     architectures={"matryoshka_batchtopk": {"prefixes": [0.25, 0.5]}})
    point = GridPoint(experiment="toy", architecture="matryoshka_batchtopk", width=8, l0=2, seed=0)
    params = run_params(exp, point)
    assert params["architecture"] == "matryoshka_batchtopk" and params["l0"] == 2 and params["width"] == 8
    assert params["options.prefixes"] == [0.25, 0.5]
    assert params["training.samples"] == exp.training.samples
    assert params["source.kind"] == "toy" and params["source.preset"] == "sbw_small"


def test_swept_options_are_parameters_like_l0():
    exp = experiment(grid={"architecture": ["standard"], "width": [8], "l0": [2], "seed": [0],
                           "sweep": {"standard": {"l1_init": [0.5, 2.0]}}})
    point = GridPoint(experiment="toy", architecture="standard", width=8, l0=2, seed=0, options={"l1_init": 2.0})
    assert run_params(exp, point)["options.l1_init"] == 2.0


def test_adopt_from_group_copies_the_members_files(tmp_path):
    exp = experiment()
    point = GridPoint(experiment="toy", architecture="batchtopk", width=5, l0=2, seed=0)
    member = layout.group_member_dir(tmp_path / "group", 2)
    (member / layout.SAE_FOLDER).mkdir(parents=True)
    (member / layout.SAE_FOLDER / "cfg.json").write_text("{}")
    out = tmp_path / "point"
    with pytest.raises(UnreadableOutput, match=rf"sae_weights.safetensors is missing; delete {tmp_path / 'group'} "):
        adopt_from_group(exp, point, tmp_path / "group", out, track=None)
    (member / layout.SAE_FOLDER / "sae_weights.safetensors").write_bytes(b"")
    atomic_write_json(member / layout.CURVE_FILE, [{"step": 1, "mse": 0.5}])
    atomic_write_json(member / layout.SUMMARY_FILE, {"samples": 10.0})
    adopt_from_group(exp, point, tmp_path / "group", out, track=None)
    assert (out / layout.SAE_FOLDER / "cfg.json").read_text() == "{}"
    assert read_json(out / layout.CURVE_FILE) == [{"step": 1, "mse": 0.5}]
    assert read_json(out / layout.SUMMARY_FILE) == {"samples": 10.0}


def test_a_damaged_member_file_names_the_group_folder_to_delete(tmp_path):
    """A file inside the group's folder (a directory() output): deleting only that file would rebuild nothing."""
    exp = experiment()
    point = GridPoint(experiment="toy", architecture="batchtopk", width=5, l0=2, seed=0)
    member = layout.group_member_dir(tmp_path / "group", 2)
    (member / layout.SAE_FOLDER).mkdir(parents=True)
    (member / layout.SAE_FOLDER / "cfg.json").write_text("{'d_in'")
    (member / layout.SAE_FOLDER / "sae_weights.safetensors").write_bytes(b"")
    with pytest.raises(UnreadableOutput, match=rf"cfg.json is not valid JSON .*; delete {tmp_path / 'group'} and"):
        adopt_from_group(exp, point, tmp_path / "group", tmp_path / "point", track=None)
    (member / layout.SAE_FOLDER / "cfg.json").write_text("{}")
    (member / layout.CURVE_FILE).write_text("[")
    with pytest.raises(UnreadableOutput, match=rf"curve.json is not valid JSON .*; delete {tmp_path / 'group'} and"):
        adopt_from_group(exp, point, tmp_path / "group", tmp_path / "point", track=None)
