"""The WSAE study's metrics as a registered per-SAE metric: a perfect SAE on an orthonormal toy scores perfectly."""

import pytest
import torch

from sae.architectures import build_training_sae
from sae.config import ToySource
from sae.data.toy import build_toy_model
from sae.metrics.feature_recovery.main import compute, own_dimension
from sae.metrics.feature_recovery.spec import FeatureRecoveryConfig
from tests.factories import toy_context


def test_the_true_features_as_a_relu_sae_recover_every_feature_exactly():
    model = build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model)
    sae = build_training_sae("standard", d_in=20, width=5, l0=None, options={})
    with torch.no_grad():  # orthonormal features, non-negative coefficients: ReLU(x · f_i) is coefficient i
        sae.W_dec.copy_(model.feature_vectors_FD)
        sae.W_enc.copy_(model.feature_vectors_FD.T)
        sae.b_enc.zero_()
        sae.b_dec.zero_()
    values = compute(toy_context(sae, [], model), FeatureRecoveryConfig(samples=4096))
    assert values["l_gt"] < 1e-10 and values["l_gt_monosemantic"] < 1e-10 and values["x_p_error"] < 1e-9
    assert values["monosemanticity"] == pytest.approx(1.0)
    assert values["feature_sparsity"] == pytest.approx(0.6)  # p = 0.4 for every feature


def test_own_dimension_is_orthogonality_to_every_other_feature():
    features = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1]])
    assert own_dimension(features).tolist() == [True, False, False, True]


def test_it_is_off_unless_asked_for():
    assert not FeatureRecoveryConfig().enabled
