import pytest
import torch

from sae.metrics.reconstruction.main import reconstruction_metrics


class ThresholdSAE:
    """Identity decoder, encoder keeps entries above 0.5: hand-computable metrics."""

    def encode(self, x):
        return torch.where(x > 0.5, x, torch.zeros_like(x))

    def decode(self, acts):
        return acts


def test_reconstruction_metrics_hand_computed():
    x = torch.tensor([[1.0, 0.2, 0.0], [0.0, 2.0, 0.4], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    m = reconstruction_metrics(ThresholdSAE(), x, batch_size=3)
    assert m["l0_measured"] == pytest.approx(3 / 4)
    assert m["dead_latents"] == 1.0 and m["dead_fraction"] == pytest.approx(1 / 3)
    # errors: 0.2^2 and 0.4^2
    assert m["mse"] == pytest.approx((0.04 + 0.16) / 4)
    total_var = ((x - x.mean(0)) ** 2).sum().item()
    assert m["variance_explained"] == pytest.approx(1 - 0.2 / total_var)
    # Sparse but Wrong's form divides by sum ||x||^2, not by the centred sum
    assert m["variance_explained_uncentred"] == pytest.approx(1 - 0.2 / (x**2).sum().item())
    assert m["variance_explained_uncentred"] != pytest.approx(m["variance_explained"])
