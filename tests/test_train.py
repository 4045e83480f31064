import pytest
import torch
from sae_lens import SAE

from sae.architectures import ARCHITECTURES
from sae.config import ToySource
from sae.data.toy import ToyBatches, build_toy_model
from sae.train import TrainSpec, save_trained_sae, train_sae

OPTIONS = {"matryoshka_prefixes": [0.25, 0.5], "standard_l1_init": 1.0}


@pytest.fixture(scope="module")
def toy():
    return build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model)


def spec(arch, samples=16384, l0=2, **kw):
    return TrainSpec(arch, d_in=20, width=8, l0=l0, seed=0, samples=samples, batch_size=256, lr=3e-3,
                     log_every=8, options=OPTIONS, **kw)


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_architecture_trains_saves_and_loads(arch, toy, tmp_path):
    torch.set_num_threads(1)
    result = train_sae(spec(arch), ToyBatches(toy, 256, seed=0), progress=False)
    first, last = result.curve[0], result.curve[-1]
    assert last["mse_loss"] < first["mse_loss"]
    assert result.samples_trained == 16384 and len(result.curve) == 8
    save_trained_sae(result, tmp_path / "sae")
    loaded = SAE.load_from_disk(str(tmp_path / "sae"))
    # the inference format may fold decoder norms into the encoder: directions must survive
    unit = torch.nn.functional.normalize
    assert torch.allclose(unit(loaded.W_dec, dim=1), unit(result.sae.W_dec, dim=1), atol=1e-5)
    if arch in ("topk", "batchtopk", "matryoshka_batchtopk"):
        assert last["l0"] == pytest.approx(2.0, abs=1e-6)


def test_standard_controller_steers_l0_towards_target(toy):
    low = train_sae(spec("standard", samples=65536, l0=1), ToyBatches(toy, 256, seed=0), progress=False)
    high = train_sae(spec("standard", samples=65536, l0=4), ToyBatches(toy, 256, seed=0), progress=False)
    assert low.curve[-1]["l0"] < high.curve[-1]["l0"]
    assert low.curve[-1]["l1_coefficient"] > high.curve[-1]["l1_coefficient"]


def test_same_seed_gives_bit_identical_weights(toy):
    a = train_sae(spec("batchtopk"), ToyBatches(toy, 256, seed=0), progress=False)
    b = train_sae(spec("batchtopk"), ToyBatches(toy, 256, seed=0), progress=False)
    c = train_sae(spec("batchtopk"), ToyBatches(toy, 256, seed=1), progress=False)
    assert torch.equal(a.sae.W_dec, b.sae.W_dec) and torch.equal(a.sae.W_enc, b.sae.W_enc)
    assert not torch.equal(a.sae.W_dec, c.sae.W_dec)


class Killed(Exception):
    pass


class KillAfter:
    """Batches that raise after `n` draws, as a SIGKILL would stop the job."""

    def __init__(self, inner, n):
        self.inner, self.n = inner, n

    def __next__(self):
        if self.n == 0:
            raise Killed
        self.n -= 1
        return next(self.inner)

    def state_dict(self):
        return self.inner.state_dict()

    def load_state_dict(self, state):
        self.inner.load_state_dict(state)


@pytest.mark.parametrize("arch", ["batchtopk", "standard"])
def test_resume_after_kill_equals_uninterrupted(arch, toy, tmp_path):
    s = spec(arch, checkpoints=3)
    full = train_sae(s, ToyBatches(toy, 256, seed=0), progress=False)
    with pytest.raises(Killed):
        train_sae(s, KillAfter(ToyBatches(toy, 256, seed=0), 40), tmp_path, progress=False)
    assert (tmp_path / "latest").exists()
    resumed = train_sae(s, ToyBatches(toy, 256, seed=0), tmp_path, progress=False)
    assert resumed.resumed_from_samples == 32 * 256  # the checkpoint at step 32 of 64
    assert torch.equal(resumed.sae.W_dec, full.sae.W_dec)
    assert resumed.curve == full.curve
