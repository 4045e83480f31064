from pathlib import Path

import pytest
import torch

from sae.data.toy import ToyBatches
from sae.train.checkpoints import checkpoint_schedule, checkpoint_steps
from sae.train.loop import train_sae
from tests.factories import SINGLE_BATCH, KillAfter, Killed, single_spec


def test_checkpoint_steps_spread_evenly_and_skip_the_ends():
    assert checkpoint_steps(64, 3) == {16, 32, 48}
    assert checkpoint_steps(64, 0) == set()
    assert checkpoint_steps(2, 3) == {1}  # rounded to steps 0, 1 and 2: neither end is a checkpoint


def test_checkpoint_schedule_needs_a_checkpoint_dir():
    s = single_spec("batchtopk", checkpoints=3)  # 64 steps
    assert checkpoint_schedule(s, None) == (None, set())
    assert checkpoint_schedule(s, Path("ck")) == (Path("ck/latest"), {16, 32, 48})


@pytest.mark.parametrize("arch", ["batchtopk", "standard"])
def test_resume_after_kill_equals_uninterrupted(arch, toy, tmp_path):
    s = single_spec(arch, checkpoints=3)
    full = train_sae(s, ToyBatches(toy, SINGLE_BATCH, seed=0), progress=False)
    with pytest.raises(Killed):
        train_sae(s, KillAfter(ToyBatches(toy, SINGLE_BATCH, seed=0), 40), tmp_path, progress=False)
    assert (tmp_path / "latest").exists()
    resumed = train_sae(s, ToyBatches(toy, SINGLE_BATCH, seed=0), tmp_path, progress=False)
    assert resumed.resumed_from_samples == 32 * SINGLE_BATCH  # the checkpoint at step 32 of 64
    assert torch.equal(resumed.sae.W_dec, full.sae.W_dec)
    assert resumed.curve == full.curve
