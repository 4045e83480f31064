"""A group's stacked state (parameters, Adam, trainer counters), its checkpoints, and its members as SAELens objects.

Shape suffixes: G group members, B batch, D d_in, H width (d_sae).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from sae_lens.training.sae_trainer import SAETrainer

from sae.fused.plan import FusionError
from sae.io import atomic_path
from sae.train.spec import ResumableBatches, TrainSpec

GROUP_STATE_FILE = "group_state.pt"
PARAM_NAMES = ("W_enc", "W_dec", "b_enc", "b_dec")


@dataclass
class Group:
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


def stack_group(saes: Sequence[Any], lr: float, trainer_cfg: Any) -> Group:
    params = {
        name: torch.stack([getattr(sae, name).detach() for sae in saes]).requires_grad_(True)
        for name in PARAM_NAMES
    }
    G, H = params["b_enc"].shape
    device = params["b_enc"].device
    thresholds = [sae.topk_threshold if hasattr(sae, "topk_threshold") else torch.tensor(0.0) for sae in saes]
    return Group(
        params=params,
        # fused: one kernel per tensor instead of a dozen passes (half the optimizer's time at 24 members);
        # it rounds within an ulp of SAELens's single-tensor Adam
        optimizer=torch.optim.Adam(params.values(), lr=lr, betas=(trainer_cfg.adam_beta1, trainer_cfg.adam_beta2),
                                   fused=True),
        n_since_fired_GH=torch.zeros(G, H, device=device),
        act_freq_GH=torch.zeros(G, H, device=device),
        topk_threshold_G=torch.stack(thresholds).to(device=device, dtype=torch.double),
    )


# ---------------------------------------------------------------- members as SAELens objects


def sync_trainer(trainer: SAETrainer[Any, Any], group: Group, g: int) -> None:
    """Point member g's SAELens trainer at its slice of the group state (views, no copies)."""
    trainer.n_training_steps = group.n_training_steps
    trainer.n_training_samples = group.n_training_samples
    trainer.n_forward_passes_since_fired = group.n_since_fired_GH[g]
    trainer.act_freq_scores = group.act_freq_GH[g]
    trainer.n_frac_active_samples = group.n_frac_active_samples


@torch.no_grad()
def write_back(saes: Sequence[Any], group: Group) -> None:
    for g, sae in enumerate(saes):
        for name in PARAM_NAMES:
            getattr(sae, name).copy_(group.params[name][g])
        if hasattr(sae, "topk_threshold"):
            sae.topk_threshold = group.topk_threshold_G[g].clone()


# ---------------------------------------------------------------- checkpoints


def save_group_checkpoint(path: Path, group: Group, specs: Sequence[TrainSpec], batches: ResumableBatches,
                          curves: list[list[dict[str, float]]]) -> None:
    with atomic_path(path) as tmp:
        tmp.mkdir(parents=True)
        torch.save(
            {"group": group.state_dict(), "l0": [s.l0 for s in specs], "data": batches.state_dict(), "curves": curves},
            tmp / GROUP_STATE_FILE,
        )


def load_group_checkpoint(path: Path, group: Group, specs: Sequence[TrainSpec],
                          batches: ResumableBatches) -> list[list[dict[str, float]]]:
    state = torch.load(path / GROUP_STATE_FILE, map_location=group.params["b_enc"].device, weights_only=False)
    if state["l0"] != [s.l0 for s in specs]:
        raise FusionError(f"checkpoint {path} holds a group with l0 {state['l0']}, not {[s.l0 for s in specs]}")
    group.load_state_dict(state["group"])
    batches.load_state_dict(state["data"])
    return state["curves"]
