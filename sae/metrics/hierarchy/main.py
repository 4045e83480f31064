"""Hedging and absorption read off the cosines of a toy's parent and child features with the SAE's latents.

Feature Hedging (Chanin et al. 2025): a latent tracking the parent that mixes in the children
(positive cosine) hedges; a parent latent whose encoder subtracts the children (negative
cosine) and child latents whose decoders carry the parent show absorption. The official
code judges the toys from these cosines alone (`plot_sae_feat_cos_sims_seaborn`), with no
scalar; the latent "tracking" a feature is our choice: the one whose decoder row has the
largest signed cosine with it.
"""

from __future__ import annotations

from typing import Any

import torch
from sae_lens.util import cosine_similarities

from sae.config.sources import HierarchyNode


def parent_child_pairs(roots: list[HierarchyNode]) -> list[tuple[int, int]]:
    """Every (parent, child) edge of the trees, as feature indices."""
    pairs: list[tuple[int, int]] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        pairs += [(node.feature, child.feature) for child in node.children]
        stack += node.children
    return sorted(pairs)


@torch.no_grad()
def hierarchy_cosines(W_dec_HD: torch.Tensor, W_enc_DH: torch.Tensor, features_FD: torch.Tensor,
                      pairs: list[tuple[int, int]]) -> dict[str, float]:
    """Signed cosines of the parent latents with the child features, and of the child latents with the parent."""
    dec_HF = cosine_similarities(W_dec_HD, features_FD)
    enc_HF = cosine_similarities(W_enc_DH.T, features_FD)
    tracking_F = dec_HF.argmax(dim=0)
    parents = torch.tensor([p for p, _ in pairs])
    children = torch.tensor([c for _, c in pairs])
    parent_latents = tracking_F[parents]
    enc = enc_HF[parent_latents, children]
    # a narrow SAE may have no latent of its own for a child: the parent's latent then tracks it too
    own_child = tracking_F[children] != parent_latents
    child_dec = dec_HF[tracking_F[children], parents][own_child]
    values = {
        "parent_child_dec_cos": dec_HF[parent_latents, children].mean().item(),
        "parent_child_enc_cos": enc.mean().item(),
        "parent_child_enc_cos_min": enc.min().item(),
    }
    if own_child.any():
        values["child_parent_dec_cos"] = child_dec.mean().item()
    return values


def compute(ctx: Any, config: Any) -> dict[str, float]:
    hierarchy = getattr(ctx.source.model, "hierarchy", None)
    if not hierarchy:
        return {}
    return hierarchy_cosines(ctx.sae.W_dec.detach(), ctx.sae.W_enc.detach(), ctx.source.true_features_FD,
                             parent_child_pairs(hierarchy))
