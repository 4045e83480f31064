"""WSAE: the superposed toy, monosemanticity scores, weights, the weighted loss inside SAELens, the study metrics."""

import pytest
import torch
from sae_lens.saes.sae import TrainStepInput

from sae.architectures import build_training_sae
from sae.config import ToySource
from sae.data.toy import ToyBatches, build_toy_model
from sae.metrics.feature_recovery.main import own_dimension
from sae.wsae.data import superposition
from sae.wsae.evaluate import wsae_metrics
from sae.wsae.weights import dimension_weights, variance_score, weighted_mse


def superposed_toy(sparsity):
    return build_toy_model(ToySource.model_validate({"preset": "wsae_superposition", "sparsity": sparsity}).model)


def test_superposition_has_unit_columns_and_the_tms_geometry():
    W_p = superposition(monosemantic=4, antipodal_pairs=2, pentagons=1)
    assert W_p.shape == (8, 13)
    assert torch.allclose(W_p.norm(dim=0), torch.ones(13), atol=1e-6)
    assert own_dimension(W_p.T).tolist() == [True] * 4 + [False] * 9
    # features per dimension: 1 on the monosemantic ones, 2 on the pairs', 5 and 4 on the pentagon's (sin 0 = 0)
    assert (W_p.abs() > 1e-6).sum(dim=1).tolist() == [1, 1, 1, 1, 2, 2, 5, 4]


def test_the_preset_draws_features_zero_with_probability_s_else_uniform():
    model = superposed_toy(0.7)
    assert torch.equal(model.feature_vectors_FD, superposition().T)
    x_p, x = ToyBatches(model, 100_000, seed=0).next_with_features()
    assert (x == 0).float().mean().item() == pytest.approx(0.7, abs=0.01)
    assert x[x > 0].mean().item() == pytest.approx(0.5, abs=0.01) and x.max() <= 1
    assert x[x > 0].std().item() == pytest.approx(12 ** -0.5, abs=0.01)  # U[0, 1]
    assert torch.allclose(x_p, x @ superposition().T, atol=1e-6)


def test_s_zero_fires_every_feature():
    _, x = ToyBatches(superposed_toy(0.0), 1000, seed=0).next_with_features()
    assert (x > 0).all()


def test_the_variance_score_reads_about_one_over_the_features_on_a_dimension():
    x_p = next(ToyBatches(superposed_toy(0.5), 400_000, seed=1))
    # a pentagon dimension has Σcos² = 2.5 features' variance: the proxy reads 1/2.5 there
    assert variance_score(x_p).tolist() == pytest.approx([1, 1, 1, 1, 0.5, 0.5, 0.4, 0.4], abs=0.02)


def test_weights_have_mean_one_and_alpha_zero_is_the_plain_sae():
    score = torch.tensor([1.0, 0.5, 0.25, 0.25])
    assert dimension_weights(score, 0.0).tolist() == [1, 1, 1, 1]
    assert dimension_weights(score, 1.0).tolist() == pytest.approx([2, 1, 0.5, 0.5])


def test_sae_lens_trains_on_the_weighted_error():
    sae = build_training_sae("standard", d_in=2, width=3, l0=None, options={})
    sae.mse_loss_fn = weighted_mse(torch.tensor([2.0, 0.5]))
    x = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    out = sae.training_forward_pass(TrainStepInput(x, {"l1": 0.0}, None, 0, False))
    expected = ((out.sae_out - x).pow(2) * torch.tensor([2.0, 0.5])).sum(-1).mean()
    assert out.losses["mse_loss"].item() == pytest.approx(expected.item())


def test_an_sae_holding_the_true_features_has_zero_ground_truth_error():
    W_p = superposition(monosemantic=5, antipodal_pairs=0, pentagons=0)
    sae = build_training_sae("standard", d_in=5, width=5, l0=None, options={})
    with torch.no_grad():
        sae.W_enc.copy_(torch.eye(5)[[2, 0, 1, 4, 3]].T)  # latents in another order: matching finds them
        sae.W_dec.copy_(torch.eye(5)[[2, 0, 1, 4, 3]])
        sae.b_enc.zero_()
        sae.b_dec.zero_()
    x = torch.rand(4096, 5, generator=torch.Generator().manual_seed(2)) * (torch.rand(4096, 5) > 0.5)
    m = wsae_metrics(sae, x, x @ W_p.T, own_dimension(W_p.T))
    assert m["l_gt"] < 1e-10 and m["l_gt_monosemantic"] < 1e-10 and m["x_p_error"] < 1e-10
    assert m["monosemanticity"] == pytest.approx(1.0)
