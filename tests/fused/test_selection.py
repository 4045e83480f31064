import pytest
import torch

import sae.fused.selection
from sae.fused.selection import (
    KthTracker,
    Scratch,
    kth_largest_by_sampling_R,
    kth_largest_near_R,
    kth_largest_padded_R,
    kth_largest_R,
    member_rows,
)


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
    assert torch.equal(kth_largest_padded_R(values, k), expected)
    assert torch.equal(kth_largest_R(values, k), expected)
    sampled = kth_largest_by_sampling_R(values, k)
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
        found = kth_largest_near_R(values, k, guess, rho, Scratch())
        if found is not None:
            assert torch.equal(found[0], expected)
            assert found[1].shape == (6,) and bool((found[1] > 0).all())
    # a good guess must close (the training step relies on it, or it pays for the full selection)
    assert kth_largest_near_R(values[2:], k[2:], close[2:], density[2:], Scratch()) is not None


def test_kth_tracker_is_exact_step_after_step(monkeypatch):
    """BatchTopK's per-step search: exact on every step, and after the first, from the last step's answer."""
    full_selections = []
    original = sae.fused.selection.kth_largest_R
    monkeypatch.setattr(sae.fused.selection, "kth_largest_R", lambda *a: full_selections.append(1) or original(*a))
    gen = torch.Generator().manual_seed(3)
    tracker, scratch = KthTracker(), Scratch()
    k = torch.tensor([500, 4_000, 16_000])
    for step in range(20):
        values = torch.randn(3, 20_000, generator=gen) * (1 + 0.01 * step) + 0.02 * step  # a drifting batch
        assert torch.equal(tracker(values, k, scratch), _kth_by_sort(values, k))
    assert len(full_selections) == 1


def test_sampled_selection_reuses_scratch_buffers_correctly():
    """The training step reuses one scratch across steps: a second call must not see the first's masks."""
    gen = torch.Generator().manual_seed(1)
    scratch = Scratch()
    for shift in (0.0, 3.0):
        values = torch.randn(4, 30_000, generator=gen) + shift
        k = torch.tensor([1, 500, 15_000, 29_999])
        expected = _kth_by_sort(values, k)
        assert torch.equal(kth_largest_R(values, k, scratch), expected)


def test_member_rows_is_a_view_for_both_layouts():
    batch_major = torch.randn(3, 5, 7)
    latent_major = torch.randn(3, 7, 5).transpose(1, 2)
    for values in (batch_major, latent_major):
        rows = member_rows(values)
        assert rows.shape == (3, 35) and rows.data_ptr() == values.data_ptr()
        for g in range(3):
            assert torch.equal(rows[g].sort().values, values[g].flatten().sort().values)
