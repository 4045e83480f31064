"""Parent/child cosines: hand-made decoders, then absorption in a BatchTopK SAE at low L0 on the balance toy."""

import math

import pytest
import torch

from sae.config import ToySource
from sae.config.sources import HierarchyNode
from sae.data.toy import ToyBatches, build_toy_model
from sae.evaluate import evaluate_sae
from sae.metrics.ground_truth.main import ground_truth_sae
from sae.metrics.hierarchy.main import hierarchy_cosines, parent_child_pairs
from sae.train.loop import train_sae
from sae.train.spec import TrainSpec
from sae.train.start import TrueFeatures
from tests.factories import experiment, toy_context


def test_pairs_walk_every_edge():
    tree = HierarchyNode.model_validate({"feature": 0, "children": [{"feature": 1, "children": [{"feature": 3}]},
                                                                    {"feature": 2}]})
    assert parent_child_pairs([tree]) == [(0, 1), (0, 2), (1, 3)]


def test_hedging_and_absorption_signs_on_hand_made_latents():
    eye = torch.eye(3)
    s = 1 / math.sqrt(2)
    # latent 0 tracks the parent and hedges (+ child 1 in its decoder), its encoder absorbs (- child 2)
    W_dec = torch.tensor([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [s, 0.0, s]])
    W_enc = torch.tensor([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).T
    got = hierarchy_cosines(W_dec, W_enc, eye, [(0, 1), (0, 2)])
    assert got["parent_child_dec_cos"] == pytest.approx((0.5 / math.sqrt(1.25) + 0) / 2)
    assert got["parent_child_enc_cos"] == pytest.approx(-s / 2)
    assert got["parent_child_enc_cos_min"] == pytest.approx(-s)
    assert got["child_parent_dec_cos"] == pytest.approx(s / 2)  # child 1's latent is clean, child 2's carries the parent


def test_a_narrow_child_shares_the_parent_latent_and_is_left_out_of_the_child_score():
    got = hierarchy_cosines(torch.eye(2)[:1], torch.eye(2)[:, :1], torch.eye(2), [(0, 1)])
    assert "child_parent_dec_cos" not in got and got["parent_child_dec_cos"] == 0


@pytest.fixture(scope="module")
def balance_toy():
    return build_toy_model(ToySource.model_validate({"preset": "balance"}).model)


def test_batchtopk_at_low_l0_absorbs_where_the_ground_truth_does_not(balance_toy):
    """Issue 10 item 5. k = 0.25 is below the toy's true L0 (0.3625): firing the parent and a child
    together costs two of the batch's slots, so a child latent takes in the parent direction and the
    parent latent's encoder learns to subtract the children (Chanin et al. 2024, absorption)."""
    exp = experiment(source={"preset": "balance"}, grid={"architecture": ["batchtopk"], "width": [4], "l0": [0.25]})
    heldout = [next(ToyBatches(balance_toy, 1024, seed=9))]
    spec = TrainSpec("batchtopk", d_in=50, width=4, l0=0.25, seed=0, samples=300 * 1024, batch_size=1024, lr=3e-3,
                     start=TrueFeatures(balance_toy.feature_vectors_FD))
    trained = train_sae(spec, ToyBatches(balance_toy, 1024, seed=0), progress=False).sae
    absorbing = evaluate_sae(toy_context(trained, heldout, balance_toy), exp)[0]
    truth = evaluate_sae(toy_context(ground_truth_sae(balance_toy.feature_vectors_FD, l0=0.25), heldout, balance_toy),
                         exp)[0]
    assert absorbing["parent_child_enc_cos_min"] < -0.3 and absorbing["child_parent_dec_cos"] > 0.3
    assert truth["parent_child_enc_cos_min"] == pytest.approx(0, abs=1e-6)
    assert truth["child_parent_dec_cos"] == pytest.approx(0, abs=1e-6)
