"""The in-training L0 search moves k down the slope of s_n_dec and settles at its minimum."""

from types import SimpleNamespace

import pytest
import torch

from sae.architectures import ARCHITECTURES
from sae.architectures.batchtopk_l0_search import L0Search, L0SearchOptions
from sae.metrics.decoder import main as decoder


def fake_trainer(k):
    sae = SimpleNamespace(cfg=SimpleNamespace(k=k, d_sae=8), activation_fn=SimpleNamespace(k=k),
                          W_dec=torch.eye(8), b_dec=torch.zeros(8))
    return SimpleNamespace(sae=sae)


@pytest.mark.parametrize("drift", [0.0, 2e-4])
@pytest.mark.parametrize("start", [2.0, 12.0])
def test_k_settles_at_the_minimum_of_s_n_dec_even_while_training_lowers_it(monkeypatch, start, drift):
    trainer = fake_trainer(start)
    search = L0Search(trainer, start, L0SearchOptions(every=10, window=5, lr=0.3))
    # s_n_dec as a function of the current k with its minimum at 6, falling with training progress as it does
    # in a real run (a drift of 2e-3 per move, against 0.0025 for k 6.5 vs 6): the search sees only its values
    monkeypatch.setattr(decoder, "s_n_dec", lambda *args: (trainer.sae.cfg.k - 6.0) ** 2 / 10 - drift * search.steps)
    out = SimpleNamespace(sae_in=torch.zeros(4, 8))
    for _ in range(6000):
        search.update(out)
    assert trainer.sae.activation_fn.k == trainer.sae.cfg.k == search.k
    assert abs(search.k - search.centre) == 0.5  # k alternates either side of the searched value
    assert search.centre == pytest.approx(6.0, abs=0.7)


def test_search_is_a_registered_batchtopk_option_that_is_not_fused():
    spec = ARCHITECTURES["batchtopk_l0_search"]
    assert spec.registry_name == "batchtopk" and not spec.fusable and spec.training_callback is L0Search
    assert spec.sae_lens_fields(50, 11, L0SearchOptions()) == {"k": 11.0}
