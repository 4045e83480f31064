"""wsae in the grid: γ from the first batches' per-dimension variances, α = 0 is the standard SAE's loss."""

import pytest
import torch
from sae_lens.saes.sae import TrainStepInput

from sae.architectures import build_training_sae


def step(sae, x):
    return sae.training_forward_pass(TrainStepInput(x, {"l1": 0.0}, None, 0, False))


def test_gamma_comes_from_the_first_batches_and_then_stays():
    torch.manual_seed(0)
    sae = build_training_sae("wsae", d_in=3, width=4, l0=2, options={"alpha": 1.0, "score_batches": 1})
    x = torch.randn(20000, 3) * torch.tensor([1.0, 2.0, 4.0])
    out = step(sae, x)
    # s = min variance / variance = [1, 1/4, 1/16]; γ = s / mean(s)
    s = torch.tensor([1.0, 0.25, 0.0625])
    assert sae.gamma.tolist() == pytest.approx((s / s.mean()).tolist(), rel=0.05)
    expected = ((out.sae_out - x).pow(2) * sae.gamma).sum(-1).mean()
    assert out.losses["mse_loss"].item() == pytest.approx(expected.item(), rel=1e-5)
    before = sae.gamma.clone()
    step(sae, torch.randn(100, 3))
    assert torch.equal(sae.gamma, before)


def test_alpha_zero_is_the_plain_sae():
    torch.manual_seed(0)
    wsae = build_training_sae("wsae", d_in=3, width=4, l0=2, options={"alpha": 0.0})
    torch.manual_seed(0)
    plain = build_training_sae("standard", d_in=3, width=4, l0=2, options={})
    x = torch.randn(64, 3) * torch.tensor([1.0, 2.0, 4.0])
    assert step(wsae, x).losses["mse_loss"].item() == pytest.approx(step(plain, x).losses["mse_loss"].item())
