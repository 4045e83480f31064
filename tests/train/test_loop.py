import pytest
import torch

from sae.architectures import ARCHITECTURES
from sae.data.toy import ToyBatches
from sae.train.loop import train_sae
from tests.factories import SINGLE_BATCH, single_spec


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_architecture_trains(arch, trained):
    result = trained(arch)
    first, last = result.curve[0], result.curve[-1]
    assert last["mse_loss"] < first["mse_loss"]
    assert result.samples_trained == 16384 and len(result.curve) == 8
    if arch in ("topk", "batchtopk", "matryoshka_batchtopk"):
        assert last["l0"] == pytest.approx(2.0, abs=1e-6)


def test_standard_controller_steers_l0_towards_target(toy):
    low = train_sae(single_spec("standard", samples=65536, l0=1), ToyBatches(toy, SINGLE_BATCH, seed=0),
                    progress=False)
    high = train_sae(single_spec("standard", samples=65536, l0=4), ToyBatches(toy, SINGLE_BATCH, seed=0),
                     progress=False)
    assert low.curve[-1]["l0"] < high.curve[-1]["l0"]
    assert low.curve[-1]["l1_coefficient"] > high.curve[-1]["l1_coefficient"]


def test_same_seed_gives_bit_identical_weights(toy):
    a = train_sae(single_spec("batchtopk"), ToyBatches(toy, SINGLE_BATCH, seed=0), progress=False)
    b = train_sae(single_spec("batchtopk"), ToyBatches(toy, SINGLE_BATCH, seed=0), progress=False)
    c = train_sae(single_spec("batchtopk"), ToyBatches(toy, SINGLE_BATCH, seed=1), progress=False)
    assert torch.equal(a.sae.W_dec, b.sae.W_dec) and torch.equal(a.sae.W_enc, b.sae.W_enc)
    assert not torch.equal(a.sae.W_dec, c.sae.W_dec)
