"""One stacked training step for every member of a group, differentiated by hand.

Where the time goes (CPU, 24 members, d_in 100, width 50, batch 1024, 1 thread):
five matmuls of 24 x 1024 x 100 x 50 multiply-adds each (~15 ms), the BatchTopK
selection (~3 ms, searched from the last step's threshold by `KthTracker`), a dozen
elementwise passes and the batch itself (~3 ms, SAELens's generator). So the step is
differentiated by hand (`_forward_backward`; autograd only sees the small weight
folding), activations live latent-major so the encoder and its gradient are single
GEMMs, and step-sized tensors are reused (`Scratch`) because fresh multi-MB CPU
tensors page-fault on first touch.

Shape suffixes: G group members, B batch, D d_in, H width (d_sae), A members with dead latents.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from sae_lens.saes.sae import TrainStepOutput

from sae.fused.plan import FusionError
from sae.fused.selection import Scratch, aux_keep_mask, batch_topk_mask, topk_mask
from sae.fused.state import Group


@dataclass(frozen=True)
class Hyper:
    """Per-group constants, read from the SAELens configs so that defaults are SAELens's."""

    architecture: str
    k_G: torch.Tensor  # long: kept per sample (topk) or per batch (batchtopk, int(k * B))
    rescale_acts_by_decoder_norm: bool
    apply_b_dec_to_input: bool
    aux_loss_coefficient: float
    topk_threshold_lr: float


def build_hyper(saes: Sequence[Any], architecture: str, batch_size: int, device: str) -> Hyper:
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
    return Hyper(
        architecture=architecture,
        k_G=torch.tensor(ks, dtype=torch.long, device=device),
        rescale_acts_by_decoder_norm=cfgs[0].rescale_acts_by_decoder_norm,
        apply_b_dec_to_input=cfgs[0].apply_b_dec_to_input,
        aux_loss_coefficient=cfgs[0].aux_loss_coefficient,
        topk_threshold_lr=getattr(cfgs[0], "topk_threshold_lr", 0.0),
    )


@dataclass
class StepOut:
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


def _effective_weights(p: dict[str, torch.Tensor], hyper: Hyper) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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


def _active_mask(hidden_pre_GBH: torch.Tensor, hyper: Hyper,
                 scratch: Scratch) -> tuple[torch.Tensor, torch.Tensor | None]:
    if hyper.architecture == "batchtopk":
        return batch_topk_mask(hidden_pre_GBH, hyper.k_G, scratch)
    return topk_mask(hidden_pre_GBH, hyper.k_G, scratch), None


def _add_aux_loss(x_BD: torch.Tensor, diff_GBD: torch.Tensor, hidden_pre_GBH: torch.Tensor, W_dec_GHD: torch.Tensor,
                  dead_GH: torch.Tensor, hyper: Hyper, grads: _Grads, grad_hidden_GBH: torch.Tensor,
                  scratch: Scratch) -> torch.Tensor:
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
    keep_ABH = aux_keep_mask(auxk_acts_ABH, dead_GH[members_A], k_aux_A)
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
                      b_dec_GD: torch.Tensor, hyper: Hyper, dead_GH: torch.Tensor,
                      scratch: Scratch) -> tuple[StepOut, _Grads]:
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

    out = StepOut(x_BD, sae_out_GBD, feature_acts_GBH, hidden_pre_GBH, active_GBH, mse_loss_G + aux_loss_G,
                  mse_loss_G, aux_loss_G, kth_G)
    return out, grads


@torch.no_grad()
def _update_topk_threshold(group: Group, feature_acts_GBH: torch.Tensor, kth_G: torch.Tensor, lr: float) -> None:
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
def _track_firing(group: Group, active_GBH: torch.Tensor, batch_size: int) -> None:
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


def train_step(group: Group, x_BD: torch.Tensor, hyper: Hyper, dead_window: int, autocast: Any,
               scratch: Scratch) -> StepOut:
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


def member_output(out: StepOut, group: Group, hyper: Hyper, g: int) -> TrainStepOutput:
    losses = {"mse_loss": out.mse_loss_G[g], "auxiliary_reconstruction_loss": out.aux_loss_G[g]}
    metrics = {"topk_threshold": group.topk_threshold_G[g]} if hyper.architecture == "batchtopk" else {}
    return TrainStepOutput(out.sae_in_BD, out.sae_out_GBD[g], out.feature_acts_GBH[g], out.hidden_pre_GBH[g],
                           out.loss_G[g], losses, metrics)
