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
