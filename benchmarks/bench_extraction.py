"""Extraction and store-training throughput against their upper bounds (issue 3). Not a test.

    .venv/bin/python benchmarks/bench_extraction.py [--tokens 12288] [--layer 6] [--threads 2]

Extraction: tokens/s of the `extract_activations` loop (tokenising, forward, writing
shards) against (a) a bare forward pass of the same truncated model over the
same contexts and (b) a full forward pass with `output_hidden_states`.
Training: samples/s of `train_sae` fed by `StoreBatches` against the same SAE
fed from an in-memory tensor. The model is loaded once; each timing is the
best of `--rounds` interleaved runs, on the wall clock and on process CPU
time, because a shared CPU makes single wall-clock runs noisy.
Targets: extraction >= 0.9x bare forward, store training >= 0.8x in-memory.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sae.config import LLMSource
from sae.data import llm
from sae.data.store import ActivationStore, StoreBatches
from sae.train.loop import train_sae
from sae.train.spec import TrainSpec


class TensorBatches:
    """In-memory counterpart of `StoreBatches`: a seeded reshuffle per epoch, one gather per batch."""

    def __init__(self, acts_ND: torch.Tensor, batch_size: int, seed: int):
        self.acts_ND, self.batch_size, self.seed = acts_ND, batch_size, seed
        self.cursor = 0

    def __next__(self) -> torch.Tensor:
        epoch, offset = divmod(self.cursor, len(self.acts_ND) - len(self.acts_ND) % self.batch_size)
        perm_N = torch.from_numpy(np.random.default_rng([self.seed, epoch]).permutation(len(self.acts_ND)))
        self.cursor += self.batch_size
        return self.acts_ND[perm_N[offset:offset + self.batch_size]]

    def state_dict(self) -> dict[str, Any]:
        return {"cursor": self.cursor}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.cursor = state["cursor"]


def _timed(fn: Any) -> tuple[float, float]:
    """(wall, process CPU) seconds: on a shared machine CPU time is the steadier measure of work."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _forward_all(forward: Any, batches: list[torch.Tensor]) -> None:
    with torch.inference_mode():
        for tokens_BT in batches:
            forward(tokens_BT)


def bench_extraction(source: LLMSource, work: Path, rounds: int) -> tuple[dict[str, float], Path]:
    tokenizer = llm.load_tokenizer(source)
    first_batch_s, _ = _timed(lambda: next(llm.iter_token_batches(tokenizer, source)))
    batches = list(_bounded(llm.iter_token_batches(tokenizer, source), tokenizer.bos_token_id, source))
    model = llm.load_causal_lm(source, "cpu")
    full = _timed(lambda: _forward_all(lambda t: model(t, output_hidden_states=True), batches))
    with torch.inference_mode():
        reference_BTD = model(batches[0], output_hidden_states=True).hidden_states[source.layer + 1]
    reference_ND = reference_BTD[llm.keep_mask(batches[0], tokenizer.bos_token_id, source.drop_bos)]
    lm = llm.TruncatedLM(model, source.layer)

    bare, extract = [], []
    for r in range(rounds):
        bare.append(_timed(lambda: _forward_all(lm, batches)))
        extract.append(_timed(lambda: llm.write_store(source, work / f"store{r}", tokenizer, lm, "cpu",
                                                      progress=False)))
    stored_ND = ActivationStore(work / "store0").load("train", max_rows=len(reference_ND))
    results: dict[str, Any] = {"tokens": source.tokens, "contexts": sum(len(b) for b in batches),
                               "text_startup_s": first_batch_s,
                               "stored_vs_hidden_states_max_abs_diff": float((stored_ND - reference_ND).abs().max()),
                               "reference_max_abs": float(reference_ND.abs().max())}
    for i, clock in enumerate(("wall", "cpu")):
        rate = {name: source.tokens / min(t[i] for t in runs)
                for name, runs in (("extraction", extract), ("bare_forward", bare), ("full_forward", [full]))}
        results[clock] = {
            "seconds": {"extraction": [t[i] for t in extract], "bare_forward": [t[i] for t in bare],
                        "full_forward_hidden_states": full[i]},
            "tokens_per_s": rate,
            "extraction_vs_bare": rate["extraction"] / rate["bare_forward"],
            "extraction_vs_full": rate["extraction"] / rate["full_forward"],
        }
    return results, work / "store0"


def _bounded(batches: Any, bos_id: int | None, source: LLMSource) -> Any:
    """The batches extraction runs for this source's token budget."""
    stored = 0
    for tokens_BT in batches:
        yield tokens_BT
        stored += int(llm.keep_mask(tokens_BT, bos_id, source.drop_bos).sum())
        if stored >= source.tokens:
            return


def bench_training(store_dir: Path, steps: int, width: int, l0: int, rounds: int) -> dict[str, Any]:
    store = ActivationStore(store_dir)
    spec = TrainSpec(architecture="batchtopk", d_in=store.d_model, width=width, l0=l0, seed=0,
                     samples=steps * 1024, batch_size=1024, lr=3e-4, log_every=steps)
    in_memory_ND = store.load("train")
    warm_up = TrainSpec(**{**spec.__dict__, "samples": 3 * 1024})
    train_sae(warm_up, TensorBatches(in_memory_ND, 1024, 0), progress=False)
    memory, disk = [], []
    for _ in range(rounds):
        memory.append(_timed(lambda: train_sae(spec, TensorBatches(in_memory_ND, 1024, 0), progress=False)))
        disk.append(_timed(lambda: train_sae(spec, StoreBatches(store_dir, 1024, seed=0), progress=False)))
    results: dict[str, Any] = {"train_rows": len(in_memory_ND), "samples": spec.samples}
    for i, clock in enumerate(("wall", "cpu")):
        store_rate = spec.samples / min(t[i] for t in disk)
        memory_rate = spec.samples / min(t[i] for t in memory)
        results[clock] = {"store_samples_per_s": store_rate, "memory_samples_per_s": memory_rate,
                          "store_vs_memory": store_rate / memory_rate}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=12_288)
    parser.add_argument("--layer", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--l0", type=int, default=32)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    # Small shards, so that even this short run streams several buffers from disk.
    source = LLMSource(layer=args.layer, tokens=args.tokens, heldout_tokens=args.tokens // 4,
                       shard_tokens=2048, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        extraction, store_dir = bench_extraction(source, Path(tmp), args.rounds)
        training = bench_training(store_dir, args.train_steps, args.width, args.l0, args.rounds)
    results = {"threads": args.threads, "layer": args.layer, "extraction": extraction, "training": training}
    print(json.dumps(results, indent=2))
    print(f"stored vs output_hidden_states[{args.layer + 1}] (first batch): max abs diff "
          f"{extraction['stored_vs_hidden_states_max_abs_diff']:.3g}")
    for clock in ("wall", "cpu"):
        e, t = extraction[clock], training[clock]
        print(f"[{clock} clock] extraction {e['tokens_per_s']['extraction']:.0f} tok/s = "
              f"{e['extraction_vs_bare']:.3f}x bare truncated forward (target >= 0.9), "
              f"{e['extraction_vs_full']:.2f}x full forward with output_hidden_states; "
              f"training from store {t['store_samples_per_s']:.0f} samples/s = "
              f"{t['store_vs_memory']:.3f}x in-memory (target >= 0.8)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
