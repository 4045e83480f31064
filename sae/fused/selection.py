"""Top-k selection kernels (each row's k-th largest value, by several exact methods) and step-sized scratch buffers.

Shape suffixes: G group members, B batch, H width (d_sae), R rows, N values per row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

# Top-k selection over long rows (BatchTopK's B * H values) looks at a spread 1/16 sample
# first and brackets the k-th largest within +-4 standard deviations of its rank there.
_MIN_ROW_FOR_SAMPLING = 8192
_SAMPLE_STRIDE = 16
_SAMPLE_PRIME = 1_000_003
_SAMPLE_MARGIN_SIGMAS = 4.0
# Searching from last step's threshold (`kth_largest_near_R`): at most 12 counting passes; after 3,
# up to 6 rows within 32 values of k finish with a top-k (cheaper than the passes that would close them).
_NEAR_MAX_PASSES = 12
_NEAR_FINISH_AFTER = 3
_NEAR_FINISH_ROWS = 6
_NEAR_FINISH_SPAN = 32
_NEAR_MIN_DENSITY_SPAN = 4
_DENSITY_HALF_WIDTH = 2e-3
_DENSITY_MIN_HALF_WIDTH = 1e-3


# ---------------------------------------------------------------- scratch memory


class Scratch:
    """Step-sized tensors reused every step, by name.

    On CPU a fresh multi-MB tensor is fresh memory from the OS, and its first touch
    page-faults every 4 KiB page: measured ~5 ms for one [24, 1024, 100] float tensor,
    as long as the matmul that fills it. Writing into the same buffers every step keeps
    elementwise passes at memory speed. `matmul_out` is None (so `out=None` allocates)
    under autocast, whose matmuls choose their own output dtype.
    """

    def __init__(self, matmul_outputs: bool = True):
        self.matmul_outputs = matmul_outputs
        self._buffers: dict[str, torch.Tensor] = {}
        # not memory, but kept across steps in the same way: where the next BatchTopK search starts
        self.batch_topk = KthTracker()

    def matmul_out(self, name: str, shape: Sequence[int], like: torch.Tensor) -> torch.Tensor | None:
        return self(name, shape, like) if self.matmul_outputs else None

    def __call__(self, name: str, shape: Sequence[int], like: torch.Tensor,
                 dtype: torch.dtype | None = None) -> torch.Tensor:
        dtype = dtype or like.dtype
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != tuple(shape) or buffer.dtype != dtype or buffer.device != like.device:
            buffer = self._buffers[name] = torch.empty(tuple(shape), dtype=dtype, device=like.device)
        return buffer

    def like(self, name: str, like: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """A buffer with `like`'s shape and memory layout, so elementwise passes run in memory order."""
        dtype = dtype or like.dtype
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != like.shape or buffer.stride() != like.stride() or buffer.dtype != dtype:
            buffer = self._buffers[name] = torch.empty_like(like, dtype=dtype)
        return buffer


# ---------------------------------------------------------------- selection


def kth_largest_padded_R(values_RN: torch.Tensor, k_R: torch.Tensor) -> torch.Tensor:
    """The k_r-th largest value of each row, with a different k per row, in one batched top-k.

    Padding row r with (k_max - k_r) copies of +inf makes its k_max-th largest value
    the k_r-th largest of the original row; k_r copies of -inf keep rows equally long.
    An unsorted top-k is a linear-time selection, far cheaper than sorting.
    """
    k_max = int(k_R.max())
    slot_K = torch.arange(k_max, device=values_RN.device)
    pad_RK = torch.where(slot_K < (k_max - k_R)[:, None], math.inf, -math.inf).to(values_RN.dtype)
    padded_RN = torch.cat([values_RN, pad_RK], dim=-1)
    return padded_RN.topk(k_max, dim=-1, sorted=False).values.amin(dim=-1)


def kth_largest_by_sampling_R(values_RN: torch.Tensor, k_R: torch.Tensor,
                              scratch: Scratch | None = None) -> torch.Tensor | None:
    """Floyd-Rivest-style selection: a strided sample brackets each row's k-th largest value.

    If fewer than k values lie above the bracket and at least k lie at or above its
    bottom, the k-th largest is the (k - above)-th largest inside the bracket, and only
    those few values need a top-k. Exact, ties included; None when a bracket misses.
    """
    scratch = scratch or Scratch()
    R, N = values_RN.shape
    S = N // _SAMPLE_STRIDE
    # A prime step spreads the sample over every latent; a plain stride sharing a factor with
    # the width would see only some latents, whose activations differ in scale.
    index_S = torch.arange(S, device=values_RN.device) * _SAMPLE_PRIME % N
    sample_RS = values_RN[:, index_S]
    expected_R = k_R.double() * S / N
    margin_R = _SAMPLE_MARGIN_SIGMAS * expected_R.sqrt() + 2
    top_rank_R = (expected_R - margin_R).floor().clamp(min=1, max=S).long()
    bottom_rank_R = (expected_R + margin_R).ceil().clamp(min=1, max=S).long()
    # two linear-time selections on the small sample; a sorted top-k of it costs twice as much
    top_R1 = kth_largest_padded_R(sample_RS, top_rank_R)[:, None]
    bottom_R1 = kth_largest_padded_R(sample_RS, bottom_rank_R)[:, None]
    count_dtype = _count_dtype(N)
    above_RN = torch.gt(values_RN, top_R1, out=scratch("above", (R, N), values_RN, count_dtype))
    at_least_bottom_RN = torch.ge(values_RN, bottom_R1, out=scratch("at_least_bottom", (R, N), values_RN, count_dtype))
    n_above_R = above_RN.sum(dim=-1).long()
    n_inside_R = at_least_bottom_RN.sum(dim=-1).long() - n_above_R
    if not bool(((n_above_R < k_R) & (k_R <= n_above_R + n_inside_R)).all()):
        return None
    # above is a subset of at-least-bottom, so where they differ is the bracket
    inside_RN = torch.ne(at_least_bottom_RN, above_RN, out=scratch("inside", (R, N), values_RN, torch.bool))
    # nonzero keeps row-major order, so each row's bracket is one contiguous run (masked_select
    # would again count the mask in int64 first).
    flat_M = inside_RN.view(-1).nonzero()[:, 0]
    inside_M = values_RN.reshape(-1)[flat_M]
    row_M = flat_M // N
    start_R = torch.cumsum(n_inside_R, 0) - n_inside_R
    slot_M = torch.arange(len(inside_M), device=values_RN.device) - start_R[row_M]
    inside_RW = values_RN.new_full((R, int(n_inside_R.max())), -math.inf)
    inside_RW[row_M, slot_M] = inside_M
    return kth_largest_padded_R(inside_RW, k_R - n_above_R)


def kth_largest_R(values_RN: torch.Tensor, k_R: torch.Tensor, scratch: Scratch | None = None) -> torch.Tensor:
    if values_RN.shape[1] >= _MIN_ROW_FOR_SAMPLING:
        found_R = kth_largest_by_sampling_R(values_RN, k_R, scratch)
        if found_R is not None:
            return found_R
    return kth_largest_padded_R(values_RN, k_R)


def _count_dtype(n: int) -> torch.dtype:
    # 0/1 floats sum exactly below 2^24, and far faster than a bool mask (summed in int64)
    return torch.float32 if n < 2**24 else torch.float64


def kth_largest_near_R(values_RN: torch.Tensor, k_R: torch.Tensor, guess_R: torch.Tensor, density_R: torch.Tensor,
                       scratch: Scratch) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Each row's k-th largest value, searched from a guess close to it; None if the search does not close.

    count(t) = #(values >= t) costs one compare into a float buffer and one sum. Newton
    steps on the count (with `density_R`, values per unit near the guess) bracket the
    answer, interpolation inside the bracket narrows it, and a row is done once some t
    holds exactly k values: the k-th largest is then the smallest value at or above t.
    Rows left a few values off (ties, or unlucky gaps) finish with a small top-k. Exact,
    like `kth_largest_R`. Returns the values and a fresh density estimate.
    """
    R, N = values_RN.shape
    count = scratch("near_count", (R, N), values_RN, _count_dtype(N))
    k_f = k_R.to(count.dtype)
    guess_R = guess_R.to(count.dtype)
    # lo: the highest t seen holding at least k values (at first -inf, holding all N); hi: the lowest holding fewer
    lo_R, count_lo_R = torch.full_like(k_f, -math.inf), torch.full_like(k_f, N)
    hi_R, count_hi_R = torch.full_like(k_f, math.inf), torch.zeros_like(k_f)
    t_R = guess_R
    for step in range(_NEAR_MAX_PASSES):
        count_R = torch.ge(values_RN, t_R[:, None].to(values_RN.dtype), out=count).sum(dim=-1)
        if step == 0:
            count_at_guess_R = count_R
        elif step == 1:  # the first Newton step spans dozens of values: a good density for the next search
            moved_R = (count_R - count_at_guess_R).abs()
            measured_R = moved_R / (t_R - guess_R).abs()
            density_R = torch.where((moved_R >= _NEAR_MIN_DENSITY_SPAN) & measured_R.isfinite(), measured_R, density_R)
        at_least_R = count_R >= k_f
        lo_R, count_lo_R = torch.where(at_least_R, t_R, lo_R), torch.where(at_least_R, count_R, count_lo_R)
        hi_R, count_hi_R = torch.where(at_least_R, hi_R, t_R), torch.where(at_least_R, count_hi_R, count_R)
        open_R = count_lo_R != k_f
        n_open = int(open_R.sum())
        if n_open == 0 or (n_open <= _NEAR_FINISH_ROWS and step >= _NEAR_FINISH_AFTER
                           and bool((count_lo_R - k_f < _NEAR_FINISH_SPAN).all())):
            break
        excess_R = count_R - k_f
        # one value past the target, so that the next pass usually brackets
        newton_R = t_R + (excess_R + excess_R.sign()) / density_R
        inside_R = lo_R + (hi_R - lo_R) * ((count_lo_R - k_f) / (count_lo_R - count_hi_R))
        t_R = torch.where(lo_R.isfinite() & hi_R.isfinite(), inside_R, newton_R)
    else:
        return None
    # The k-th largest is the j-th smallest value at or above lo, j = count_lo - k + 1 (1 for closed rows).
    # Values below lo are pushed out of reach by adding the largest float: exact for those kept (+ 0).
    pushed_RN = torch.lt(values_RN, lo_R[:, None].to(values_RN.dtype), out=count).mul_(torch.finfo(count.dtype).max)
    pushed_RN.add_(values_RN)
    kth_R = pushed_RN.amin(dim=-1)
    if n_open:
        rows_O = open_R.nonzero()[:, 0]
        j_O = (count_lo_R[rows_O] - k_f[rows_O]).long() + 1
        smallest_OJ = pushed_RN[rows_O].topk(int(j_O.max()), dim=-1, largest=False, sorted=True).values
        kth_R[rows_O] = smallest_OJ.gather(1, (j_O - 1)[:, None])[:, 0]
    return kth_R.to(values_RN.dtype), density_R


def _density_near_R(values_RN: torch.Tensor, at_R: torch.Tensor, scratch: Scratch) -> torch.Tensor:
    """Values per unit within +-0.2% of `at_R` (at least one value's worth): the first Newton step's slope."""
    R, N = values_RN.shape
    count = scratch("near_count", (R, N), values_RN, _count_dtype(N))
    half_R = (at_R.abs().to(count.dtype) * _DENSITY_HALF_WIDTH).clamp(min=_DENSITY_MIN_HALF_WIDTH)
    n_R = (torch.ge(values_RN, (at_R - half_R)[:, None].to(values_RN.dtype), out=count).sum(dim=-1)
           - torch.ge(values_RN, (at_R + half_R)[:, None].to(values_RN.dtype), out=count).sum(dim=-1))
    return n_R.clamp(min=1) / (2 * half_R)


class KthTracker:
    """BatchTopK's per-member threshold, step after step: each step's search starts at the last step's answer.

    Consecutive batches' k-th largest pre-activations lie a few dozen ranks apart, so
    `kth_largest_near_R` closes in about seven counting passes (5-11 over 1,000 sbw_large
    steps; ~1.5-2 ms for 24 members of 51,200 values on 2 threads, against ~5.5 ms for a
    fresh `kth_largest_R`). Holds no training state:
    results are exact whatever the guess, so checkpoints do not need it.
    """

    def __init__(self) -> None:
        self.guess_R: torch.Tensor | None = None
        self.density_R: torch.Tensor | None = None

    def __call__(self, values_RN: torch.Tensor, k_R: torch.Tensor, scratch: Scratch) -> torch.Tensor:
        found = None
        if self.guess_R is not None and self.density_R is not None:
            found = kth_largest_near_R(values_RN, k_R, self.guess_R, self.density_R, scratch)
        if found is None:
            kth_R = kth_largest_R(values_RN, k_R, scratch)
            self.density_R = _density_near_R(values_RN, kth_R, scratch)
        else:
            kth_R, self.density_R = found
        self.guess_R = kth_R
        return kth_R


def _positive_from(threshold: torch.Tensor) -> torch.Tensor:
    """A threshold t' with (h >= t') == (h >= t and h > 0): the kept values that survive the ReLU."""
    smallest_positive = torch.nextafter(threshold.new_zeros(()), threshold.new_ones(()))
    return threshold.clamp(min=smallest_positive)


def member_rows(values_GBH: torch.Tensor) -> torch.Tensor:
    """Each member's B * H values as one row [G, N], in memory order: a view for a [G, B, H] or [G, H, B] layout.

    Selection by value does not care about the order within a row.
    """
    latent_major_GHB = values_GBH.transpose(1, 2)
    return (latent_major_GHB if latent_major_GHB.is_contiguous() else values_GBH).reshape(len(values_GBH), -1)


def batch_topk_mask(hidden_pre_GBH: torch.Tensor, n_keep_G: torch.Tensor,
                    scratch: Scratch | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """SAELens `BatchTopK` (ReLU, then each member's int(k * B) largest values of the batch), as a mask.

    The k-th largest ReLU output is the ReLU of the k-th largest pre-activation, so the
    selection runs on pre-activations and the mask holds exactly the nonzero outputs.
    Selecting by value equals SAELens's index selection except at exact ties on the
    boundary. Returns the mask and each member's k-th largest pre-activation.
    """
    scratch = scratch or Scratch()
    kth_G = scratch.batch_topk(member_rows(hidden_pre_GBH), n_keep_G, scratch)
    active_GBH = scratch.like("active", hidden_pre_GBH, torch.float32)
    return torch.ge(hidden_pre_GBH, _positive_from(kth_G)[:, None, None], out=active_GBH), kth_G


def topk_mask(hidden_pre_GBH: torch.Tensor, k_G: torch.Tensor, scratch: Scratch | None = None) -> torch.Tensor:
    """SAELens `TopK` (each sample's k largest pre-activations, then ReLU), as a mask of nonzero outputs."""
    scratch = scratch or Scratch()
    G, B, H = hidden_pre_GBH.shape
    kth_GB = kth_largest_R(hidden_pre_GBH.reshape(G * B, H), k_G.repeat_interleave(B)).view(G, B)
    active_GBH = scratch.like("active", hidden_pre_GBH, torch.float32)
    return torch.ge(hidden_pre_GBH, _positive_from(kth_GB)[..., None], out=active_GBH)


def aux_keep_mask(hidden_pre_GBH: torch.Tensor, dead_GH: torch.Tensor, k_aux_G: torch.Tensor) -> torch.Tensor:
    """`calculate_topk_aux_acts`'s support: each sample's k_aux largest pre-activations among dead latents."""
    G, B, _ = hidden_pre_GBH.shape
    dead_GBH = dead_GH[:, None, :].expand_as(hidden_pre_GBH)
    if bool((k_aux_G >= dead_GH.sum(-1)).all()):
        return dead_GBH  # every dead latent is kept (always so when d_in // 2 >= width)
    candidates_GBH = torch.where(dead_GBH, hidden_pre_GBH, -math.inf)
    threshold_GB = kth_largest_R(candidates_GBH.reshape(G * B, -1), k_aux_G.repeat_interleave(B)).view(G, B)
    return dead_GBH & (hidden_pre_GBH >= threshold_GB[..., None])
