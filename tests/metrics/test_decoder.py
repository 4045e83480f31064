import math

import pytest
import torch

from sae.metrics.decoder.main import c_dec, s_n_dec


def test_orthonormal_decoder_has_zero_c_dec():
    q, _ = torch.linalg.qr(torch.randn(16, 16))
    assert c_dec(q[:10]) == pytest.approx(0.0, abs=1e-6)


def test_c_dec_hand_computed():
    # pairs: (e0, e1) cos 0, (e0, (e0+e1)/sqrt2) cos 1/sqrt2, (e1, ...) cos 1/sqrt2 -> mean sqrt2/3
    W = torch.tensor([[1.0, 0.0], [0.0, 3.0], [1.0, 1.0]])
    assert c_dec(W) == pytest.approx(math.sqrt(2) / 3, rel=1e-6)


def test_c_dec_counts_negative_cosines_by_magnitude():
    assert c_dec(torch.tensor([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(1.0)


def test_duplicated_rows_raise_c_dec():
    q, _ = torch.linalg.qr(torch.randn(8, 8))
    clean = q[:6]
    duplicated = torch.cat([q[:5], q[:1]])
    assert c_dec(clean) < 1e-6 < 0.05 < c_dec(duplicated)
    # one identical pair out of 15 pairs
    assert c_dec(duplicated) == pytest.approx(1 / 15, abs=1e-6)


def test_c_dec_chunking_matches_dense():
    W = torch.randn(37, 12)
    Wn = W / W.norm(dim=1, keepdim=True)
    cos = (Wn @ Wn.T).abs()
    dense = (cos.sum() - cos.diagonal().sum()).item() / (37 * 36)
    assert c_dec(W, chunk_size=5) == pytest.approx(dense, rel=1e-6)


def test_s_n_dec_constructed_batch():
    # unit decoder rows e0, e1, e2 (the second is given with norm 2: it must be normalised)
    W = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    b_dec = torch.tensor([1.0, 0.0, 0.0])
    x = torch.tensor([[6.0, 2.0, 3.0], [2.0, 4.0, 0.0]])
    # Z = (x - b_dec) W_n^T = [[5, 2, 3], [1, 4, 0]]; sorted desc: 5 4 3 2 1 0
    assert s_n_dec(W, b_dec, x, n=1) == pytest.approx(4.0)  # (1*2)-th largest
    with pytest.raises(ValueError):
        s_n_dec(W, b_dec, x, n=3)


def test_s_n_dec_is_the_nb_th_largest():
    torch.manual_seed(0)
    W, b, x = torch.randn(20, 8), torch.randn(8), torch.randn(30, 8)
    Z = ((x - b) @ (W / W.norm(dim=1, keepdim=True)).T).flatten().sort(descending=True).values
    assert s_n_dec(W, b, x, n=7) == pytest.approx(Z[7 * 30 - 1].item(), rel=1e-6)


def test_s_n_dec_of_a_standardising_sae_takes_x_in_its_standardised_space():
    """b_dec of a standardising SAE is in standardised units: x − b_dec needs x standardised too."""
    from types import SimpleNamespace

    from sae.architectures import build_training_sae
    from sae.metrics.decoder.main import compute
    from sae.metrics.decoder.spec import DecoderConfig

    torch.manual_seed(0)
    sae = build_training_sae("top_afa", d_in=6, width=8, l0=None, options={"standardize": True}).eval()
    with torch.no_grad():
        sae.b_dec.copy_(torch.randn(6))
    x = torch.randn(32, 6) * 50 + 3
    standardised = (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + 1e-5)
    value = compute(SimpleNamespace(sae=sae, batches=[x]), DecoderConfig(s_n=3))["s_n_dec"]
    assert value == pytest.approx(s_n_dec(sae.W_dec, sae.b_dec, standardised, 3), rel=1e-5)
    assert value != pytest.approx(s_n_dec(sae.W_dec, sae.b_dec, x, 3), rel=1e-2)


def test_s_n_dec_of_a_plain_sae_takes_the_raw_input():
    from types import SimpleNamespace

    from sae.architectures import build_training_sae
    from sae.metrics.decoder.main import compute
    from sae.metrics.decoder.spec import DecoderConfig

    torch.manual_seed(0)
    sae = build_training_sae("top_afa", d_in=6, width=8, l0=None, options={"standardize": False}).eval()
    x = torch.randn(32, 6) * 50 + 3
    value = compute(SimpleNamespace(sae=sae, batches=[x]), DecoderConfig(s_n=3))["s_n_dec"]
    assert value == pytest.approx(s_n_dec(sae.W_dec, sae.b_dec, x, 3), rel=1e-6)
