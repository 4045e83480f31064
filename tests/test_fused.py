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

import sae.fused
import sae.train
from sae.architectures import build_training_sae
from sae.config import ToySource
from sae.data.toy import ToyBatches, build_toy_model
from sae.fused import (
    FUSED_ARCHITECTURES,
    FusionError,
    _kth_largest_by_sampling_R,
    _kth_largest_near_R,
    _kth_largest_padded_R,
    _kth_largest_R,
    _KthTracker,
    _member_rows,
    _Scratch,
    estimate_group_bytes,
    fusable,
    plan_groups,
    train_fused,
)
from sae.train import TrainSpec, train_sae

CURVE_RTOL = 1e-4
WEIGHT_ATOL = 2e-6
BATCH = 64
L0S = (1.0, 2.0, 3.0)


@pytest.fixture(scope="module")
def toy():
    return build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model)


@pytest.fixture(autouse=True)
def short_windows(monkeypatch):
    """Shrink SAELens's dead-latent (1000 steps) and sparsity (2000) windows, in both trainers.

    Otherwise a 200-step test would never see a dead latent, and the TopK auxiliary
    loss and the window reset would go untested.
    """
    original = sae.train._trainer_config

    def short(spec):
        return dataclasses.replace(original(spec), dead_feature_window=10, feature_sampling_window=60)

    monkeypatch.setattr(sae.train, "_trainer_config", short)
    monkeypatch.setattr(sae.fused, "_trainer_config", short)
    torch.set_num_threads(1)


def spec(arch, l0, samples=200 * BATCH, **kw):
    return TrainSpec(arch, d_in=20, width=16, l0=l0, seed=0, samples=samples, batch_size=BATCH, lr=3e-3,
                     log_every=10, **kw)


def group(arch, **kw):
    return [spec(arch, l0, **kw) for l0 in L0S]


def assert_curves_match(single, fused):
    assert len(single) == len(fused)
    for a, b in zip(single, fused):
        assert a.keys() == b.keys()
        for key in a:
            assert b[key] == pytest.approx(a[key], rel=CURVE_RTOL, abs=1e-7), (key, a["step"])


@pytest.mark.parametrize("arch", FUSED_ARCHITECTURES)
def test_fused_group_matches_single_training(arch, toy, tmp_path):
    specs = group(arch)
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
    specs = group(arch, samples=BATCH - 1)  # zero steps: the SAEs come back as initialised
    fused = train_fused(specs, ToyBatches(toy, BATCH, seed=0), progress=False)
    for s, f in zip(specs, fused):
        torch.manual_seed(s.seed)
        alone = build_training_sae(s.architecture, s.d_in, s.width, s.l0, s.options)
        for name in ("W_enc", "W_dec", "b_enc", "b_dec"):
            assert torch.equal(getattr(f.sae, name), getattr(alone, name))


class _Interrupt(Exception):
    pass


def _stop_after(batches, n):
    """The batch stream, but the job is killed when it asks for batch n + 1."""

    class Stopping:
        def __init__(self):
            self.served = 0

        def __next__(self):
            if self.served == n:
                raise _Interrupt
            self.served += 1
            return next(batches)

        def state_dict(self):
            return batches.state_dict()

        def load_state_dict(self, state):
            batches.load_state_dict(state)

    return Stopping()


def test_group_resume_equals_uninterrupted_run(toy, tmp_path):
    specs = group("batchtopk", checkpoints=1)  # checkpoint at step 100 of 200
    whole = train_fused(specs, ToyBatches(toy, BATCH, seed=0), progress=False)
    with pytest.raises(_Interrupt):
        train_fused(specs, _stop_after(ToyBatches(toy, BATCH, seed=0), 150), checkpoint_dir=tmp_path, progress=False)
    assert (tmp_path / "latest" / sae.fused.GROUP_STATE_FILE).exists()
    resumed = train_fused(specs, ToyBatches(toy, BATCH, seed=0), checkpoint_dir=tmp_path, progress=False)
    for w, r in zip(whole, resumed):
        assert r.resumed_from_samples == 100 * BATCH
        assert r.curve == w.curve
        assert torch.equal(r.sae.W_dec, w.sae.W_dec) and torch.equal(r.sae.topk_threshold, w.sae.topk_threshold)


def test_resume_refuses_another_group(toy, tmp_path):
    train_fused(group("batchtopk", checkpoints=1), ToyBatches(toy, BATCH, seed=0), checkpoint_dir=tmp_path,
                progress=False)
    other = [spec("batchtopk", l0, checkpoints=1) for l0 in (4.0, 5.0, 6.0)]
    with pytest.raises(FusionError, match="l0"):
        train_fused(other, ToyBatches(toy, BATCH, seed=0), checkpoint_dir=tmp_path, progress=False)


def test_bf16_autocast_trains(toy):
    results = train_fused(group("batchtopk", samples=50 * BATCH), ToyBatches(toy, BATCH, seed=0), progress=False,
                          autocast=True)
    for r in results:
        assert all(torch.isfinite(torch.tensor(p["loss"])) for p in r.curve)
        assert r.curve[-1]["mse_loss"] < r.curve[0]["mse_loss"]


def test_unsupported_architectures_are_rejected_clearly(toy):
    assert not fusable(spec("standard", 2.0)) and fusable(spec("topk", 2.0))
    with pytest.raises(FusionError, match="train_sae"):
        train_fused([spec("standard", 2.0)], ToyBatches(toy, BATCH, seed=0), progress=False)
    mixed_widths = [spec("topk", 2.0), dataclasses.replace(spec("topk", 3.0), width=32)]
    with pytest.raises(FusionError, match="must share"):
        train_fused(mixed_widths, ToyBatches(toy, BATCH, seed=0), progress=False)


def test_plan_groups_splits_over_budget_and_keeps_unfusable_alone():
    specs = [dataclasses.replace(spec("batchtopk", l0), seed=seed) for seed in (0, 1) for l0 in (1, 2, 3, 4, 5)]
    specs.append(spec("standard", 2.0))
    roomy = plan_groups(specs, memory_budget_bytes=10**12)
    assert sorted(len(g) for g in roomy) == [1, 5, 5]
    assert all(len({s.seed for s in g}) == 1 for g in roomy)

    per_member = estimate_group_bytes(specs[:1])
    tight = plan_groups(specs, memory_budget_bytes=int(2.5 * per_member))
    # five points of a seed, at most two per group: 2 + 2 + 1, and the standard SAE alone
    assert sorted(len(g) for g in tight) == [1, 1, 1, 2, 2, 2, 2]
    assert all(estimate_group_bytes(g) <= 2.5 * per_member for g in tight)
    assert sorted(specs, key=repr) == sorted((s for g in tight for s in g), key=repr)


def _kth_by_sort(values, k):
    return torch.stack([row.sort(descending=True).values[kr - 1] for row, kr in zip(values, k)])


@pytest.mark.parametrize("n", [1_000, 20_000])
def test_kth_largest_matches_sort_with_ties_and_zeros(n):
    gen = torch.Generator().manual_seed(0)
    values = torch.randn(6, n, generator=gen).relu()
    values[:3] = (values[:3] * 4).round() / 4  # many exact ties
    k = torch.randint(1, n, (6,), generator=gen)
    k[0] = n  # fewer positives than k: the answer is zero
    expected = _kth_by_sort(values, k)
    assert torch.equal(_kth_largest_padded_R(values, k), expected)
    assert torch.equal(_kth_largest_R(values, k), expected)
    sampled = _kth_largest_by_sampling_R(values, k)
    assert sampled is None or torch.equal(sampled, expected)


def test_kth_search_from_a_guess_is_exact_or_gives_up():
    gen = torch.Generator().manual_seed(2)
    values = torch.randn(6, 20_000, generator=gen)
    values[:2] = (values[:2] * 8).round() / 8  # ties straddling the k-th value
    k = torch.tensor([1, 3_000, 10_000, 10_001, 19_999, 20_000])
    expected = _kth_by_sort(values, k)
    density = torch.full((6,), 20_000 / 6.0)  # values per unit near the middle of N(0, 1) samples
    close = expected + 1e-3 * torch.randn(6, generator=gen)
    for guess, rho in [(expected, density), (close, density), (close, density * 50), (close, density / 50),
                       (expected + 2.0, density), (torch.zeros(6), density)]:
        found = _kth_largest_near_R(values, k, guess, rho, _Scratch())
        if found is not None:
            assert torch.equal(found[0], expected)
            assert found[1].shape == (6,) and bool((found[1] > 0).all())
    # a good guess must close (the training step relies on it, or it pays for the full selection)
    assert _kth_largest_near_R(values[2:], k[2:], close[2:], density[2:], _Scratch()) is not None


def test_kth_tracker_is_exact_step_after_step(monkeypatch):
    """BatchTopK's per-step search: exact on every step, and after the first, from the last step's answer."""
    full_selections = []
    original = sae.fused._kth_largest_R
    monkeypatch.setattr(sae.fused, "_kth_largest_R", lambda *a: full_selections.append(1) or original(*a))
    gen = torch.Generator().manual_seed(3)
    tracker, scratch = _KthTracker(), _Scratch()
    k = torch.tensor([500, 4_000, 16_000])
    for step in range(20):
        values = torch.randn(3, 20_000, generator=gen) * (1 + 0.01 * step) + 0.02 * step  # a drifting batch
        assert torch.equal(tracker(values, k, scratch), _kth_by_sort(values, k))
    assert len(full_selections) == 1


def test_sampled_selection_reuses_scratch_buffers_correctly():
    """The training step reuses one scratch across steps: a second call must not see the first's masks."""
    gen = torch.Generator().manual_seed(1)
    scratch = _Scratch()
    for shift in (0.0, 3.0):
        values = torch.randn(4, 30_000, generator=gen) + shift
        k = torch.tensor([1, 500, 15_000, 29_999])
        expected = _kth_by_sort(values, k)
        assert torch.equal(_kth_largest_R(values, k, scratch), expected)


def test_member_rows_is_a_view_for_both_layouts():
    batch_major = torch.randn(3, 5, 7)
    latent_major = torch.randn(3, 7, 5).transpose(1, 2)
    for values in (batch_major, latent_major):
        rows = _member_rows(values)
        assert rows.shape == (3, 35) and rows.data_ptr() == values.data_ptr()
        for g in range(3):
            assert torch.equal(rows[g].sort().values, values[g].flatten().sort().values)
