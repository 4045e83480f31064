"""The sae-probes binary datasets as probing prompts, and their last-token activations, extracted once.

A probe set (model, layer, datasets, rows; `sae.metrics.sparse_probing.spec.probe_set`) is
written once into its own folder and read by every SAE of every experiment on that model
and layer, as the activation store is. Each prompt runs through the same truncated forward
as the store (`TruncatedLM`: the hooked block's output, never a hidden state taken after the
final norm) and starts with BOS as every store context does; the activation read is the last
prompt token's (sae-probes' last-token pooling). The train/test split of every dataset is
sae-probes' own (`get_train_test_indices`, "normal" setting) and is recorded with the activations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from sae.config import LLMSource
from sae.data.inputs import resolve_model
from sae.data.llm import TruncatedLM, load_causal_lm, load_tokenizer
from sae.io import atomic_path, atomic_write_json, read_json, read_tensors

ACTIVATIONS_FILE = "activations.safetensors"  # beside the manifest

log = logging.getLogger(__name__)

# sae-probes "normal" setting (run_sae_evals.py, utils_data.get_xy_traintest_specify): at most 1,024
# training prompts, at least 100 test prompts, classes balanced, seed 42.
MAX_TRAIN, MIN_TEST, SPLIT_SEED = 1024, 100, 42


def dataset_tags(datasets: list[str] | str) -> list[str]:
    if datasets == "all":
        import sae_probes

        return list(sae_probes.DATASETS)
    return list(datasets)


def dataset_prompts(tag: str, rows: int, seed: int = SPLIT_SEED) -> tuple[list[str], np.ndarray]:
    """Up to `rows` prompts of dataset `tag`, half of each class (seeded), and their 0/1 labels."""
    from sae_probes.utils_data import get_yvals, read_numbered_dataset_df

    prompts, y = read_numbered_dataset_df(tag)["prompt"].astype(str).to_numpy(), get_yvals(tag)
    rng = np.random.RandomState(seed)
    per_class = rows // 2
    keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in (0, 1)]))
    return prompts[keep].tolist(), y[keep]


def split_indices(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sae-probes' normal split of labels `y`: n_train = min(N - 100, 1024), the rest (but one) is the test."""
    from sae_probes.utils_data import get_train_test_indices

    n_train = min(len(y) - MIN_TEST, MAX_TRAIN)
    # as get_xy_traintest_specify with num_test=None
    return get_train_test_indices(y, n_train, len(y) - n_train - 1, pos_ratio=0.5, seed=SPLIT_SEED)


def _batches(tokenizer: Any, prompts: list[str], batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(tokens [B, T] right-padded, index of each prompt's last token [B]); BOS first, as in the store."""
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    for start in range(0, len(prompts), batch_size):
        ids = [bos + t for t in tokenizer(prompts[start:start + batch_size], add_special_tokens=False)["input_ids"]]
        width = max(map(len, ids))
        # Right padding: a causal model's last real token never attends to the pads after it.
        tokens_BT = torch.tensor([t + [pad] * (width - len(t)) for t in ids], dtype=torch.long)
        yield tokens_BT, torch.tensor([len(t) - 1 for t in ids])


def last_token_activations(lm: TruncatedLM, tokenizer: Any, prompts: list[str], batch_size: int,
                           device: str) -> tuple[torch.Tensor, int]:
    """[N, D] activations of each prompt's last token, and the number of forward passes run."""
    # batches of similar lengths waste little on padding; rows go back to the prompts' order at the end
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    rows, passes = [], 0
    for tokens_BT, last_B in _batches(tokenizer, [prompts[i] for i in order], batch_size):
        acts_BTD = lm(tokens_BT.to(device))
        rows.append(acts_BTD[torch.arange(len(last_B)), last_B.to(device)].float().cpu())
        passes += 1
    acts_ND = torch.empty_like(torch.cat(rows))
    acts_ND[torch.tensor(order)] = torch.cat(rows)
    return acts_ND, passes


def write_probe_set(source: LLMSource, datasets: list[str] | str, rows: int, batch_size: int,
                    manifest_path: Path | str, device: str) -> dict[str, Any]:
    """Extract and write the probing activations, labels and split of every dataset beside `manifest_path`
    (a shared input's manifest, `layout.SHARED_INPUT_MANIFEST`); returns the manifest."""
    start = time.perf_counter()
    tokenizer = load_tokenizer(source)
    lm = TruncatedLM(load_causal_lm(source, device), source.layer)
    log.info("loaded %s for the probing activations in %.1f s", source.model, time.perf_counter() - start)
    tensors, splits, passes, prompts_total = {}, {}, 0, 0
    forward_seconds = 0.0
    for tag in dataset_tags(datasets):
        prompts, y = dataset_prompts(tag, rows)
        train, test = split_indices(y)
        t0 = time.perf_counter()
        acts_ND, n = last_token_activations(lm, tokenizer, prompts, batch_size, device)
        forward_seconds += time.perf_counter() - t0
        passes, prompts_total = passes + n, prompts_total + len(prompts)
        tensors |= {f"{tag}.x": acts_ND, f"{tag}.y": torch.from_numpy(y).long(),
                    f"{tag}.train": torch.from_numpy(train).long(), f"{tag}.test": torch.from_numpy(test).long()}
        splits[tag] = {"rows": len(y), "n_train": len(train), "n_test": len(test)}
        log.info("%s: %d prompts, %d train / %d test", tag, len(y), len(train), len(test))
    with atomic_path(_activations_path(manifest_path)) as tmp:
        save_file(tensors, str(tmp))
    path, gguf_file = resolve_model(source.model, source.gguf_file)
    manifest = {
        "model": path, "gguf_file": gguf_file, "layer": source.layer, "hook": source.hook,
        "bos_prepended": tokenizer.bos_token_id is not None, "pooling": "last token",
        "split": {"seed": SPLIT_SEED, "max_train": MAX_TRAIN, "min_test": MIN_TEST, "datasets": splits},
        # the text the SAEs of this source trained on, and what was kept out of it
        "training_text": {"dataset": source.dataset,
                          "probing_holdout": source.probing_holdout if source.dataset == "sae-probes" else None},
        "extraction": {"prompts": prompts_total, "forward_passes": passes, "forward_seconds": forward_seconds,
                       "seconds": time.perf_counter() - start},
    }
    # written last: its presence means the set is complete
    atomic_write_json(manifest_path, manifest)
    return manifest


def _activations_path(manifest_path: Path | str) -> Path:
    return Path(manifest_path).with_name(ACTIVATIONS_FILE)


@dataclass(frozen=True)
class ProbingData:
    """One dataset's activations [N, D], labels and sae-probes split."""

    x_ND: torch.Tensor
    y: np.ndarray
    train: np.ndarray
    test: np.ndarray


def read_probe_set(manifest_path: Path | str) -> dict[str, ProbingData]:
    """dataset tag -> its probing data, from the folder `write_probe_set` wrote."""
    tags = read_json(manifest_path)["split"]["datasets"]
    tensors = read_tensors(_activations_path(manifest_path))
    return {tag: ProbingData(tensors[f"{tag}.x"], tensors[f"{tag}.y"].numpy(), tensors[f"{tag}.train"].numpy(),
                             tensors[f"{tag}.test"].numpy()) for tag in tags}
