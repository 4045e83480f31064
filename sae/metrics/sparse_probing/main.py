"""Sparse probing of one SAE with sae-probes' own functions ("normal" setting, L1 probes on the top-k latents).

Not `sae_probes.run_sae_evals`: it skips a dataset whose result file exists, so two SAEs on one
hook would silently share results, and it extracts activations through TransformerLens. Here the
activations come from the probe set written once per source (`sae.data.probing`); per SAE only
`sae.encode`, the latent ranking and the probe fits run.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sae.data.probing import ProbingData, read_probe_set

log = logging.getLogger(__name__)

# sae-probes run_sae_evals(reg_type="l1", setting="normal"), as the Sparse-but-Wrong paper ran it.
PENALTY, SEED = "l1", 42


def probe_topk(x_train: torch.Tensor, y_train: np.ndarray, x_test: torch.Tensor, y_test: np.ndarray,
               ks: list[int], normalize: bool) -> dict[int, dict[str, float]]:
    """k -> test F1 (weighted), accuracy and AUC of an L1 probe on the top-k columns by |class-mean difference|.

    `normalize`: divide each column by its mean non-zero activation before ranking (sae-probes'
    `mean_act_normalization`, for SAE latents); raw activations are ranked as they are.
    """
    from sae_probes.run_sae_evals import get_sorted_indices, mean_act_normalization
    from sae_probes.utils_training import find_best_reg
    from sklearn.exceptions import ConvergenceWarning

    order = get_sorted_indices(x_train, torch.from_numpy(y_train), mean_act_normalization if normalize else None)
    results = {}
    for k in ks:
        top = order[:k]
        with warnings.catch_warnings():
            # scikit-learn >= 1.8 deprecates the `penalty` argument sae-probes passes (one warning per fit),
            # and saga often stops at max_iter=1000 on the weakest C: both as in the paper's runs
            warnings.filterwarnings("ignore", message="Inconsistent values: penalty", category=UserWarning)
            warnings.filterwarnings("ignore", message="'penalty' was deprecated", category=FutureWarning)
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            fit = find_best_reg(x_train[:, top].numpy(), y_train, x_test[:, top].numpy(), y_test, penalty=PENALTY,
                                seed=SEED)
        results[k] = {"f1": fit.metrics.test_f1, "acc": fit.metrics.test_acc, "auc": fit.metrics.test_auc}
    return results


def _columns(prefix: str, per_dataset: dict[str, dict[int, dict[str, float]]], ks: list[int]) -> dict[str, float]:
    """Means over datasets (`{prefix}_{metric}_k{k}`) and each dataset's F1 (`{prefix}_f1_k{k}/{dataset}`)."""
    out = {}
    for k in ks:
        for metric in ("f1", "acc", "auc"):
            out[f"{prefix}_{metric}_k{k}"] = float(np.mean([r[k][metric] for r in per_dataset.values()]))
        out |= {f"{prefix}_f1_k{k}/{tag}": r[k]["f1"] for tag, r in per_dataset.items()}
    return out


def constant_f1(y_test: np.ndarray) -> float:
    """Weighted test F1 of always answering the majority class, 2p²/(1 + p) for its share p: the level a probe
    that learned nothing reaches (1/3 on balanced classes), drawn as chance in the probing figure."""
    p = float(np.bincount(np.asarray(y_test, dtype=int)).max()) / len(y_test)
    return 2 * p * p / (1 + p)


@dataclass
class _Prepared:
    data: dict[str, ProbingData]
    ks: list[int]
    device: str
    baseline: dict[str, float]


def prepare(lm: Any, config: Any) -> _Prepared:
    """The probe set of this source, and the baseline: the same probe on the raw activations."""
    data = read_probe_set(lm.inputs["probing_activations"])
    start = time.perf_counter()
    raw = {tag: probe_topk(d.x_ND[d.train], d.y[d.train], d.x_ND[d.test], d.y[d.test], config.ks, normalize=False)
           for tag, d in data.items()}
    log.info("raw-activation baseline on %d datasets in %.1f s", len(data), time.perf_counter() - start)
    chance = {"probe_chance_f1": float(np.mean([constant_f1(d.y[d.test]) for d in data.values()]))}
    return _Prepared(data, list(config.ks), lm.device, _columns("probe_raw", raw, config.ks) | chance)


@torch.no_grad()
def compute(prepared: _Prepared, sae: Any) -> dict[str, float]:
    start = time.perf_counter()
    per_dataset = {}
    for tag, d in prepared.data.items():
        latents_NH = sae.encode(d.x_ND.to(prepared.device)).float().cpu()
        per_dataset[tag] = probe_topk(latents_NH[d.train], d.y[d.train], latents_NH[d.test], d.y[d.test],
                                      prepared.ks, normalize=True)
    log.info("sparse probing of one SAE on %d datasets in %.1f s", len(per_dataset), time.perf_counter() - start)
    return _columns("probe", per_dataset, prepared.ks) | prepared.baseline | {
        "probe_seconds": time.perf_counter() - start}
