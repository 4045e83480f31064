"""Atomic writes, and what a killed job leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sae.io import atomic_path, atomic_write_json, read_json


def test_a_failed_block_leaves_neither_target_nor_temporary(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.json") as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_temporaries_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".out.json.tmp-{int(dead.stdout)}"  # as a SIGKILLed job leaves it
    stale.write_text("half")
    live = tmp_path / f".out.json.tmp-{os.getppid()}"  # a running writer's, untouched
    live.write_text("in progress")
    other = tmp_path / f".other.json.tmp-{int(dead.stdout)}"  # another target's: not ours to judge
    other.write_text("x")
    atomic_write_json(tmp_path / "out.json", {"a": 1})
    assert read_json(tmp_path / "out.json") == {"a": 1}
    assert not stale.exists() and live.exists() and other.exists()


# ------------------------------------------------------------- reads of earlier jobs' outputs
def test_a_damaged_json_output_is_named_with_the_fix(tmp_path):
    from sae.io import UnreadableOutput, read_json

    path = tmp_path / "metrics.json"
    path.write_text("{bad json")
    with pytest.raises(UnreadableOutput) as err:
        read_json(path)
    assert str(err.value) == (f"{path} is not valid JSON (Expecting property name enclosed in double quotes: line 1 "
                              f"column 2 (char 1)); delete {path} and re-run: the workflow rebuilds it")
    with pytest.raises(UnreadableOutput, match=rf"{tmp_path / 'missing.json'} is missing; delete {tmp_path} and"):
        read_json(tmp_path / "missing.json", rebuild=tmp_path)
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(UnreadableOutput, match="is not UTF-8 text"):
        read_json(path)


def test_a_damaged_safetensors_output_is_named(tmp_path):
    from sae.io import UnreadableOutput, read_tensors

    path = tmp_path / "tensors.safetensors"
    path.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(UnreadableOutput, match=rf"^{path} is damaged \(SafetensorError: .*\); delete {path} and re-run"):
        read_tensors(path)


def test_a_damaged_sae_folder_is_named(tmp_path):
    import torch

    from sae.architectures import build_training_sae, load_sae
    from sae.io import UnreadableOutput

    torch.manual_seed(0)
    build_training_sae("batchtopk", 4, 6, 2, {}).save_inference_model(str(tmp_path / "p/sae"))
    assert load_sae(tmp_path / "p/sae").cfg.d_sae == 6
    weights = tmp_path / "p/sae/sae_weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(UnreadableOutput, match=rf"^{weights} is damaged .*; delete {tmp_path / 'p'} and re-run"):
        load_sae(tmp_path / "p/sae")
    (tmp_path / "p/sae/cfg.json").write_text("{'d_in': 4")
    with pytest.raises(UnreadableOutput, match=rf"^{tmp_path / 'p/sae/cfg.json'} is not valid JSON"):
        load_sae(tmp_path / "p/sae")


def test_a_damaged_sweep_table_is_named(tmp_path):
    from sae import sweep
    from sae.io import UnreadableOutput

    path = tmp_path / "sweep.csv"
    path.write_bytes(b"l0,c_dec\n\xff\xff,1\n")
    with pytest.raises(UnreadableOutput, match=rf"^{path} is not UTF-8 text .*; delete {path} and re-run"):
        sweep.read_csv(path)


def test_a_damaged_refinement_plan_is_named(tmp_path):
    from sae.io import UnreadableOutput
    from sae.refine import round_points

    plan = tmp_path / "refine/round1.json"
    plan.parent.mkdir()
    plan.write_text('[{"experiment": "toy", ')
    with pytest.raises(UnreadableOutput, match=rf"^{plan} is not valid JSON .*; delete {plan} and re-run"):
        round_points([plan])
