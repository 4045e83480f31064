"""The cost of splicing each SAE of an LLM experiment into its model, with the model loaded once."""

from __future__ import annotations

from pathlib import Path

import torch
from sae_lens import SAE

from sae import tracking
from sae.config import Experiment, GridPoint
from sae.data.llm import heldout_contexts, keep_mask, load_causal_lm, load_tokenizer
from sae.io import atomic_write_json
from sae.metrics.downstream import splice_metrics
from sae.tracking import Tracking
from sae.runtime import resolve_device


@torch.no_grad()
def splice_costs(exp: Experiment, points: list[GridPoint], sae_dirs: list[Path], out_json: Path,
                 track: Tracking | None) -> dict[str, dict[str, float]]:
    """grid key -> CE-loss increase and KL of the model with that SAE spliced in, on held-out contexts."""
    source, device = exp.source, resolve_device(exp.training.device)
    tokenizer = load_tokenizer(source)
    tokens_BT = heldout_contexts(tokenizer, source, exp.metrics.splice_contexts).to(device)
    keep_BT = keep_mask(tokens_BT, tokenizer.bos_token_id, source.drop_bos)
    model = load_causal_lm(source, device)
    costs = {}
    for point, sae_dir in zip(points, sae_dirs, strict=True):
        sae = SAE.load_from_disk(str(sae_dir), device=device)
        costs[point.key] = splice_metrics(model, source.layer, sae, tokens_BT, keep_BT)
        if track is not None:
            run_id = tracking.child_run_id(track.uri, track.parent_run_id, point.key)
            tracking.log_metrics(track.uri, run_id, metrics=costs[point.key])
    atomic_write_json(out_json, costs)
    return costs
