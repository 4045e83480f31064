"""Fused training: a group of SAEs that share one batch stream, trained as stacked tensors.

Every grid point of an experiment and seed sees the same batches, and one toy SAE
is far too small to keep a CPU (let alone a GPU) busy: SAELens's per-step cost is
Python overhead, batch generation and small kernels. Stacking G SAEs into
[G, ...] parameters makes one step a handful of batched kernels for the whole
group, with the batch drawn once.

The maths is SAELens's (`TopKTrainingSAE` / `BatchTopKTrainingSAE`
`training_forward_pass` and `SAETrainer._train_step`), written over a leading
group axis G: each member keeps its own k, initialisation (built by SAELens from
its seed, exactly as `sae.train.train_sae` does), per-SAE gradient clipping, Adam
state, dead-latent counters and BatchTopK threshold. Adam is elementwise and all
members step together, so one Adam over the stacked tensors is per-SAE Adam.
Results differ from single training only by floating-point reordering (batched
matmuls, b_dec and decoder norms folded into the weights, norms reduced in
another order) and by exact ties at the top-k boundary.

Where the time goes (CPU, 24 members, d_in 100, width 50, batch 1024, 1 thread):
five matmuls of 24 x 1024 x 100 x 50 multiply-adds each (~15 ms), the BatchTopK
selection (~3 ms, searched from the last step's threshold by `_KthTracker`), a dozen
elementwise passes and the batch itself (~3 ms, SAELens's generator). So the step is
differentiated by hand (`_forward_backward`; autograd only sees the small weight
folding), activations live latent-major so the encoder and its gradient are single
GEMMs, and step-sized tensors are reused (`_Scratch`) because fresh multi-MB CPU
tensors page-fault on first touch.

Shape suffixes: G group members, B batch, D d_in, H width (d_sae), R rows, A members with dead latents.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from sae_lens.saes.sae import TrainStepOutput
from sae_lens.training.sae_trainer import SAETrainer
from tqdm.auto import tqdm

from sae.architectures import ARCHITECTURES, build_training_sae
from sae.io import atomic_path
from sae.train import (
    ResumableBatches,
    TrainResult,
    TrainSpec,
    _checkpoint_steps,
    _curve_point,
    _trainer_config,
)
from sae.runtime import resolve_device

FUSED_ARCHITECTURES = tuple(name for name, spec in ARCHITECTURES.items() if spec.fusable)
GROUP_STATE_FILE = "group_state.pt"
PARAM_NAMES = ("W_enc", "W_dec", "b_enc", "b_dec")
# Live float32 tensors per member and sample during one step, in units of H and of D
# (hidden_pre, ReLU, masks, rescaled acts, top-k padding, aux-loss copies and their
# gradients; inputs, reconstructions, residuals and their gradients). Generous on purpose.
_ACTIVATIONS_PER_H = 16
_ACTIVATIONS_PER_D = 10
_CPU_BUDGET_FRACTION = 0.5
_CUDA_BUDGET_FRACTION = 0.8
# Top-k selection over long rows (BatchTopK's B * H values) looks at a spread 1/16 sample
# first and brackets the k-th largest within +-4 standard deviations of its rank there.
_MIN_ROW_FOR_SAMPLING = 8192
_SAMPLE_STRIDE = 16
_SAMPLE_PRIME = 1_000_003
_SAMPLE_MARGIN_SIGMAS = 4.0
# Searching from last step's threshold (`_kth_largest_near_R`): at most 12 counting passes; after 3,
# up to 6 rows within 32 values of k finish with a top-k (cheaper than the passes that would close them).
_NEAR_MAX_PASSES = 12
_NEAR_FINISH_AFTER = 3
_NEAR_FINISH_ROWS = 6
_NEAR_FINISH_SPAN = 32
_NEAR_MIN_DENSITY_SPAN = 4
_DENSITY_HALF_WIDTH = 2e-3
_DENSITY_MIN_HALF_WIDTH = 1e-3


class FusionError(ValueError):
    """The specs cannot be trained as one fused group; train them with `sae.train.train_sae`."""


# ---------------------------------------------------------------- grouping


def fusable(spec: TrainSpec) -> bool:
    return spec.architecture in FUSED_ARCHITECTURES


def fusion_key(spec: TrainSpec) -> tuple[Any, ...]:
    """Specs with equal keys can share one stacked step (and, by the seed, one batch stream).

    The key cannot see the data source: callers group within one experiment.
    """
    return (
        spec.architecture, spec.d_in, spec.width, spec.seed, spec.samples, spec.batch_size, spec.lr,
        spec.log_every, spec.checkpoints, resolve_device(spec.device), repr(sorted(spec.options.items())),
    )


def estimate_group_bytes(specs: Sequence[TrainSpec]) -> int:
    """Peak memory of one fused step: weights, gradients, Adam moments, and activations of a batch."""
    s = specs[0]
    params = s.width * s.d_in * 2 + s.width + s.d_in
    activations = s.batch_size * (_ACTIVATIONS_PER_H * s.width + _ACTIVATIONS_PER_D * s.d_in)
    return len(specs) * 4 * (4 * params + activations)


def default_memory_budget(device: str) -> int:
    device = resolve_device(device)
    if torch.device(device).type == "cuda":
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free * _CUDA_BUDGET_FRACTION)
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * _CPU_BUDGET_FRACTION)


def plan_groups(specs: Sequence[TrainSpec], memory_budget_bytes: int | None = None) -> list[list[TrainSpec]]:
    """Partition specs into fused groups that each fit the budget; unfusable specs stay alone.

    A key whose members do not fit together is split into near-equal groups, so a
    GPU never gets a group it cannot hold and no group is left nearly empty.
    """
    by_key: dict[tuple[Any, ...], list[TrainSpec]] = {}
    groups: list[list[TrainSpec]] = []
    for spec in specs:
        if fusable(spec):
            by_key.setdefault(fusion_key(spec), []).append(spec)
        else:
            groups.append([spec])
    for members in by_key.values():
        members = sorted(members, key=lambda s: s.l0)
        budget = memory_budget_bytes if memory_budget_bytes is not None else default_memory_budget(members[0].device)
        per_member = estimate_group_bytes(members[:1])
        n_groups = math.ceil(len(members) / max(1, budget // per_member))
        size = math.ceil(len(members) / n_groups)
        groups.extend(members[i : i + size] for i in range(0, len(members), size))
    return groups


def _check_group(specs: Sequence[TrainSpec]) -> None:
    if not specs:
        raise FusionError("a fused group needs at least one spec")
    unsupported = sorted({s.architecture for s in specs if not fusable(s)})
    if unsupported:
        raise FusionError(
            f"fused training supports {list(FUSED_ARCHITECTURES)}, not {unsupported}; train those with train_sae"
        )
    keys = {fusion_key(s) for s in specs}
    if len(keys) > 1:
        raise FusionError(
            "a fused group must share architecture, d_in, width, seed, samples, batch_size, lr, log_every, "
            f"checkpoints, device and options; got {len(keys)} different combinations"
        )


# ---------------------------------------------------------------- scratch memory


class _Scratch:
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
        self.batch_topk = _KthTracker()

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


def _kth_largest_padded_R(values_RN: torch.Tensor, k_R: torch.Tensor) -> torch.Tensor:
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


def _kth_largest_by_sampling_R(values_RN: torch.Tensor, k_R: torch.Tensor,
                               scratch: _Scratch | None = None) -> torch.Tensor | None:
    """Floyd-Rivest-style selection: a strided sample brackets each row's k-th largest value.

    If fewer than k values lie above the bracket and at least k lie at or above its
    bottom, the k-th largest is the (k - above)-th largest inside the bracket, and only
    those few values need a top-k. Exact, ties included; None when a bracket misses.
    """
    scratch = scratch or _Scratch()
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
    top_R1 = _kth_largest_padded_R(sample_RS, top_rank_R)[:, None]
    bottom_R1 = _kth_largest_padded_R(sample_RS, bottom_rank_R)[:, None]
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
    return _kth_largest_padded_R(inside_RW, k_R - n_above_R)


def _kth_largest_R(values_RN: torch.Tensor, k_R: torch.Tensor, scratch: _Scratch | None = None) -> torch.Tensor:
    if values_RN.shape[1] >= _MIN_ROW_FOR_SAMPLING:
        found_R = _kth_largest_by_sampling_R(values_RN, k_R, scratch)
        if found_R is not None:
            return found_R
    return _kth_largest_padded_R(values_RN, k_R)


def _count_dtype(n: int) -> torch.dtype:
    # 0/1 floats sum exactly below 2^24, and far faster than a bool mask (summed in int64)
    return torch.float32 if n < 2**24 else torch.float64


def _kth_largest_near_R(values_RN: torch.Tensor, k_R: torch.Tensor, guess_R: torch.Tensor, density_R: torch.Tensor,
                        scratch: _Scratch) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Each row's k-th largest value, searched from a guess close to it; None if the search does not close.

    count(t) = #(values >= t) costs one compare into a float buffer and one sum. Newton
    steps on the count (with `density_R`, values per unit near the guess) bracket the
    answer, interpolation inside the bracket narrows it, and a row is done once some t
    holds exactly k values: the k-th largest is then the smallest value at or above t.
    Rows left a few values off (ties, or unlucky gaps) finish with a small top-k. Exact,
    like `_kth_largest_R`. Returns the values and a fresh density estimate.
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


def _density_near_R(values_RN: torch.Tensor, at_R: torch.Tensor, scratch: _Scratch) -> torch.Tensor:
    """Values per unit within +-0.2% of `at_R` (at least one value's worth): the first Newton step's slope."""
    R, N = values_RN.shape
    count = scratch("near_count", (R, N), values_RN, _count_dtype(N))
    half_R = (at_R.abs().to(count.dtype) * _DENSITY_HALF_WIDTH).clamp(min=_DENSITY_MIN_HALF_WIDTH)
    n_R = (torch.ge(values_RN, (at_R - half_R)[:, None].to(values_RN.dtype), out=count).sum(dim=-1)
           - torch.ge(values_RN, (at_R + half_R)[:, None].to(values_RN.dtype), out=count).sum(dim=-1))
    return n_R.clamp(min=1) / (2 * half_R)


class _KthTracker:
    """BatchTopK's per-member threshold, step after step: each step's search starts at the last step's answer.

    Consecutive batches' k-th largest pre-activations lie a few dozen ranks apart, so
    `_kth_largest_near_R` closes in about seven counting passes (5-11 over 1,000 sbw_large
    steps; ~1.5-2 ms for 24 members of 51,200 values on 2 threads, against ~5.5 ms for a
    fresh `_kth_largest_R`). Holds no training state:
    results are exact whatever the guess, so checkpoints do not need it.
    """

    def __init__(self) -> None:
        self.guess_R: torch.Tensor | None = None
        self.density_R: torch.Tensor | None = None

    def __call__(self, values_RN: torch.Tensor, k_R: torch.Tensor, scratch: _Scratch) -> torch.Tensor:
        found = None
        if self.guess_R is not None and self.density_R is not None:
            found = _kth_largest_near_R(values_RN, k_R, self.guess_R, self.density_R, scratch)
        if found is None:
            kth_R = _kth_largest_R(values_RN, k_R, scratch)
            self.density_R = _density_near_R(values_RN, kth_R, scratch)
        else:
            kth_R, self.density_R = found
        self.guess_R = kth_R
        return kth_R


def _positive_from(threshold: torch.Tensor) -> torch.Tensor:
    """A threshold t' with (h >= t') == (h >= t and h > 0): the kept values that survive the ReLU."""
    smallest_positive = torch.nextafter(threshold.new_zeros(()), threshold.new_ones(()))
    return threshold.clamp(min=smallest_positive)


def _member_rows(values_GBH: torch.Tensor) -> torch.Tensor:
    """Each member's B * H values as one row [G, N], in memory order: a view for a [G, B, H] or [G, H, B] layout.

    Selection by value does not care about the order within a row.
    """
    latent_major_GHB = values_GBH.transpose(1, 2)
    return (latent_major_GHB if latent_major_GHB.is_contiguous() else values_GBH).reshape(len(values_GBH), -1)


def _batch_topk_mask(hidden_pre_GBH: torch.Tensor, n_keep_G: torch.Tensor,
                     scratch: _Scratch | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """SAELens `BatchTopK` (ReLU, then each member's int(k * B) largest values of the batch), as a mask.

    The k-th largest ReLU output is the ReLU of the k-th largest pre-activation, so the
    selection runs on pre-activations and the mask holds exactly the nonzero outputs.
    Selecting by value equals SAELens's index selection except at exact ties on the
    boundary. Returns the mask and each member's k-th largest pre-activation.
    """
    scratch = scratch or _Scratch()
    kth_G = scratch.batch_topk(_member_rows(hidden_pre_GBH), n_keep_G, scratch)
    active_GBH = scratch.like("active", hidden_pre_GBH, torch.float32)
    return torch.ge(hidden_pre_GBH, _positive_from(kth_G)[:, None, None], out=active_GBH), kth_G


def _topk_mask(hidden_pre_GBH: torch.Tensor, k_G: torch.Tensor, scratch: _Scratch | None = None) -> torch.Tensor:
    """SAELens `TopK` (each sample's k largest pre-activations, then ReLU), as a mask of nonzero outputs."""
    scratch = scratch or _Scratch()
    G, B, H = hidden_pre_GBH.shape
    kth_GB = _kth_largest_R(hidden_pre_GBH.reshape(G * B, H), k_G.repeat_interleave(B)).view(G, B)
    active_GBH = scratch.like("active", hidden_pre_GBH, torch.float32)
    return torch.ge(hidden_pre_GBH, _positive_from(kth_GB)[..., None], out=active_GBH)


# ---------------------------------------------------------------- the stacked group


@dataclass(frozen=True)
class _Hyper:
    """Per-group constants, read from the SAELens configs so that defaults are SAELens's."""

    architecture: str
    k_G: torch.Tensor  # long: kept per sample (topk) or per batch (batchtopk, int(k * B))
    rescale_acts_by_decoder_norm: bool
    apply_b_dec_to_input: bool
    aux_loss_coefficient: float
    topk_threshold_lr: float


def _hyper(saes: Sequence[Any], architecture: str, batch_size: int, device: str) -> _Hyper:
    cfgs = [sae.cfg for sae in saes]
    shared = {
        name: {getattr(c, name) for c in cfgs}
        for name in ("rescale_acts_by_decoder_norm", "apply_b_dec_to_input", "aux_loss_coefficient",
                     "normalize_activations", "use_sparse_activations")
    }
    if architecture == "batchtopk":
        shared["topk_threshold_lr"] = {c.topk_threshold_lr for c in cfgs}
    mixed = [name for name, values in shared.items() if len(values) > 1]
    if mixed:
        raise FusionError(f"group members differ in {mixed}")
    if shared["normalize_activations"] != {"none"}:
        raise FusionError("fused training supports normalize_activations='none' only")
    # BatchTopK keeps int(k * num_samples) activations of the batch (sae_lens BatchTopK.forward).
    ks = [int(c.k * batch_size) if architecture == "batchtopk" else int(c.k) for c in cfgs]
    return _Hyper(
        architecture=architecture,
        k_G=torch.tensor(ks, dtype=torch.long, device=device),
        rescale_acts_by_decoder_norm=cfgs[0].rescale_acts_by_decoder_norm,
        apply_b_dec_to_input=cfgs[0].apply_b_dec_to_input,
        aux_loss_coefficient=cfgs[0].aux_loss_coefficient,
        topk_threshold_lr=getattr(cfgs[0], "topk_threshold_lr", 0.0),
    )


@dataclass
class _Group:
    """Stacked parameters, optimizer and trainer state of every member."""

    # W_enc [G,D,H], W_dec [G,H,D], b_enc [G,H], b_dec [G,D]: plain leaf tensors, because every op on
    # an nn.Parameter pays a Python __torch_function__ hop, which is a real cost at ~200 small ops a step.
    params: dict[str, torch.Tensor]
    optimizer: torch.optim.Adam
    n_since_fired_GH: torch.Tensor
    act_freq_GH: torch.Tensor
    topk_threshold_G: torch.Tensor  # float64, as SAELens keeps it
    n_frac_active_samples: int = 0
    n_training_steps: int = 0
    n_training_samples: int = 0

    def state_dict(self) -> dict[str, Any]:
        return {
            "params": {n: p.detach().clone() for n, p in self.params.items()},
            "optimizer": self.optimizer.state_dict(),
            "n_since_fired_GH": self.n_since_fired_GH,
            "act_freq_GH": self.act_freq_GH,
            "topk_threshold_G": self.topk_threshold_G,
            "n_frac_active_samples": self.n_frac_active_samples,
            "n_training_steps": self.n_training_steps,
            "n_training_samples": self.n_training_samples,
        }

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, param in self.params.items():
            param.copy_(state["params"][name])
        self.optimizer.load_state_dict(state["optimizer"])
        for name in ("n_since_fired_GH", "act_freq_GH", "topk_threshold_G"):
            getattr(self, name).copy_(state[name])
        self.n_frac_active_samples = state["n_frac_active_samples"]
        self.n_training_steps = state["n_training_steps"]
        self.n_training_samples = state["n_training_samples"]


def _stack_group(saes: Sequence[Any], lr: float, trainer_cfg: Any) -> _Group:
    params = {
        name: torch.stack([getattr(sae, name).detach() for sae in saes]).requires_grad_(True)
        for name in PARAM_NAMES
    }
    G, H = params["b_enc"].shape
    device = params["b_enc"].device
    thresholds = [sae.topk_threshold if hasattr(sae, "topk_threshold") else torch.tensor(0.0) for sae in saes]
    return _Group(
        params=params,
        # fused: one kernel per tensor instead of a dozen passes (half the optimizer's time at 24 members);
        # it rounds within an ulp of SAELens's single-tensor Adam
        optimizer=torch.optim.Adam(params.values(), lr=lr, betas=(trainer_cfg.adam_beta1, trainer_cfg.adam_beta2),
                                   fused=True),
        n_since_fired_GH=torch.zeros(G, H, device=device),
        act_freq_GH=torch.zeros(G, H, device=device),
        topk_threshold_G=torch.stack(thresholds).to(device=device, dtype=torch.double),
    )


# ---------------------------------------------------------------- one step


@dataclass
class _StepOut:
    sae_in_BD: torch.Tensor
    sae_out_GBD: torch.Tensor
    feature_acts_GBH: torch.Tensor
    hidden_pre_GBH: torch.Tensor
    active_GBH: torch.Tensor  # 1.0 at the nonzero feature activations, else 0.0
    loss_G: torch.Tensor
    mse_loss_G: torch.Tensor
    aux_loss_G: torch.Tensor
    kth_G: torch.Tensor | None  # BatchTopK: each member's k-th largest pre-activation of the batch


@dataclass
class _Grads:
    """Gradients of the summed loss with respect to the folded weights of `_effective_weights` and b_dec."""

    W_enc_GDH: torch.Tensor
    b_enc_GH: torch.Tensor
    W_dec_GHD: torch.Tensor
    b_dec_GD: torch.Tensor


def _effective_weights(p: dict[str, torch.Tensor], hyper: _Hyper) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fold b_dec and the decoder-norm rescaling into small [G, D, H] / [G, H, D] tensors.

    SAELens computes ((x - b_dec) @ W_enc + b_enc) * ||W_dec|| and (acts / ||W_dec||) @ W_dec;
    folding the per-latent factors into the weights gives the same function (and, through
    autograd, the same gradients) while sparing several passes over [G, B, *] tensors.
    Only the rounding differs.
    """
    W_enc_GDH, W_dec_GHD, b_enc_GH = p["W_enc"], p["W_dec"], p["b_enc"]
    if hyper.apply_b_dec_to_input:
        b_enc_GH = b_enc_GH - torch.bmm(p["b_dec"][:, None, :], W_enc_GDH)[:, 0]
    if hyper.rescale_acts_by_decoder_norm:
        norm_GH = W_dec_GHD.norm(dim=-1)
        W_enc_GDH = W_enc_GDH * norm_GH[:, None, :]
        b_enc_GH = b_enc_GH * norm_GH
        W_dec_GHD = W_dec_GHD * (1 / norm_GH)[..., None]
    return W_enc_GDH, b_enc_GH, W_dec_GHD


def _active_mask(hidden_pre_GBH: torch.Tensor, hyper: _Hyper,
                 scratch: _Scratch) -> tuple[torch.Tensor, torch.Tensor | None]:
    if hyper.architecture == "batchtopk":
        return _batch_topk_mask(hidden_pre_GBH, hyper.k_G, scratch)
    return _topk_mask(hidden_pre_GBH, hyper.k_G, scratch), None


def _aux_keep_mask(hidden_pre_GBH: torch.Tensor, dead_GH: torch.Tensor, k_aux_G: torch.Tensor) -> torch.Tensor:
    """`calculate_topk_aux_acts`'s support: each sample's k_aux largest pre-activations among dead latents."""
    G, B, _ = hidden_pre_GBH.shape
    dead_GBH = dead_GH[:, None, :].expand_as(hidden_pre_GBH)
    if bool((k_aux_G >= dead_GH.sum(-1)).all()):
        return dead_GBH  # every dead latent is kept (always so when d_in // 2 >= width)
    candidates_GBH = torch.where(dead_GBH, hidden_pre_GBH, -math.inf)
    threshold_GB = _kth_largest_R(candidates_GBH.reshape(G * B, -1), k_aux_G.repeat_interleave(B)).view(G, B)
    return dead_GBH & (hidden_pre_GBH >= threshold_GB[..., None])


def _add_aux_loss(x_BD: torch.Tensor, diff_GBD: torch.Tensor, hidden_pre_GBH: torch.Tensor, W_dec_GHD: torch.Tensor,
                  dead_GH: torch.Tensor, hyper: _Hyper, grads: _Grads, grad_hidden_GBH: torch.Tensor,
                  scratch: _Scratch) -> torch.Tensor:
    """SAELens `calculate_topk_aux_loss` per member (dead latents reconstruct the live residual), and its gradient.

    Only members with a dead latent take part: the others' aux loss is exactly zero. Adds
    the gradient into `grads.W_dec_GHD` and `grad_hidden_GBH`; returns the loss per member.
    """
    aux_loss_G = diff_GBD.new_zeros(len(dead_GH))
    num_dead_G = dead_GH.sum(-1)
    members_A = num_dead_G.nonzero()[:, 0]
    if len(members_A) == 0:
        return aux_loss_G
    (A, B, H), D = (len(members_A), *hidden_pre_GBH.shape[1:]), x_BD.shape[-1]
    k_aux = D // 2  # Gao et al. 2024, appendix B.1
    num_dead = num_dead_G[members_A].tolist()
    # Python floats, as SAELens: coefficient * min(num_dead / k_aux, 1).
    weight_A = torch.tensor([hyper.aux_loss_coefficient * min(n / k_aux, 1.0) for n in num_dead],
                            dtype=diff_GBD.dtype, device=diff_GBD.device)
    k_aux_A = torch.tensor([min(k_aux, n) for n in num_dead], dtype=torch.long, device=diff_GBD.device)
    W_dec_AHD = W_dec_GHD[members_A]
    auxk_acts_ABH = torch.index_select(hidden_pre_GBH, 0, members_A, out=scratch("aux_acts", (A, B, H), hidden_pre_GBH))
    keep_ABH = _aux_keep_mask(auxk_acts_ABH, dead_GH[members_A], k_aux_A)
    auxk_acts_ABH.mul_(keep_ABH)
    # recons - residual, with residual = (x - sae_out).detach() = -diff: no gradient reaches sae_out
    diff_ABD = torch.index_select(diff_GBD, 0, members_A, out=scratch("aux_diff", (A, B, D), diff_GBD))
    error_ABD = torch.baddbmm(diff_ABD, auxk_acts_ABH, W_dec_AHD, out=scratch.matmul_out("aux_error", (A, B, D), x_BD))
    aux_loss_G[members_A] = weight_A * torch.linalg.vector_norm(error_ABD, dim=-1).square().mean(dim=-1)
    # d aux / d error = weight * 2 / B * error, scaled before the matmuls, in autograd's rounding order
    grad_error_ABD = error_ABD.mul_((weight_A * (2 / B))[:, None, None])
    grads.W_dec_GHD.index_add_(0, members_A, torch.bmm(auxk_acts_ABH.transpose(1, 2), grad_error_ABD))
    grad_auxk_ABH = torch.bmm(grad_error_ABD, W_dec_AHD.transpose(1, 2),
                              out=scratch.matmul_out("aux_grad_acts", (A, B, H), x_BD)).mul_(keep_ABH)
    grad_hidden_GBH.index_add_(0, members_A, grad_auxk_ABH)
    return aux_loss_G


def _forward_backward(x_BD: torch.Tensor, W_enc_GDH: torch.Tensor, b_enc_GH: torch.Tensor, W_dec_GHD: torch.Tensor,
                      b_dec_GD: torch.Tensor, hyper: _Hyper, dead_GH: torch.Tensor,
                      scratch: _Scratch) -> tuple[_StepOut, _Grads]:
    """`TopKTrainingSAE.training_forward_pass` for every member, and the gradient of the summed loss by hand.

    Autograd would make several extra passes over [G, B, *] tensors (masks, the squared
    error's pow/sum/mean chain, zero-filled gradients) and pay ~100 graph nodes a step;
    here the step is five matmuls plus a few elementwise passes. The gradient w.r.t. the
    folded weights then goes back through `_effective_weights` by autograd.

    [G, B, H] tensors live latent-major ([G, H, B] in memory): the encoder of every member is
    then one GEMM [G*H, D] @ [D, B] (x is shared), as is the encoder's weight gradient, and
    each member's values are one contiguous row for the BatchTopK selection. The batched
    decoder matmuls read the transposed layout for free.
    """
    G, (B, D), H = len(W_enc_GDH), x_BD.shape, W_enc_GDH.shape[-1]
    W_enc_T = W_enc_GDH.transpose(1, 2).reshape(G * H, D)  # a small copy
    hidden_pre_GHB = torch.addmm(b_enc_GH.reshape(G * H, 1), W_enc_T, x_BD.T,
                                 out=scratch.matmul_out("hidden_pre", (G * H, B), x_BD)).view(G, H, B)
    hidden_pre_GBH = hidden_pre_GHB.transpose(1, 2)
    active_GBH, kth_G = _active_mask(hidden_pre_GBH, hyper, scratch)
    # = ReLU on the kept latents, zero elsewhere; a multiply by the mask is ~4x cheaper than where()
    feature_acts_GBH = torch.mul(hidden_pre_GBH, active_GBH, out=scratch.like("feature_acts", hidden_pre_GBH))
    sae_out_GBD = torch.baddbmm(b_dec_GD[:, None, :], feature_acts_GBH, W_dec_GHD,
                                out=scratch.matmul_out("sae_out", (G, B, D), x_BD))
    diff_GBD = torch.sub(sae_out_GBD, x_BD, out=scratch("diff", (G, B, D), x_BD))
    # mean_b ||sae_out - x||^2; a fused norm kernel is several times faster than pow + sum
    mse_loss_G = torch.linalg.vector_norm(diff_GBD, dim=-1).square().mean(dim=-1)

    # d mse / d sae_out = 2 / B * diff; the factor goes on the small [G, H, D] / [G, D] side.
    scale = 2 / B
    grads = _Grads(W_enc_GDH=None, b_enc_GH=None,  # type: ignore[arg-type]  # set below
                   W_dec_GHD=torch.bmm(feature_acts_GBH.transpose(1, 2), diff_GBD).mul_(scale),
                   b_dec_GD=diff_GBD.sum(dim=1).mul_(scale))
    # computed transposed, W_dec @ diff^T, to land latent-major like the activations
    grad_hidden_GHB = torch.bmm(W_dec_GHD * scale, diff_GBD.transpose(1, 2),
                                out=scratch.matmul_out("grad_hidden", (G, H, B), x_BD))
    grad_hidden_GBH = grad_hidden_GHB.transpose(1, 2).mul_(active_GBH)
    aux_loss_G = _add_aux_loss(x_BD, diff_GBD, hidden_pre_GBH, W_dec_GHD, dead_GH, hyper, grads, grad_hidden_GBH,
                               scratch)
    # Along the contiguous batch axis, so rounded differently from SAELens's batch-major sum. Summing a
    # batch-major copy instead (1 ms a step) does not keep long runs closer: over 500 sbw_large steps
    # curves moved by <=9e-5 relative this way and by 2.5e-3 with the copy, as top-k boundary flips compound.
    grads.b_enc_GH = grad_hidden_GBH.sum(dim=1)
    # one GEMM for every member: [G*H, B] @ [B, D], returned as the [G, D, H] view
    # contiguous, so that autograd's reductions through the folding round exactly as for SAELens's layout
    grads.W_enc_GDH = torch.mm(grad_hidden_GBH.transpose(1, 2).reshape(G * H, B), x_BD).view(G, H, D).transpose(1, 2)
    grads.W_enc_GDH = grads.W_enc_GDH.contiguous()

    out = _StepOut(x_BD, sae_out_GBD, feature_acts_GBH, hidden_pre_GBH, active_GBH, mse_loss_G + aux_loss_G,
                   mse_loss_G, aux_loss_G, kth_G)
    return out, grads


@torch.no_grad()
def _update_topk_threshold(group: _Group, feature_acts_GBH: torch.Tensor, kth_G: torch.Tensor, lr: float) -> None:
    """`BatchTopKTrainingSAE.update_topk_threshold` per member: EMA of the smallest positive kept activation.

    A positive k-th largest value is that minimum; only a non-positive one (fewer positive
    activations than k * B, all kept) needs a pass over the activations.
    """
    min_positive_G = kth_G.float()
    if bool((kth_G <= 0).any()):
        all_positive_G = torch.where(feature_acts_GBH > 0, feature_acts_GBH.float(), math.inf).amin(dim=(1, 2))
        min_positive_G = torch.where(kth_G > 0, min_positive_G, all_positive_G)
    updated_G = (1 - lr) * group.topk_threshold_G + lr * min_positive_G.double()
    # SAELens leaves the threshold alone when nothing fired.
    group.topk_threshold_G.copy_(torch.where(min_positive_G.isfinite(), updated_G, group.topk_threshold_G))


@torch.no_grad()
def _track_firing(group: _Group, active_GBH: torch.Tensor, batch_size: int) -> None:
    """`SAETrainer._train_step`'s dead-latent and firing-frequency bookkeeping, per member."""
    fired_GH = active_GBH.sum(dim=1)  # a 0/1 float mask: exact counts
    group.n_since_fired_GH.add_(1).masked_fill_(fired_GH > 0, 0)
    group.act_freq_GH.add_(fired_GH)
    group.n_frac_active_samples += batch_size


@torch.no_grad()
def _clip_grad_norm_per_member(params: Sequence[torch.Tensor], max_norm: float = 1.0) -> None:
    """`torch.nn.utils.clip_grad_norm_(sae.parameters(), 1.0)` applied to each member on its own."""
    norms_GP = torch.stack([p.grad.flatten(1).norm(dim=1) for p in params], dim=1)
    total_G = norms_GP.norm(dim=1)
    coef_G = (max_norm / (total_G + 1e-6)).clamp(max=1.0)
    for p in params:
        p.grad.mul_(coef_G.view(-1, *([1] * (p.grad.dim() - 1))))


def _train_step(group: _Group, x_BD: torch.Tensor, hyper: _Hyper, dead_window: int, autocast: Any,
                scratch: _Scratch) -> _StepOut:
    dead_GH = group.n_since_fired_GH > dead_window
    params = group.params
    # Autograd only over the small folding; the [G, B, *] part is differentiated by hand.
    folded = _effective_weights(params, hyper)
    with torch.no_grad(), autocast:
        out, grads = _forward_backward(x_BD, *(w.detach() for w in folded), params["b_dec"].detach(), hyper, dead_GH,
                                       scratch)
    if hyper.architecture == "batchtopk":
        _update_topk_threshold(group, out.feature_acts_GBH, out.kth_G, hyper.topk_threshold_lr)
    _track_firing(group, out.active_GBH, x_BD.shape[0])
    # Members do not share parameters, so the gradient of the summed loss is each member's own gradient.
    torch.autograd.backward([*folded, params["b_dec"]],
                            [g.to(w.dtype) for g, w in zip((grads.W_enc_GDH, grads.b_enc_GH, grads.W_dec_GHD,
                                                             grads.b_dec_GD), (*folded, params["b_dec"]))])
    _clip_grad_norm_per_member(list(params.values()))
    group.optimizer.step()
    group.optimizer.zero_grad()
    return out


# ---------------------------------------------------------------- members as SAELens objects


def _sync_trainer(trainer: SAETrainer[Any, Any], group: _Group, g: int) -> None:
    """Point member g's SAELens trainer at its slice of the group state (views, no copies)."""
    trainer.n_training_steps = group.n_training_steps
    trainer.n_training_samples = group.n_training_samples
    trainer.n_forward_passes_since_fired = group.n_since_fired_GH[g]
    trainer.act_freq_scores = group.act_freq_GH[g]
    trainer.n_frac_active_samples = group.n_frac_active_samples


def _member_output(out: _StepOut, group: _Group, hyper: _Hyper, g: int) -> TrainStepOutput:
    losses = {"mse_loss": out.mse_loss_G[g], "auxiliary_reconstruction_loss": out.aux_loss_G[g]}
    metrics = {"topk_threshold": group.topk_threshold_G[g]} if hyper.architecture == "batchtopk" else {}
    return TrainStepOutput(out.sae_in_BD, out.sae_out_GBD[g], out.feature_acts_GBH[g], out.hidden_pre_GBH[g],
                           out.loss_G[g], losses, metrics)


@torch.no_grad()
def _write_back(saes: Sequence[Any], group: _Group) -> None:
    for g, sae in enumerate(saes):
        for name in PARAM_NAMES:
            getattr(sae, name).copy_(group.params[name][g])
        if hasattr(sae, "topk_threshold"):
            sae.topk_threshold = group.topk_threshold_G[g].clone()


# ---------------------------------------------------------------- checkpoints


def _save_checkpoint(path: Path, group: _Group, specs: Sequence[TrainSpec], batches: ResumableBatches,
                     curves: list[list[dict[str, float]]]) -> None:
    with atomic_path(path) as tmp:
        tmp.mkdir(parents=True)
        torch.save(
            {"group": group.state_dict(), "l0": [s.l0 for s in specs], "data": batches.state_dict(), "curves": curves},
            tmp / GROUP_STATE_FILE,
        )


def _load_checkpoint(path: Path, group: _Group, specs: Sequence[TrainSpec],
                     batches: ResumableBatches) -> list[list[dict[str, float]]]:
    state = torch.load(path / GROUP_STATE_FILE, map_location=group.params["b_enc"].device, weights_only=False)
    if state["l0"] != [s.l0 for s in specs]:
        raise FusionError(f"checkpoint {path} holds a group with l0 {state['l0']}, not {[s.l0 for s in specs]}")
    group.load_state_dict(state["group"])
    batches.load_state_dict(state["data"])
    return state["curves"]


# ---------------------------------------------------------------- entry point


def train_fused(specs: Sequence[TrainSpec], batches: ResumableBatches, checkpoint_dir: Path | None = None,
                progress: bool = True, autocast: bool = False) -> list[TrainResult]:
    """Train every spec on one shared batch stream; one `TrainResult` per spec, in order.

    Each result's SAE is a SAELens TrainingSAE with the member's final weights and
    end-of-training metadata, ready for `save_inference_model`. Resumes from
    `checkpoint_dir/latest` if an earlier run left one. `autocast` runs the forward
    pass in bfloat16 (SAELens's `autocast` option).
    """
    _check_group(specs)
    device = resolve_device(specs[0].device)
    specs = list(specs)
    saes = []
    for spec in specs:
        # Seeded per member, exactly as train_sae, so each init is bit-identical to single training.
        torch.manual_seed(spec.seed)
        saes.append(build_training_sae(spec.architecture, spec.d_in, spec.width, spec.l0, spec.options, device))
    trainer_cfg = _trainer_config(specs[0])
    trainers = [SAETrainer(cfg=_trainer_config(s), sae=sae, data_provider=iter(())) for s, sae in zip(specs, saes)]
    hyper = _hyper(saes, specs[0].architecture, specs[0].batch_size, device)
    group = _stack_group(saes, specs[0].lr, trainer_cfg)
    autocast_ctx = torch.autocast(torch.device(device).type, dtype=torch.bfloat16) if autocast else nullcontext()
    scratch = _Scratch(matmul_outputs=not autocast)

    latest = checkpoint_dir / "latest" if checkpoint_dir is not None else None
    curves: list[list[dict[str, float]]] = [[] for _ in specs]
    if latest is not None and latest.exists():
        curves = _load_checkpoint(latest, group, specs, batches)
    resumed_from = group.n_training_samples

    spec = specs[0]
    total_steps = spec.samples // spec.batch_size
    checkpoint_at = _checkpoint_steps(total_steps, spec.checkpoints) if latest is not None else set()
    start = time.perf_counter()
    desc = f"train fused {spec.architecture} x{len(specs)}"
    with tqdm(total=total_steps, initial=group.n_training_steps, desc=desc, unit="step",
              disable=not progress, mininterval=5.0) as pbar:
        while group.n_training_steps < total_steps:
            # SAETrainer.maybe_reset_sparsity: a new firing-frequency window every feature_sampling_window steps.
            if group.n_training_steps > 0 and group.n_training_steps % trainer_cfg.feature_sampling_window == 0:
                group.act_freq_GH.zero_()
                group.n_frac_active_samples = 0
            x_BD = next(batches).to(device=device, dtype=group.params["W_enc"].dtype)
            group.n_training_samples += x_BD.shape[0]
            out = _train_step(group, x_BD, hyper, trainer_cfg.dead_feature_window, autocast_ctx, scratch)
            group.n_training_steps += 1
            if group.n_training_steps % spec.log_every == 0 or group.n_training_steps == total_steps:
                _log_curves(curves, trainers, group, out, hyper)
                pbar.set_postfix(loss=f"{curves[0][-1]['loss']:.4f}", refresh=False)
            if group.n_training_steps in checkpoint_at:
                _save_checkpoint(latest, group, specs, batches, curves)
            pbar.update(1)
    wall = time.perf_counter() - start

    _write_back(saes, group)
    for g, trainer in enumerate(trainers):
        _sync_trainer(trainer, group, g)
        trainer.set_final_sae_metadata()
    return [TrainResult(sae, curve, wall, group.n_training_samples, resumed_from) for sae, curve in zip(saes, curves)]


def _log_curves(curves: list[list[dict[str, float]]], trainers: Sequence[SAETrainer[Any, Any]], group: _Group,
                out: _StepOut, hyper: _Hyper) -> None:
    # SAELens's own log dict, per member: the curve has exactly train_sae's keys and definitions.
    for g, trainer in enumerate(trainers):
        _sync_trainer(trainer, group, g)
        curves[g].append(_curve_point(trainer, _member_output(out, group, hyper, g)))
