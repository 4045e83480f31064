"""Fused group training against SAELens single training, on tiny toys (CPU, seconds).

Tolerances: fused and single training run the same maths in a different
floating-point order (batched matmuls, b_dec and decoder norms folded into the
weights, norms reduced per member). Over these 200 steps, dead latents and aux
loss included, that moved logged values by at most 1e-5 relative (typically
2e-7) and weights by at most 2.1e-7 absolute (weights are O(0.1-1)). We assert
rtol 1e-4 on every logged curve value and atol 2e-6 on the final weights: about 10x
above the observed noise, far below any real difference (a wrong k, clip or
Adam state moves them by >1e-3 within a few steps).
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from sae_lens import SAE

from sae.architectures import build_training_sae
from sae.data.toy import ToyBatches
from sae.fused.loop import train_fused
from sae.fused.plan import FUSED_ARCHITECTURES, FusionError
from sae.fused.state import GROUP_STATE_FILE
from sae.train.loop import train_sae
from tests.factories import FUSED_BATCH as BATCH
from tests.factories import KillAfter, Killed, fused_group, fused_spec

CURVE_RTOL = 1e-4
WEIGHT_ATOL = 2e-6


def assert_curves_match(single, fused):
    assert len(single) == len(fused)
    for a, b in zip(single, fused):
        assert a.keys() == b.keys()
        for key in a:
            assert b[key] == pytest.approx(a[key], rel=CURVE_RTOL, abs=1e-7), (key, a["step"])


@pytest.mark.parametrize("arch", FUSED_ARCHITECTURES)
def test_fused_group_matches_single_training(arch, toy, tmp_path):
    specs = fused_group(arch)
    fused = train_fused(specs, ToyBatches(toy, BATCH, seed=0), progress=False)
    exercised_aux = False
    for s, f in zip(specs, fused):
        single = train_sae(s, ToyBatches(toy, BATCH, seed=0), progress=False)
        assert_curves_match(single.curve, f.curve)
        for name in ("W_enc", "W_dec", "b_enc", "b_dec"):
            assert torch.allclose(getattr(f.sae, name), getattr(single.sae, name), rtol=0, atol=WEIGHT_ATOL), name
        if arch == "batchtopk":
            assert f.sae.topk_threshold.item() == pytest.approx(single.sae.topk_threshold.item(), rel=CURVE_RTOL)
        assert f.sae.cfg.metadata.l0 == pytest.approx(single.sae.cfg.metadata.l0, rel=CURVE_RTOL)
        assert f.sae.cfg.metadata.num_dead_features == single.sae.cfg.metadata.num_dead_features
        assert f.samples_trained == single.samples_trained and f.resumed_from_samples == 0
        exercised_aux |= any(p["dead_features"] > 0 for p in f.curve)
    assert exercised_aux, "no member had dead latents: the aux loss was not compared"

    fused[0].sae.save_inference_model(tmp_path / "sae")
    loaded = SAE.load_from_disk(str(tmp_path / "sae"))
    assert loaded.cfg.d_sae == 16


@pytest.mark.parametrize("arch", FUSED_ARCHITECTURES)
def test_fused_init_is_bit_identical(arch, toy):
    specs = fused_group(arch, samples=BATCH - 1)  # zero steps: the SAEs come back as initialised
    fused = train_fused(specs, ToyBatches(toy, BATCH, seed=0), progress=False)
    for s, f in zip(specs, fused):
        torch.manual_seed(s.seed)
        alone = build_training_sae(s.architecture, s.d_in, s.width, s.l0, s.options)
        for name in ("W_enc", "W_dec", "b_enc", "b_dec"):
            assert torch.equal(getattr(f.sae, name), getattr(alone, name))


def test_group_resume_equals_uninterrupted_run(toy, tmp_path):
    specs = fused_group("batchtopk", checkpoints=1)  # checkpoint at step 100 of 200
    whole = train_fused(specs, ToyBatches(toy, BATCH, seed=0), progress=False)
    with pytest.raises(Killed):
        train_fused(specs, KillAfter(ToyBatches(toy, BATCH, seed=0), 150), checkpoint_dir=tmp_path, progress=False)
    assert (tmp_path / "latest" / GROUP_STATE_FILE).exists()
    resumed = train_fused(specs, ToyBatches(toy, BATCH, seed=0), checkpoint_dir=tmp_path, progress=False)
    for w, r in zip(whole, resumed):
        assert r.resumed_from_samples == 100 * BATCH
        assert r.curve == w.curve
        assert torch.equal(r.sae.W_dec, w.sae.W_dec) and torch.equal(r.sae.topk_threshold, w.sae.topk_threshold)


def test_resume_refuses_another_group(toy, tmp_path):
    train_fused(fused_group("batchtopk", checkpoints=1), ToyBatches(toy, BATCH, seed=0), checkpoint_dir=tmp_path,
                progress=False)
    other = [fused_spec("batchtopk", l0, checkpoints=1) for l0 in (4.0, 5.0, 6.0)]
    with pytest.raises(FusionError, match="l0"):
        train_fused(other, ToyBatches(toy, BATCH, seed=0), checkpoint_dir=tmp_path, progress=False)


def test_bf16_autocast_trains(toy):
    results = train_fused(fused_group("batchtopk", samples=50 * BATCH), ToyBatches(toy, BATCH, seed=0),
                          progress=False, autocast=True)
    for r in results:
        assert all(torch.isfinite(torch.tensor(p["loss"])) for p in r.curve)
        assert r.curve[-1]["mse_loss"] < r.curve[0]["mse_loss"]


def test_unfusable_groups_are_rejected_before_training(toy):
    with pytest.raises(FusionError, match="train_sae"):
        train_fused([fused_spec("standard", 2.0)], ToyBatches(toy, BATCH, seed=0), progress=False)
    mixed_widths = [fused_spec("topk", 2.0), dataclasses.replace(fused_spec("topk", 3.0), width=32)]
    with pytest.raises(FusionError, match="must share"):
        train_fused(mixed_widths, ToyBatches(toy, BATCH, seed=0), progress=False)
