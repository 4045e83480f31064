"""`open_source`: toy models and activation stores behind one interface, as every job opens them."""

from __future__ import annotations

import math

import pytest
import torch

from sae.config import ToySource
from sae.data.sources import StoreData, ToyData, open_source
from sae.data.store import ActivationStore
from sae.data.toy import build_toy_model
from tests.data.test_store import D, _ids, _write_store

TOY = ToySource.model_validate({"preset": "sbw_small"})


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("toy")
    build_toy_model(TOY.model).save(directory)
    return directory


def test_toy_source_exposes_its_ground_truth(toy_dir):
    data = open_source(TOY, toy_dir, "cpu")
    assert isinstance(data, ToyData) and data.kind == "toy"
    assert data.d_model == 20 and data.true_features_FD.shape == (5, 20)
    assert data.true_l0 == pytest.approx(2.0)  # 5 features firing with p = 0.4


def test_toy_heldout_batches_depend_only_on_the_seed(toy_dir):
    data = open_source(TOY, toy_dir, "cpu")
    a, b, c = data.heldout_batches(2, 64, 3), data.heldout_batches(2, 64, 3), data.heldout_batches(2, 64, 4)
    assert [x.shape for x in a] == [(64, 20)] * 2
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])


def test_toy_training_batches_scale_and_resume(toy_dir):
    data = open_source(TOY, toy_dir, "cpu")
    plain, scaled = data.training_batches(32, 0), data.training_batches(32, 0, scale=2.5)
    first = next(plain)
    assert torch.allclose(next(scaled), 2.5 * first)
    state = scaled.state_dict()
    expected = next(scaled)
    resumed = data.training_batches(32, 0, scale=2.5)
    resumed.load_state_dict(state)
    assert torch.equal(next(resumed), expected)


def test_toy_source_refuses_activation_normalisation(toy_dir):
    with pytest.raises(ValueError, match="activation store"):
        open_source(TOY, toy_dir, "cpu").activation_scale(normalize=True)
    assert open_source(TOY, toy_dir, "cpu").activation_scale(normalize=False) == 1.0


@pytest.fixture
def store_source(tmp_path):
    _write_store(tmp_path / "store", tokens=1000, heldout=200)
    return open_source(type("LLMSource", (), {"kind": "llm"})(), tmp_path / "store", "cpu")


def test_store_source_has_no_ground_truth(store_source):
    assert isinstance(store_source, StoreData) and store_source.kind == "llm"
    assert store_source.true_features_FD is None and store_source.true_l0 is None and store_source.d_model == D


def test_store_heldout_batches_are_the_heldout_tail_in_whole_batches(store_source):
    batches = store_source.heldout_batches(n_batches=3, batch_size=64, seed=0)
    # 3 * 64 = 192 of the 200 held-out rows, which follow the 800 training rows
    assert [b.shape[0] for b in batches] == [64, 64, 64]
    assert _ids(torch.cat(batches)) == list(range(800, 992))


def test_store_heldout_smaller_than_a_batch_is_one_batch(store_source):
    batches = store_source.heldout_batches(n_batches=1, batch_size=500, seed=0)
    assert len(batches) == 1 and _ids(batches[0]) == list(range(800, 1000))


def test_store_training_batches_never_read_the_heldout_rows(store_source):
    batches = store_source.training_batches(batch_size=100, seed=1)
    seen = {i for _ in range(8) for i in _ids(next(batches))}
    assert seen == set(range(800))


def test_store_activation_scale_is_sqrt_d_over_mean_norm(store_source, tmp_path):
    mean_norm = ActivationStore(tmp_path / "store").mean_norm
    assert store_source.activation_scale(normalize=True) == pytest.approx(math.sqrt(D) / mean_norm)
    assert store_source.activation_scale(normalize=False) == 1.0
