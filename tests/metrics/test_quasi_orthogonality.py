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


def _standardising_ground_truth(d=6, h=5, seed=0):
    """A top-AFA SAE that standardises its input, with an orthonormal decoder: exact on centred inputs."""
    from sae.architectures import build_training_sae

    gen = torch.Generator().manual_seed(seed)
    # rows orthonormal and orthogonal to the all-ones direction (standardised inputs have zero mean)
    basis, _ = torch.linalg.qr(torch.cat([torch.ones(d, 1), torch.randn(d, d - 1, generator=gen)], dim=1))
    W_HD = basis[:, 1:].T[:h]
    sae = build_training_sae("top_afa", d_in=d, width=h, l0=None, options={"standardize": True})
    with torch.no_grad():
        sae.W_dec.copy_(W_HD)
        sae.W_enc.copy_(W_HD.T)
        sae.b_dec.zero_()
    return sae.eval(), W_HD


def test_a_standardising_sae_is_measured_in_its_standardised_input_space():
    """z and f̃ in one space: a standardising SAE that reconstructs its standardised input exactly has ε_LBO ≈ 0.

    Measured on the raw input (the old code) this SAE would score (‖x‖²/‖x_std‖² − 1)/(h − 1) ≫ 0: the scale gap.
    """
    sae, W_HD = _standardising_ground_truth()
    gen = torch.Generator().manual_seed(1)
    coeffs = torch.randn(256, 5, generator=gen).relu() + 0.01
    coeffs[:, -1] = 0.0  # top-AFA keeps at most h − 1 latents (the last cumulative sum is 1e8)
    x = (coeffs @ W_HD) * 40 + 7.0  # raw inputs far from unit scale, with a common offset
    ctx = toy_context(sae, [x], build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model))
    config = QuasiOrthogonalityConfig(zf_points=256)
    values, norms = compute(ctx, config), tensors(ctx, config)
    standardised = (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + 1e-5)
    assert torch.allclose(norms["norm_z"], standardised.norm(dim=-1), atol=1e-4)
    assert torch.allclose(norms["norm_z"], norms["norm_f"], atol=1e-3)
    assert values["eps_lbo_median"] < 1e-5 and values["normalised_mse"] < 1e-8
    assert sae.__dict__.get("ln_mu") is None  # the metric leaves no normalisation state on the SAE
    raw_eps = epsilon_lbo(x.norm(dim=-1), norms["norm_f"], 5).median().item()
    assert raw_eps > 10  # what the raw definition would report: the scale gap alone
    # the official notebook's check (`test_f_tilde`): ẑ = f̃ · [W_dec / ‖W_dec‖; b̂], here with b_dec = 0
    acts = sae.encode(x)
    assert torch.allclose(acts @ sae.W_dec + sae.b_dec, (acts * sae.W_dec.norm(dim=-1)) @ W_HD, atol=1e-5)


def test_official_f_tilde_check_holds_in_the_input_space_of_a_non_standardising_sae():
    """`test_f_tilde` of zf-plot.ipynb on a hand case with b_dec ≠ 0: ẑ = f̃ · [W_dec rows normalised; b̂]."""
    from sae.architectures import build_training_sae

    # a third latent that stays silent: top-AFA sets the last cumulative sum to 1e8, so k* < h
    sae = build_training_sae("top_afa", d_in=3, width=3, l0=None, options={"standardize": False}).eval()
    with torch.no_grad():
        sae.W_dec.copy_(torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0]]))
        sae.W_enc.copy_(torch.tensor([[0.5, 0.0, 0.0], [0.0, 1 / 3, 0.0], [0.0, 0.0, 1.0]]))
        sae.b_dec.copy_(torch.tensor([0.0, 0.0, 4.0]))
    # x = b_dec + 1·W_dec,0 + 1·W_dec,1 = [2, 3, 4]; a = [1, 1, 0]; f̃ = [2, 3, 0, 4]: ‖z‖ = ‖f̃‖ = √29
    x = torch.tensor([[2.0, 3.0, 4.0]])
    acts = sae.encode(x)
    f_tilde = torch.cat([acts[0] * sae.W_dec.norm(dim=-1), sae.b_dec.norm().reshape(1)])
    rows = torch.cat([sae.W_dec / sae.W_dec.norm(dim=-1, keepdim=True), (sae.b_dec / sae.b_dec.norm())[None]])
    assert torch.allclose(f_tilde @ rows, sae.decode(acts)[0])
    norms = tensors(toy_context(sae, [x], build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model)),
                    QuasiOrthogonalityConfig(zf_points=1))
    assert norms["norm_z"].item() == pytest.approx(29**0.5) and norms["norm_f"].item() == pytest.approx(29**0.5)


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
    assert (with_zeros["eps_lbo_inputs"], without["eps_lbo_inputs"]) == (512 + 300, 512)
    assert with_zeros["eps_lbo_median"] == pytest.approx(without["eps_lbo_median"])
    assert with_zeros["eps_lbo_median"] != pytest.approx(1 / (sae.cfg.d_sae - 1))
