"""ε_LBO: the quasi-orthogonality bound it rests on, hand-computed values, and ~0 for the ground truth of an orthonormal toy."""

import pytest
import torch

from sae.config import ToySource
from sae.data.toy import ToyBatches, build_toy_model
from sae.metrics.quasi_orthogonality.main import compute, epsilon_lbo, f_tilde_norm, tensors
from sae.metrics.quasi_orthogonality.spec import QuasiOrthogonalityConfig
from tests.factories import ground_truth_top_afa, toy_context


@pytest.mark.parametrize("seed", range(20))
def test_the_quasi_orthogonality_bound_holds_for_random_unit_dictionaries(seed):
    gen = torch.Generator().manual_seed(seed)
    h, d = [(3, 2), (8, 5), (40, 16), (64, 64)][seed % 4]
    W_hd = torch.nn.functional.normalize(torch.randn(h, d, generator=gen, dtype=torch.float64), dim=-1)
    eps = (W_hd @ W_hd.T - torch.eye(h, dtype=torch.float64)).abs().max()
    f_nh = torch.randn(100, h, generator=gen, dtype=torch.float64) * (torch.rand(100, h, generator=gen) < 0.5)
    z2, f2 = (f_nh @ W_hd).pow(2).sum(-1), f_nh.pow(2).sum(-1)
    assert torch.all((1 - eps * (h - 1)) * f2 <= z2 + 1e-9)
    assert torch.all(z2 <= (1 + eps * (h - 1)) * f2 + 1e-9)
    # so ε_LBO of every input is at most the dictionary's ε
    assert torch.all(epsilon_lbo(z2.sqrt(), f2.sqrt(), h).nan_to_num(0.0) <= eps + 1e-9)


def test_hand_computed_epsilon_lbo():
    # f̃ = [3·2, 0·1, ‖b_dec‖ = 8] -> ‖f̃‖² = 100; ‖z‖² = 64 + 36 + 21 = 121; h = 2
    norm_f = f_tilde_norm(torch.tensor([[3.0, 0.0]]), torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0.0, 8.0]))
    assert norm_f.item() == pytest.approx(10.0)
    assert epsilon_lbo(torch.tensor([11.0]), norm_f, h=2).item() == pytest.approx(21 / 100)
    assert epsilon_lbo(torch.tensor([0.0]), torch.tensor([0.0]), h=2).isnan().all()


def test_ground_truth_sae_of_an_orthonormal_toy_has_epsilon_lbo_near_zero():
    toy = build_toy_model(ToySource.model_validate({"preset": "sbw_large"}).model)
    batches = [next(ToyBatches(toy, 2048, seed=5)) for _ in range(2)]
    ctx = toy_context(ground_truth_top_afa(toy.feature_vectors_FD), batches, toy)
    config = QuasiOrthogonalityConfig(zf_points=100)
    values = compute(ctx, config)
    assert values["eps_lbo_mean"] < 1e-6 and values["eps_lbo_median"] < 1e-6 and values["normalised_mse"] < 1e-10
    norms = tensors(ctx, config)
    assert norms["norm_z"].shape == (100,) and torch.allclose(norms["norm_z"], norms["norm_f"], atol=1e-5)


def test_a_standardising_sae_is_measured_on_the_raw_input():
    """Official `visualization/zf-plot.ipynb`: z is the hooked activation as is, f = sae.encode(z)."""
    from sae.architectures import build_training_sae

    torch.manual_seed(0)
    sae = build_training_sae("top_afa", d_in=6, width=8, l0=None, options={"standardize": True}).eval()
    z = torch.randn(64, 6) * 50 + 3
    norms = tensors(toy_context(sae, [z], build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model)),
                    QuasiOrthogonalityConfig(zf_points=64))
    assert torch.allclose(norms["norm_z"], z.norm(dim=-1))
    acts = sae.encode(z)  # standardised inside: f̃ is in standardised units
    f_tilde = ((acts * sae.W_dec.norm(dim=-1)).pow(2).sum(-1) + sae.b_dec.pow(2).sum()).sqrt()
    assert torch.allclose(norms["norm_f"], f_tilde, atol=1e-4)


def test_inputs_that_are_exactly_zero_are_left_out_of_epsilon_lbo_and_counted():
    """z = 0 with b_dec ≠ 0 gives 1/(h − 1) by construction (balance_toy's five SAEs all sat at 1/3)."""
    toy = build_toy_model(ToySource.model_validate({"preset": "sbw_large"}).model)
    batch = next(ToyBatches(toy, 512, seed=5))
    sae = ground_truth_top_afa(toy.feature_vectors_FD)
    with torch.no_grad():
        sae.b_dec.add_(0.1)
    zeros = torch.zeros(300, batch.shape[1])
    with_zeros = compute(toy_context(sae, [batch, zeros], toy), QuasiOrthogonalityConfig())
    without = compute(toy_context(sae, [batch], toy), QuasiOrthogonalityConfig())
    assert with_zeros["eps_lbo_zero_inputs"] == 300 + without["eps_lbo_zero_inputs"]
    assert with_zeros["eps_lbo_median"] == pytest.approx(without["eps_lbo_median"])
    assert with_zeros["eps_lbo_median"] != pytest.approx(1 / (sae.cfg.d_sae - 1))
