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
matmuls, norms reduced in another order) and by ties at the top-k boundary.

Shape suffixes: G group members, B batch, D d_in, H width (d_sae), R rows.
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

from sae.architectures import build_training_sae
from sae.io import atomic_path
from sae.train import (
    ResumableBatches,
    TrainResult,
    TrainSpec,
    _checkpoint_steps,
    _curve_point,
    _trainer_config,
    resolve_device,
)

FUSED_ARCHITECTURES = ("batchtopk", "topk")
GROUP_STATE_FILE = "group_state.pt"
PARAM_NAMES = ("W_enc", "W_dec", "b_enc", "b_dec")
# Live float32 tensors per member and sample during one step, in units of H and of D
# (hidden_pre, ReLU, masks, rescaled acts, top-k padding, aux-loss copies and their
# gradients; inputs, reconstructions, residuals and their gradients). Generous on purpose.
_ACTIVATIONS_PER_H = 16
_ACTIVATIONS_PER_D = 10
_CPU_BUDGET_FRACTION = 0.5
_CUDA_BUDGET_FRACTION = 0.8


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


# ---------------------------------------------------------------- selection


def _kth_largest_R(values_RN: torch.Tensor, k_R: torch.Tensor) -> torch.Tensor:
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


def _batch_topk_mask(acts_GBH: torch.Tensor, n_keep_G: torch.Tensor) -> torch.Tensor:
    """SAELens `BatchTopK`: keep each member's int(k * B) largest activations of the whole batch.

    Selecting by value (>= the k-th largest) equals SAELens's index selection except at
    exact ties on the boundary; below the threshold of zero, only zeros are kept extra.
    """
    G = acts_GBH.shape[0]
    threshold_G = _kth_largest_R(acts_GBH.reshape(G, -1), n_keep_G)
    return acts_GBH >= threshold_G[:, None, None]


def _topk_mask(hidden_pre_GBH: torch.Tensor, k_G: torch.Tensor) -> torch.Tensor:
    """SAELens `TopK`: keep each sample's k largest pre-activations (the ReLU comes after)."""
    G, B, H = hidden_pre_GBH.shape
    threshold_GB = _kth_largest_R(hidden_pre_GBH.reshape(G * B, H), k_G.repeat_interleave(B)).view(G, B)
    return hidden_pre_GBH >= threshold_GB[..., None]


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

    params: dict[str, torch.nn.Parameter]  # W_enc [G,D,H], W_dec [G,H,D], b_enc [G,H], b_dec [G,D]
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
        name: torch.nn.Parameter(torch.stack([getattr(sae, name).detach() for sae in saes]).clone())
        for name in PARAM_NAMES
    }
    G, H = params["b_enc"].shape
    device = params["b_enc"].device
    thresholds = [sae.topk_threshold if hasattr(sae, "topk_threshold") else torch.tensor(0.0) for sae in saes]
    return _Group(
        params=params,
        optimizer=torch.optim.Adam(params.values(), lr=lr, betas=(trainer_cfg.adam_beta1, trainer_cfg.adam_beta2)),
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
    loss_G: torch.Tensor
    mse_loss_G: torch.Tensor
    aux_loss_G: torch.Tensor


def _encode(p: dict[str, torch.Tensor], x_BD: torch.Tensor, hyper: _Hyper,
            inv_norm_GH: torch.Tensor | None, norm_GH: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    sae_in_GBD = x_BD - p["b_dec"][:, None, :] if hyper.apply_b_dec_to_input else x_BD.expand(len(p["b_dec"]), -1, -1)
    hidden_pre_GBH = torch.bmm(sae_in_GBD, p["W_enc"]) + p["b_enc"][:, None, :]
    if norm_GH is not None:
        hidden_pre_GBH = hidden_pre_GBH * norm_GH[:, None, :]
    with torch.no_grad():
        if hyper.architecture == "batchtopk":
            keep_GBH = _batch_topk_mask(hidden_pre_GBH.relu(), hyper.k_G)
        else:
            keep_GBH = _topk_mask(hidden_pre_GBH, hyper.k_G)
    feature_acts_GBH = torch.where(keep_GBH, hidden_pre_GBH.relu(), 0.0)
    return feature_acts_GBH, hidden_pre_GBH


def _times_W_dec(acts_GBH: torch.Tensor, W_dec_GHD: torch.Tensor, inv_norm_GH: torch.Tensor | None) -> torch.Tensor:
    # sae_lens act_times_W_dec: acts * (1 / ||W_dec||) @ W_dec
    if inv_norm_GH is not None:
        acts_GBH = acts_GBH * inv_norm_GH[:, None, :]
    return torch.bmm(acts_GBH, W_dec_GHD)


def _topk_aux_loss(p: dict[str, torch.Tensor], x_BD: torch.Tensor, sae_out_GBD: torch.Tensor,
                   hidden_pre_GBH: torch.Tensor, dead_GH: torch.Tensor, hyper: _Hyper,
                   inv_norm_GH: torch.Tensor | None) -> torch.Tensor:
    """SAELens `calculate_topk_aux_loss`, per member: dead latents reconstruct the live residual."""
    G, B, _ = hidden_pre_GBH.shape
    k_aux = x_BD.shape[-1] // 2  # Gao et al. 2024, appendix B.1
    num_dead = dead_GH.sum(-1).tolist()
    # Python floats, as SAELens: coefficient * min(num_dead / k_aux, 1), zero for members with no dead latent.
    weight_G = torch.tensor([hyper.aux_loss_coefficient * min(n / k_aux, 1.0) for n in num_dead],
                            dtype=hidden_pre_GBH.dtype, device=hidden_pre_GBH.device)
    k_aux_G = torch.tensor([min(k_aux, n) for n in num_dead], dtype=torch.long, device=hidden_pre_GBH.device)
    with torch.no_grad():
        dead_GBH = dead_GH[:, None, :].expand_as(hidden_pre_GBH)
        candidates_GBH = torch.where(dead_GBH, hidden_pre_GBH, -math.inf)
        threshold_GB = _kth_largest_R(candidates_GBH.reshape(G * B, -1), k_aux_G.repeat_interleave(B)).view(G, B)
        keep_GBH = dead_GBH & (hidden_pre_GBH >= threshold_GB[..., None])
    auxk_acts_GBH = torch.where(keep_GBH, hidden_pre_GBH, 0.0)
    recons_GBD = _times_W_dec(auxk_acts_GBH, p["W_dec"], inv_norm_GH)
    residual_GBD = (x_BD - sae_out_GBD).detach()
    return weight_G * (recons_GBD - residual_GBD).pow(2).sum(dim=-1).mean(dim=-1)


def _forward(p: dict[str, torch.Tensor], x_BD: torch.Tensor, hyper: _Hyper, dead_GH: torch.Tensor) -> _StepOut:
    """`TopKTrainingSAE.training_forward_pass` for every member at once."""
    norm_GH = inv_norm_GH = None
    if hyper.rescale_acts_by_decoder_norm:
        norm_GH = p["W_dec"].norm(dim=-1)
        inv_norm_GH = 1 / norm_GH
    feature_acts_GBH, hidden_pre_GBH = _encode(p, x_BD, hyper, inv_norm_GH, norm_GH)
    sae_out_GBD = _times_W_dec(feature_acts_GBH, p["W_dec"], inv_norm_GH) + p["b_dec"][:, None, :]
    mse_loss_G = (sae_out_GBD - x_BD).pow(2).sum(dim=-1).mean(dim=-1)
    if bool(dead_GH.any()):
        aux_loss_G = _topk_aux_loss(p, x_BD, sae_out_GBD, hidden_pre_GBH, dead_GH, hyper, inv_norm_GH)
    else:
        aux_loss_G = torch.zeros_like(mse_loss_G)
    return _StepOut(x_BD, sae_out_GBD, feature_acts_GBH, hidden_pre_GBH, mse_loss_G + aux_loss_G,
                    mse_loss_G, aux_loss_G)


@torch.no_grad()
def _update_topk_threshold(group: _Group, feature_acts_GBH: torch.Tensor, lr: float) -> None:
    """`BatchTopKTrainingSAE.update_topk_threshold` per member: EMA of the smallest kept activation."""
    positive_GBH = feature_acts_GBH > 0
    min_positive_G = torch.where(positive_GBH, feature_acts_GBH, math.inf).amin(dim=(1, 2)).double()
    updated_G = (1 - lr) * group.topk_threshold_G + lr * min_positive_G
    group.topk_threshold_G.copy_(torch.where(positive_GBH.any(dim=(1, 2)), updated_G, group.topk_threshold_G))


@torch.no_grad()
def _track_firing(group: _Group, feature_acts_GBH: torch.Tensor, batch_size: int) -> None:
    """`SAETrainer._train_step`'s dead-latent and firing-frequency bookkeeping, per member."""
    fired_GH = (feature_acts_GBH != 0).sum(dim=1, dtype=torch.float32)
    group.n_since_fired_GH.add_(1).masked_fill_(fired_GH > 0, 0)
    group.act_freq_GH.add_(fired_GH)
    group.n_frac_active_samples += batch_size


@torch.no_grad()
def _clip_grad_norm_per_member(params: Sequence[torch.nn.Parameter], max_norm: float = 1.0) -> None:
    """`torch.nn.utils.clip_grad_norm_(sae.parameters(), 1.0)` applied to each member on its own."""
    norms_GP = torch.stack([p.grad.flatten(1).norm(dim=1) for p in params], dim=1)
    total_G = norms_GP.norm(dim=1)
    coef_G = (max_norm / (total_G + 1e-6)).clamp(max=1.0)
    for p in params:
        p.grad.mul_(coef_G.view(-1, *([1] * (p.grad.dim() - 1))))


def _train_step(group: _Group, x_BD: torch.Tensor, hyper: _Hyper, dead_window: int, autocast: Any) -> _StepOut:
    dead_GH = group.n_since_fired_GH > dead_window
    with autocast:
        out = _forward(group.params, x_BD, hyper, dead_GH)
    if hyper.architecture == "batchtopk":
        _update_topk_threshold(group, out.feature_acts_GBH.float(), hyper.topk_threshold_lr)
    _track_firing(group, out.feature_acts_GBH, x_BD.shape[0])
    # Members do not share parameters, so the gradient of the sum is each member's own gradient.
    out.loss_G.sum().backward()
    _clip_grad_norm_per_member(list(group.params.values()))
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
            out = _train_step(group, x_BD, hyper, trainer_cfg.dead_feature_window, autocast_ctx)
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
