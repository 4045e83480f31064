"""One registered per-experiment LLM evaluation over every SAE of an experiment, the model loaded once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
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
    # files of data rules the evaluation declared it reads (`MetricSpec.reads`)
    inputs: Mapping[str, Path] = field(default_factory=dict)


def load_language_model(source: Any, device: str, inputs: Mapping[str, Path] | None = None) -> LanguageModel:
    start = time.perf_counter()
    lm = LanguageModel(source, load_tokenizer(source), load_causal_lm(source, device), device, dict(inputs or {}))
    log.info("loaded %s once for this job in %.1f s", source.model, time.perf_counter() - start)
    return lm


@torch.no_grad()
def run_evaluation(name: str, experiment: Any, lm: LanguageModel, saes: Iterable[tuple[str, Path]],
                   on_result: Callable[[str, dict[str, float]], None] | None = None) -> dict[str, dict[str, float]]:
    """grid key -> the evaluation's numbers for that SAE; `saes` yields (grid key, SAE folder)."""
    code, config = metrics.code(name), getattr(experiment.metrics, name)
    prepared = code.prepare(lm, config)
    results = {}
    for key, sae_dir in saes:
        results[key] = code.compute(prepared, load_sae(sae_dir, device=lm.device))
        if on_result is not None:
            on_result(key, results[key])
    return results
