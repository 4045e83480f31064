import pytest
import torch

from sae.config import ToySource
from sae.data.toy import ToyBatches, build_toy_model
from sae.evaluate import evaluate_sae
from sae.metrics.ground_truth.main import feature_cosines, ground_truth_metrics, ground_truth_sae
from tests.factories import experiment, toy_context


@pytest.fixture(scope="module")
def large_toy():
    return build_toy_model(ToySource.model_validate({"preset": "sbw_large"}).model)


def test_ground_truth_sae_scores_mcc_one(large_toy):
    sae = ground_truth_sae(large_toy.feature_vectors_FD, l0=11)
    m = ground_truth_metrics(sae.W_dec, large_toy.feature_vectors_FD)
    assert m["mcc"] == pytest.approx(1.0, abs=1e-5)
    assert m["features_recovered_0.9"] == 50


def test_ground_truth_sae_reconstructs_at_generous_k(large_toy):
    batches = [next(ToyBatches(large_toy, 2048, seed=7)) for _ in range(2)]
    exp = experiment(source={"preset": "sbw_large"}, grid={"architecture": ["batchtopk"], "width": [50], "l0": [5]})

    def metrics(l0):
        return evaluate_sae(toy_context(ground_truth_sae(large_toy.feature_vectors_FD, l0=l0), batches, large_toy),
                            exp)[0]

    loose, tight = metrics(40), metrics(5)
    assert loose["s_n"] == 25  # width // 2
    # k far above the true L0 (10.95) keeps every active feature: exact reconstruction
    assert loose["variance_explained"] > 0.9999
    assert loose["l0_measured"] <= 40 + 1e-6
    assert loose["c_dec"] == pytest.approx(0.0, abs=1e-6)
    # k = 5 drops true features: the ground truth pays in MSE (Sparse-but-wrong sec. 4)
    assert tight["mse"] > 1.0 and tight["l0_measured"] == pytest.approx(5.0, abs=1e-6)


def test_random_decoder_scores_low_mcc(large_toy):
    W = torch.randn(50, 100, generator=torch.Generator().manual_seed(0))
    m = ground_truth_metrics(W, large_toy.feature_vectors_FD)
    assert m["mcc"] < 0.5 and m["features_recovered_0.9"] == 0


def test_feature_cosines_of_permuted_features_is_a_permutation(large_toy):
    perm = torch.randperm(50, generator=torch.Generator().manual_seed(1))
    cos = feature_cosines(-2 * large_toy.feature_vectors_FD[perm], large_toy.feature_vectors_FD)
    assert torch.allclose(cos, torch.eye(50)[perm], atol=1e-5)


def test_evaluation_exports_the_cosines(large_toy):
    batches = [next(ToyBatches(large_toy, 512, seed=7))]
    exp = experiment(source={"preset": "sbw_large"}, grid={"architecture": ["batchtopk"], "width": [50], "l0": [11]})
    metrics, tensors = evaluate_sae(toy_context(ground_truth_sae(large_toy.feature_vectors_FD, 11), batches, large_toy),
                                    exp)
    assert tensors["ground_truth.cos_HF"].shape == (50, 50) and metrics["mcc"] == pytest.approx(1.0, abs=1e-5)
