"""Warm starts: an extended SAE keeps its old latents' outputs at step 0; the toy's true features as weights."""

import pytest
import torch

from sae.architectures import build_training_sae, load_sae
from sae.train.start import NEW_LATENT_NORM, TrueFeatures, WarmStart
from tests.factories import TOY_D_IN


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    sae = build_training_sae("batchtopk", TOY_D_IN, width=8, l0=2, options={})
    with torch.no_grad():
        sae.b_enc.normal_()
        sae.b_dec.normal_()
        sae.topk_threshold.fill_(0.02)
    sae.save_inference_model(tmp_path / "trained")
    return load_sae(tmp_path / "trained"), tmp_path / "trained"


def test_extending_keeps_the_old_latents_outputs_at_step_zero(saved, tmp_path):
    trained, directory = saved
    torch.manual_seed(5)
    extended = build_training_sae("batchtopk", TOY_D_IN, width=11, l0=2, options={})
    WarmStart(directory, extend_by=3, seed=1).apply(extended)
    new_KD = extended.W_dec[8:].detach()
    assert new_KD.norm(dim=-1) == pytest.approx([NEW_LATENT_NORM] * 3)
    torch.testing.assert_close(extended.W_enc[:, 8:].detach(), new_KD.T)
    assert (extended.b_enc[8:] == 0).all()
    extended.save_inference_model(tmp_path / "extended")
    reloaded = load_sae(tmp_path / "extended")
    x = torch.randn(64, TOY_D_IN)
    acts_old, acts_new = trained.encode(x), reloaded.encode(x)
    assert (acts_old > 0).any()
    torch.testing.assert_close(acts_new[:, :8], acts_old)
    torch.testing.assert_close(reloaded.W_dec[:8], trained.W_dec)
    # the old latents' part of the reconstruction is the trained SAE's
    torch.testing.assert_close(reloaded.decode(torch.cat([acts_old, torch.zeros(64, 3)], dim=1)), trained.decode(acts_old))


def test_continuing_without_new_latents_starts_from_the_trained_weights(saved):
    trained, directory = saved
    again = build_training_sae("batchtopk", TOY_D_IN, width=8, l0=2, options={})
    WarmStart(directory).apply(again)
    for name in ("W_enc", "W_dec", "b_enc", "b_dec"):
        torch.testing.assert_close(getattr(again, name).detach(), getattr(trained, name))
    assert again.topk_threshold.item() == pytest.approx(0.02)


def test_a_scaled_run_starts_from_unfolded_weights(saved):
    trained, directory = saved
    again = build_training_sae("batchtopk", TOY_D_IN, width=8, l0=2, options={})
    WarmStart(directory, activation_scale=2.0).apply(again)
    torch.testing.assert_close(again.W_dec.detach(), trained.W_dec * 2)
    torch.testing.assert_close(again.W_enc.detach(), trained.W_enc / 2)


def test_the_width_must_fit_the_extension(saved):
    with pytest.raises(ValueError, match="expected 8 \\+ 2"):
        WarmStart(saved[1], extend_by=2).apply(build_training_sae("batchtopk", TOY_D_IN, 9, 2, {}))


def test_true_features_become_decoder_and_encoder(toy):
    sae = build_training_sae("batchtopk", TOY_D_IN, width=5, l0=2, options={})
    TrueFeatures(toy.feature_vectors_FD).apply(sae)
    torch.testing.assert_close(sae.W_dec.detach(), toy.feature_vectors_FD)
    torch.testing.assert_close(sae.W_enc.detach(), toy.feature_vectors_FD.T)
    with pytest.raises(ValueError, match="exceeds"):
        TrueFeatures(toy.feature_vectors_FD).apply(build_training_sae("batchtopk", TOY_D_IN, 6, 2, {}))
