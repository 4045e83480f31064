"""One registered LLM evaluation of every SAE of an experiment, with the language model loaded once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from sae import layout, metrics, tracking
from sae.config import Experiment, GridPoint
from sae.io import atomic_write_json
from sae.llm_eval import LanguageModel, load_language_model, run_evaluation
from sae.runtime import resolve_device
from sae.tracking import RunLog, Tracking


def evaluate_experiment(name: str, exp: Experiment, points: Sequence[GridPoint], point_dirs: Sequence[Path],
                        out_json: Path, track: Tracking | None,
                        inputs: Mapping[str, Path] | None = None) -> dict[str, dict[str, float]]:
    """grid key -> the evaluation's numbers, also logged on each SAE's MLflow child run (one batch)."""
    device = resolve_device(exp.training.device)
    if metrics.METRICS[name].needs_model:
        lm = load_language_model(exp.source, device, inputs)
    else:
        lm = LanguageModel(exp.source, None, None, device, dict(inputs or {}))
    saes = [(p.key, Path(d) / layout.SAE_FOLDER) for p, d in zip(points, point_dirs, strict=True)]
    results = run_evaluation(name, exp, lm, saes)
    atomic_write_json(out_json, results)
    if track is not None:
        ids = tracking.child_run_ids(track.uri, track.parent_run_id, list(results))
        tracking.write_runs(track.uri, {ids[key]: RunLog(metrics=values) for key, values in results.items()})
    return results
