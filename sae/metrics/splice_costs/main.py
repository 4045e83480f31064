"""The cost of splicing an SAE into a language model: CE-loss increase and KL to the clean model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sae.data.llm import decoder_blocks, heldout_contexts, keep_mask


@torch.no_grad()
def splice_metrics(model: nn.Module, layer: int, sae: Any, tokens_BT: torch.Tensor,
                   keep_BT: torch.Tensor) -> dict[str, float]:
    """Next-token CE of the clean model and with block `layer`'s output replaced by the SAE's
    reconstruction at the `keep_BT` positions (those the SAE was trained on), and the mean
    KL(clean || spliced) of the next-token distributions."""

    def splice(module: nn.Module, args: Any, output: Any) -> Any:
        hidden_BTD = output[0] if isinstance(output, tuple) else output
        recon_BTD = sae.decode(sae.encode(hidden_BTD.float())).to(hidden_BTD.dtype)
        spliced_BTD = torch.where(keep_BT.unsqueeze(-1), recon_BTD, hidden_BTD)
        return (spliced_BTD, *output[1:]) if isinstance(output, tuple) else spliced_BTD

    clean_BTV = model(input_ids=tokens_BT, use_cache=False).logits.float()
    handle = decoder_blocks(model)[layer].register_forward_hook(splice)
    try:
        spliced_BTV = model(input_ids=tokens_BT, use_cache=False).logits.float()
    finally:
        handle.remove()
    # position t predicts token t + 1
    targets = tokens_BT[:, 1:].reshape(-1)
    logp_clean = F.log_softmax(clean_BTV[:, :-1], dim=-1).flatten(0, 1)
    logp_spliced = F.log_softmax(spliced_BTV[:, :-1], dim=-1).flatten(0, 1)
    ce_clean = F.nll_loss(logp_clean, targets).item()
    ce_spliced = F.nll_loss(logp_spliced, targets).item()
    kl = F.kl_div(logp_spliced, logp_clean, log_target=True, reduction="batchmean").item()
    return {"ce_loss_clean": ce_clean, "ce_loss_spliced": ce_spliced,
            "ce_loss_increase": ce_spliced - ce_clean, "kl_div": kl}


@dataclass
class _Prepared:
    lm: Any
    tokens_BT: torch.Tensor
    keep_BT: torch.Tensor


def prepare(lm: Any, config: Any) -> _Prepared:
    """Held-out contexts (never in the store's training split), tokenised once for every SAE."""
    tokens_BT = heldout_contexts(lm.tokenizer, lm.source, config.contexts).to(lm.device)
    return _Prepared(lm, tokens_BT, keep_mask(tokens_BT, lm.tokenizer.bos_token_id, lm.source.drop_bos))


def compute(prepared: _Prepared, sae: Any) -> dict[str, float]:
    lm = prepared.lm
    return splice_metrics(lm.model, lm.source.layer, sae, prepared.tokens_BT, prepared.keep_BT)
