"""WSAE: the superposed toy, monosemanticity scores, weights, the weighted loss inside SAELens, the study metrics."""

import pytest
import torch
from sae_lens.saes.sae import TrainStepInput

from sae.architectures import build_training_sae
from sae.wsae.data import sample_features, superpose, superposition
from sae.wsae.evaluate import wsae_metrics
from sae.wsae.study import StudyConfig, mean_over_seeds, run_study
from sae.wsae.weights import dimension_weights, oracle_score, variance_score, weighted_mse


def test_superposition_has_unit_columns_and_the_tms_geometry():
    model = superposition(monosemantic=4, antipodal_pairs=2, pentagons=1)
    assert model.W_p_DF.shape == (8, 13)
    assert torch.allclose(model.W_p_DF.norm(dim=0), torch.ones(13), atol=1e-6)
    assert model.monosemantic_F.tolist() == [True] * 4 + [False] * 9
    # sin(0) = 0: one pentagon feature has no weight on the second dimension
    assert oracle_score(model).tolist() == pytest.approx([1, 1, 1, 1, 0.5, 0.5, 0.2, 0.25])


def test_features_are_zero_with_probability_s_else_uniform():
    x = sample_features(200_000, 3, 0.7, torch.Generator().manual_seed(0))
    assert (x == 0).float().mean().item() == pytest.approx(0.7, abs=0.01)
    assert x[x > 0].mean().item() == pytest.approx(0.5, abs=0.01) and x.max() <= 1


def test_the_variance_score_estimates_the_oracle_on_the_antipodal_and_monosemantic_dimensions():
    model = superposition()
    x_p = superpose(sample_features(400_000, model.num_features, 0.5, torch.Generator().manual_seed(1)), model)
    # a pentagon dimension has Σcos² = 2.5 features' variance: the proxy reads 1/2.5 where the oracle says 1/5
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
    model = superposition(monosemantic=5, antipodal_pairs=0, pentagons=0)
    sae = build_training_sae("standard", d_in=5, width=5, l0=None, options={})
    with torch.no_grad():
        sae.W_enc.copy_(torch.eye(5)[[2, 0, 1, 4, 3]].T)  # latents in another order: matching finds them
        sae.W_dec.copy_(torch.eye(5)[[2, 0, 1, 4, 3]])
        sae.b_enc.zero_()
        sae.b_dec.zero_()
    x = sample_features(4096, 5, 0.5, torch.Generator().manual_seed(2))
    m = wsae_metrics(sae, x, superpose(x, model), model.monosemantic_F)
    assert m["l_gt"] < 1e-10 and m["l_gt_monosemantic"] < 1e-10 and m["x_p_error"] < 1e-10
    assert m["monosemanticity"] == pytest.approx(1.0)


def test_the_study_runs_and_averages_over_seeds():
    rows = run_study(StudyConfig(sparsities=(0.9,), alphas=(0.0, 1.0), seeds=(0, 1), samples=2048, batch_size=256))
    assert len(rows) == 4 and all(r["l_gt"] >= 0 for r in rows)
    curves = mean_over_seeds(rows, "l_gt")
    assert curves[0.0][0][1] == pytest.approx((rows[0]["l_gt"] + rows[1]["l_gt"]) / 2)
