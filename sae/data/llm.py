"""Residual-stream activations of a causal LM, extracted once into an activation store.

The model runs only up to the hooked block: the block list is truncated to
`layer + 1` (the later blocks are never even kept in memory) and a forward hook
on the last kept block captures its output and raises, so neither the final
norm nor the LM head runs. Running the model's own forward, rather than calling
the embedding and blocks by hand, keeps every architecture detail right for free
(Gemma's embedding scale, sliding-window masks, rotary embeddings).

Texts are tokenised in a fixed order and packed into contexts of
`context_length` tokens, each starting with BOS, so the token stream, and hence
the store, is a pure function of the config: that is what makes resuming after
a kill exact.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from sae.config import LLMSource
from sae.data.inputs import (OFFLINE_DATASET, OFFLINE_MODEL, local_format, names_a_local_path, package_dir,
                             resolve_model, store_identity)
from sae.data.store import ShardWriter, read_complete_manifest
from sae.runtime import resolve_device

_TOKENIZE_CHUNK = 256


def _from_pretrained(auto_class: Any, source: LLMSource, **kwargs: Any) -> Any:
    path, gguf_file = resolve_model(source.model, source.gguf_file)
    try:
        return auto_class.from_pretrained(path, gguf_file=gguf_file, **kwargs)
    except OSError as err:
        if source.model == OFFLINE_MODEL or names_a_local_path(source.model):
            raise
        # transformers' own message for an unreachable hub spans many lines and does not say what to do offline
        cause = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OSError(f"source.model {source.model!r} is not a local folder and the Hugging Face hub did not "
                      f"provide it ({cause}); without network, download it on a connected machine "
                      f"(`huggingface-cli download {source.model}`) and set source.model to that folder") from err


def load_tokenizer(source: LLMSource) -> Any:
    from transformers import AutoTokenizer

    return _from_pretrained(AutoTokenizer, source)


def load_causal_lm(source: LLMSource, device: str) -> nn.Module:
    from transformers import AutoModelForCausalLM

    return _from_pretrained(AutoModelForCausalLM, source, dtype=getattr(torch, source.dtype)).to(device).eval()


class _StopForward(Exception):
    """Raised from the hooked block so that nothing after it runs."""


def _block_list_name(decoder: nn.Module) -> str:
    for name in ("layers", "h", "blocks"):
        if isinstance(getattr(decoder, name, None), nn.ModuleList):
            return name
    raise ValueError(f"cannot find the block list of {type(decoder).__name__}")


def decoder_blocks(model: nn.Module) -> nn.ModuleList:
    """The transformer blocks of a causal LM, in order."""
    decoder = model.get_decoder()
    return getattr(decoder, _block_list_name(decoder))


class TruncatedLM:
    """The decoder of `model`, cut in place after block `layer`; calling it returns that block's output.

    The output is `hidden_states[layer + 1]` of a full forward pass with
    `output_hidden_states=True`, except for the last layer, where transformers
    reports the hidden state after the final norm instead.
    """

    def __init__(self, model: nn.Module, layer: int):
        self.decoder = model.get_decoder()
        name = _block_list_name(self.decoder)
        blocks = getattr(self.decoder, name)
        if layer >= len(blocks):
            raise ValueError(f"layer {layer} does not exist: the model has {len(blocks)} blocks")
        setattr(self.decoder, name, blocks[:layer + 1])
        blocks[layer].register_forward_hook(self._capture)
        self.d_model = model.config.get_text_config().hidden_size
        self._acts_BTD: torch.Tensor | None = None

    def _capture(self, module: nn.Module, args: Any, output: Any) -> None:
        self._acts_BTD = output[0] if isinstance(output, tuple) else output
        raise _StopForward

    @torch.inference_mode()
    def __call__(self, tokens_BT: torch.Tensor) -> torch.Tensor:
        try:
            self.decoder(input_ids=tokens_BT, use_cache=False)
        except _StopForward:
            pass
        acts_BTD, self._acts_BTD = self._acts_BTD, None
        return acts_BTD


def _csv_prompts(path: Path) -> Iterator[str]:
    import pandas as pd

    # Chunked, so that a small budget decompresses only the head of each file.
    with pd.read_csv(path, usecols=["prompt"], dtype=str, chunksize=64) as chunks:
        for chunk in chunks:
            yield from chunk["prompt"].dropna()


def _sae_probes_file(tag: str) -> Path:
    return package_dir("sae_probes") / "data" / "cleaned_data" / f"{tag}.csv.zst"


def _sae_probes_texts(holdout: Iterable[str]) -> Iterator[str]:
    """The sae-probes prompts but those of the `holdout` datasets, which probing tests on."""
    held = set(holdout)
    files = sorted(p for p in _sae_probes_file("*").parent.glob("*.csv.zst")
                   if p.name.removesuffix(".csv.zst") not in held)
    # Several datasets share prompts (every nyc_borough_* holds 10_nyc_borough's), so a held-out
    # dataset's prompts are excluded wherever they occur, not only its file; the same set dedups.
    seen: set[str] = set(itertools.chain.from_iterable(_csv_prompts(_sae_probes_file(tag)) for tag in sorted(held)))
    for text in itertools.chain.from_iterable(itertools.zip_longest(*map(_csv_prompts, files))):
        if text is not None and text not in seen:
            seen.add(text)
            yield text


def _batched(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    # itertools.batched arrives only in Python 3.12.
    it = iter(items)
    while batch := list(itertools.islice(it, n)):
        yield batch


def iter_texts(source: LLMSource) -> Iterator[str]:
    """Texts of a dataset in a fixed order: the offline prompts, a local file, a local directory or a hub id."""
    if source.dataset == OFFLINE_DATASET:
        yield from _sae_probes_texts(source.probing_holdout)
        return
    from datasets import load_dataset

    path = Path(source.dataset)
    if path.is_file():
        rows = load_dataset(local_format(path), data_files={source.split: str(path)}, split=source.split,
                            streaming=True)
    else:
        # Streaming reads a hub corpus front to back without downloading all of it.
        rows = load_dataset(source.dataset, source.dataset_config, split=source.split, streaming=True)
    for row in rows:
        if row[source.text_column]:
            yield row[source.text_column]


def iter_contexts(tokenizer: Any, texts: Iterable[str], context_length: int) -> Iterator[list[int]]:
    """Pack the texts, separated by EOS, into contexts that each start with BOS (when the model has one)."""
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    separator = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.bos_token_id
    body = context_length - len(bos)
    pending: list[int] = []
    for chunk in _batched(texts, _TOKENIZE_CHUNK):
        for ids in tokenizer(chunk, add_special_tokens=False, verbose=False)["input_ids"]:
            pending.extend(ids)
            if separator is not None:
                pending.append(separator)
        n_full = len(pending) // body
        for i in range(n_full):
            yield bos + pending[i * body:(i + 1) * body]
        del pending[:n_full * body]


def iter_token_batches(tokenizer: Any, source: LLMSource) -> Iterator[torch.Tensor]:
    """Batches of packed contexts [B, T]; every context is full, so no padding is ever needed."""
    contexts = iter_contexts(tokenizer, iter_texts(source), source.context_length)
    for batch in _batched(contexts, source.batch_size):
        yield torch.tensor(batch, dtype=torch.long)


def heldout_token_batches(tokenizer: Any, source: LLMSource) -> Iterator[torch.Tensor]:
    """The contexts [B, T] whose stored positions all lie in the store's held-out split.

    For diagnostics that need text rather than activations (the cost of splicing
    an SAE into the model): training never saw any position of these contexts.
    """
    first_heldout, seen = source.tokens - source.heldout_tokens, 0
    contexts: list[torch.Tensor] = []
    for tokens_T in itertools.chain.from_iterable(iter_token_batches(tokenizer, source)):
        if seen >= source.tokens:
            break
        n_keep = int(keep_mask(tokens_T, tokenizer.bos_token_id, source.drop_bos).sum())
        if seen >= first_heldout and seen + n_keep <= source.tokens:
            contexts.append(tokens_T)
        seen += n_keep
    for batch in _batched(contexts, source.batch_size):
        yield torch.stack(batch)


def heldout_contexts(tokenizer: Any, source: LLMSource, n: int) -> torch.Tensor:
    """The first `n` held-out contexts [n, T] (fewer if the held-out split holds fewer)."""
    contexts: list[torch.Tensor] = []
    for batch_BT in heldout_token_batches(tokenizer, source):
        contexts.extend(batch_BT)
        if len(contexts) >= n:
            break
    if not contexts:
        raise ValueError("the store's held-out split holds no whole context: raise heldout_tokens")
    return torch.stack(contexts[:n])


def keep_mask(tokens_BT: torch.Tensor, bos_id: int | None, drop_bos: bool) -> torch.Tensor:
    """Positions whose activations are stored."""
    if drop_bos and bos_id is not None:
        return tokens_BT != bos_id
    return torch.ones_like(tokens_BT, dtype=torch.bool)


def sae_metadata(source: LLMSource) -> dict[str, Any]:
    """What an SAE trained on `source` reads, in the fields SAELens's own LLM training runner writes into
    `cfg.json` metadata (`LanguageModelSAETrainingRunner._set_sae_metadata`), so that other tools accept it."""
    _, gguf_file = resolve_model(source.model, source.gguf_file)
    return {
        "model_name": source.model,
        # ours (not model_from_pretrained_kwargs, on which SAELens warns at every load)
        "gguf_file": gguf_file,
        # TransformerLens's name for the output of block `layer`
        "hook_name": f"blocks.{source.layer}.hook_{source.hook}",
        "context_size": source.context_length,
        "prepend_bos": True,  # every packed context starts with BOS (iter_contexts)
        "exclude_special_tokens": source.drop_bos,  # only BOS positions are left out of the store
        "sequence_separator_token": "eos",
        "dataset_path": source.dataset,
    }


def extraction_spec(source: LLMSource, device: str) -> dict[str, Any]:
    """Everything that determines the store's content, local input files included; a resume must match it exactly."""
    return {**store_identity(source), "device": device}


def extract_activations(source: LLMSource, store_dir: Path | str, threads: int | None = None,
                        progress: bool = True) -> dict[str, Any]:
    """Write the activation store of `source` to `store_dir` and return its manifest.

    Resumes an interrupted extraction of the same source after its last
    complete shard; returns at once when the store is already complete.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    device = resolve_device(source.device)
    manifest = read_complete_manifest(store_dir)
    if manifest is not None and manifest["spec"] == extraction_spec(source, device):
        return manifest
    lm = TruncatedLM(load_causal_lm(source, device), source.layer)
    return write_store(source, store_dir, load_tokenizer(source), lm, device, progress)


def write_store(source: LLMSource, store_dir: Path | str, tokenizer: Any, lm: TruncatedLM, device: str,
                progress: bool = True) -> dict[str, Any]:
    """The extraction loop of `extract_activations`, for a model already loaded and truncated."""
    writer = ShardWriter(store_dir, extraction_spec(source, device), lm.d_model, source.dtype, source.shard_tokens,
                         train_tokens=source.tokens - source.heldout_tokens)
    resume_from = writer.rows_done
    start = time.perf_counter()
    _extract_into(writer, lm, iter_token_batches(tokenizer, source), tokenizer.bos_token_id, source, device,
                  progress)
    writer.flush()
    seconds = time.perf_counter() - start
    if writer.rows_done < source.tokens:
        # A short store would silently shrink the held-out split.
        raise ValueError(f"dataset {source.dataset!r} ran out after {writer.rows_done} of {source.tokens} tokens: "
                         "lower `tokens` or use a larger dataset")
    path, gguf_file = resolve_model(source.model, source.gguf_file)
    info = {
        "model": path, "gguf_file": gguf_file, "layer": source.layer, "hook": source.hook,
        "dataset": source.dataset, "split": source.split, "context_length": source.context_length,
        "drop_bos": source.drop_bos,
        "extraction": {"seconds": seconds, "resumed_from_tokens": resume_from,
                       "tokens_per_second": (writer.rows_done - resume_from) / max(seconds, 1e-9)},
    }
    return writer.finish(info)


def _extract_into(writer: ShardWriter, lm: TruncatedLM, batches: Iterator[torch.Tensor], bos_id: int | None,
                  source: LLMSource, device: str, progress: bool) -> None:
    skip = writer.rows_done
    seen = 0  # stored positions of the token stream up to the current batch
    with tqdm(total=source.tokens, initial=skip, desc=f"extract layer {source.layer}", unit="tok",
              unit_scale=True, disable=not progress, mininterval=2.0) as bar:
        for tokens_BT in batches:
            keep_BT = keep_mask(tokens_BT, bos_id, source.drop_bos)
            n_keep = int(keep_BT.sum())
            # A resumed run re-tokenises but skips the model on batches already on disk.
            if seen + n_keep > skip:
                acts_ND = lm(tokens_BT.to(device))[keep_BT.to(device)]
                lo, hi = max(0, skip - seen), min(n_keep, source.tokens - seen)
                writer.add(acts_ND[lo:hi])
                bar.update(hi - lo)
            seen += n_keep
            if seen >= source.tokens:
                return
