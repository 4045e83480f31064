"""Warm starts: an extended SAE keeps its old latents' outputs at step 0; the toy's true features as weights."""

import pytest
import torch

from sae.architectures import build_training_sae, load_sae
from sae.train.start import NEW_LATENT_NORM, TrueFeatures, WarmStart, new_latent_weights
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
    # SAELens's BatchTopK rescales by decoder norms: unit decoder rows, the paper's encoder columns 0.1·ĝ
    assert new_KD.norm(dim=-1) == pytest.approx([1.0] * 3)
    torch.testing.assert_close(extended.W_enc[:, 8:].detach(), NEW_LATENT_NORM * new_KD.T)
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


def _paper_selection_value(x, b_dec, g_KD):
    """What the paper's BatchTopkSAE selects a new latent on: its pre-activation (x − b_dec)·(0.1·ĝ), b_enc 0."""
    return (x - b_dec) @ (NEW_LATENT_NORM * g_KD / g_KD.norm(dim=-1, keepdim=True)).T


def test_new_latents_are_selected_on_the_papers_value(saved):
    """SAELens's BatchTopK selects on hidden_pre·‖W_dec,i‖: with the paper's 0.1·ĝ for both weights that is
    0.01·x·ĝ, ten times less than the paper's `BatchTopkSAE` (no rescaling) selects on."""
    trained, directory = saved
    extended = build_training_sae("batchtopk", TOY_D_IN, width=11, l0=2, options={})
    assert extended.cfg.rescale_acts_by_decoder_norm
    WarmStart(directory, extend_by=3, seed=1).apply(extended)
    g_KD = torch.randn(3, TOY_D_IN, generator=torch.Generator().manual_seed(1))
    x = torch.randn(64, TOY_D_IN)
    # SAELens's encode_with_hidden_pre returns the rescaled pre-activation that BatchTopK selects on
    _, selected_on = extended.encode_with_hidden_pre(x)
    torch.testing.assert_close(selected_on[:, 8:].detach(), _paper_selection_value(x, trained.b_dec, g_KD))
    # the paper's weights as they are would be selected on a tenth of it
    paper = build_training_sae("batchtopk", TOY_D_IN, width=11, l0=2, options={})
    WarmStart(directory, extend_by=3, seed=1, new_latent_init="paper_weights").apply(paper)
    _, selected_on = paper.encode_with_hidden_pre(x)
    torch.testing.assert_close(selected_on[:, 8:].detach(),
                               NEW_LATENT_NORM * _paper_selection_value(x, trained.b_dec, g_KD))


def test_without_rescaling_the_new_latents_take_the_papers_weights():
    g_KD = torch.randn(4, 6)
    unit = g_KD / g_KD.norm(dim=-1, keepdim=True)
    for init in ("paper_selection", "paper_weights"):
        enc_DK, dec_KD = new_latent_weights(g_KD, init, rescaled=False)
        torch.testing.assert_close(enc_DK, NEW_LATENT_NORM * unit.T)
        torch.testing.assert_close(dec_KD, NEW_LATENT_NORM * unit)


@pytest.mark.parametrize("preset, sign", [("sbw_small", 1), ("sbw_small_neg", -1)])
def test_from_the_true_features_the_gradient_mixes_f0_in_below_the_true_l0(preset, sign):
    """Sparse but Wrong's controlled small-toy run: started at the ground truth, BatchTopK at k 1.8 < true L0 2
    pulls a component of f0 (its sign: the correlation's) into the latents of f1..f4; at k 2 they stay clean."""
    from sae.config import ToySource
    from sae.data.toy import ToyBatches, build_toy_model
    from sae.train.loop import train_sae
    from sae.train.spec import TrainSpec

    toy = build_toy_model(ToySource.model_validate({"preset": preset}).model)
    f0_share = {}
    for k in (1.8, 2.0):
        spec = TrainSpec("batchtopk", d_in=TOY_D_IN, width=5, l0=k, seed=0, samples=600 * 1024, batch_size=1024,
                         lr=3e-4, start=TrueFeatures(toy.feature_vectors_FD))
        W_dec = train_sae(spec, ToyBatches(toy, 1024, seed=0), progress=False).sae.W_dec.detach()
        f0_share[k] = (torch.nn.functional.normalize(W_dec[1:], dim=-1) @ toy.feature_vectors_FD[0]) * sign
    assert (f0_share[1.8] > 0.05).all() and (f0_share[2.0].abs() < 0.03).all()
