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


def test_topk_wsae_weights_the_error_by_hand():
    """x = [[4, 2], [1, 3]], k = 1, identity weights: the kept latents are 4 and 3, the errors (0, 2) and (1, 0).

    Variances (unbiased) [4.5, 0.5]: s = [1/9, 1], γ = s / mean(s) = [0.2, 1.8] at α = 1, so the loss is
    mean(1.8 · 2², 0.2 · 1²) = 3.7 (the plain TopK SAE's: mean(4, 1) = 2.5).
    """
    sae = build_training_sae("wsae_topk", d_in=2, width=2, l0=1, options={"alpha": 1.0, "score_batches": 1})
    with torch.no_grad():
        sae.W_enc.copy_(torch.eye(2))
        sae.W_dec.copy_(torch.eye(2))
        sae.b_enc.zero_()
        sae.b_dec.zero_()
    out = step(sae, torch.tensor([[4.0, 2.0], [1.0, 3.0]]))
    assert sae.gamma.tolist() == pytest.approx([0.2, 1.8])
    assert out.sae_out.tolist() == [[4.0, 0.0], [0.0, 3.0]]
    assert out.losses["mse_loss"].item() == pytest.approx(3.7)


def test_topk_wsae_trains_and_loads_with_sae_lens_in_a_fresh_process(tmp_path):
    import subprocess
    import sys

    from sae.train.loop import train_sae
    from sae.train.spec import TrainSpec

    class Batches:
        def __init__(self):
            self.gen = torch.Generator().manual_seed(0)

        def __next__(self):
            return torch.randn(64, 6, generator=self.gen) * torch.linspace(0.5, 2.0, 6)

    spec = TrainSpec("wsae_topk", d_in=6, width=8, l0=2, seed=0, samples=64 * 20, batch_size=64, lr=1e-3,
                     options={"alpha": 1.0, "score_batches": 2})
    sae = train_sae(spec, Batches(), progress=False).sae
    assert type(sae).__name__ == "WSAETopKTrainingSAE" and sae.score_batches_seen == 2
    sae.save_inference_model(str(tmp_path / "sae"))
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    torch.save(sae.decode(sae.encode(x)).detach(), tmp_path / "expected.pt")
    code = ("import sys, torch, sae; from sae_lens import SAE; s = SAE.load_from_disk(sys.argv[1] + '/sae'); "
            "x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1)); "
            "assert torch.allclose(s.decode(s.encode(x)), torch.load(sys.argv[1] + '/expected.pt'), atol=1e-5); "
            "print(type(s).__name__, s.cfg.k)")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["TopKSAE", "2"]
