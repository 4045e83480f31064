"""One registered per-experiment LLM evaluation over every SAE of an experiment, the model loaded once."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from sae import metrics
from sae.architectures import load_sae
from sae.data.llm import load_causal_lm, load_tokenizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LanguageModel:
    """The experiment's language model, loaded once per job, as every evaluation sees it."""

    source: Any  # sae.config.LLMSource
    tokenizer: Any  # None (with the model) for evaluations that declare `needs_model=False`
    model: torch.nn.Module | None
    device: str
    # the manifests of the shared inputs the evaluation declared it reads (`MetricSpec.shared_inputs`), by name
    inputs: Mapping[str, Path] = field(default_factory=dict)


def load_language_model(source: Any, device: str, inputs: Mapping[str, Path] | None = None) -> LanguageModel:
    start = time.perf_counter()
    lm = LanguageModel(source, load_tokenizer(source), load_causal_lm(source, device), device, dict(inputs or {}))
    log.info("loaded %s once for this job in %.1f s", source.model, time.perf_counter() - start)
    return lm


@torch.no_grad()
def run_evaluation(name: str, experiment: Any, lm: LanguageModel, saes: Iterable[tuple[str, Path]]) -> dict[str, dict[str, float]]:
    """grid key -> the evaluation's numbers for that SAE; `saes` yields (grid key, SAE folder)."""
    code, config = metrics.code(name), getattr(experiment.metrics, name)
    prepared = code.prepare(lm, config)
    return {key: code.compute(prepared, load_sae(sae_dir, device=lm.device)) for key, sae_dir in saes}
