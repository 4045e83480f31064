"""One registered LLM evaluation of every SAE of an experiment, with the language model loaded once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sae import metrics, tracking
from sae.config import Experiment, GridPoint
from sae.io import atomic_write_json
from sae.llm_eval import LanguageModel, load_language_model, run_evaluation
from sae.runtime import resolve_device
from sae.tracking import Tracking


def evaluate_experiment(name: str, exp: Experiment, points: list[GridPoint], sae_dirs: list[Path], out_json: Path,
                        track: Tracking | None, inputs: Mapping[str, Path] | None = None) -> dict[str, dict[str, float]]:
    """grid key -> the evaluation's numbers, also logged on each SAE's MLflow child run."""

    def log_to_child_run(key: str, values: dict[str, float]) -> None:
        if track is not None:
            tracking.log_metrics(track.uri, tracking.child_run_id(track.uri, track.parent_run_id, key), metrics=values)

    device = resolve_device(exp.training.device)
    if metrics.METRICS[name].needs_model:
        lm = load_language_model(exp.source, device, inputs)
    else:
        lm = LanguageModel(exp.source, None, None, device, dict(inputs or {}))
    saes = [(p.key, d) for p, d in zip(points, sae_dirs, strict=True)]
    results = run_evaluation(name, exp, lm, saes, on_result=log_to_child_run)
    atomic_write_json(out_json, results)
    return results
