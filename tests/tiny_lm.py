"""A tiny random language model and corpus built offline, for extraction and workflow tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

WORDS = "the quick brown fox jumps over a lazy dog while seven small cats sleep under one warm red sun".split()


def texts(n: int) -> list[str]:
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(WORDS, size=rng.integers(3, 30))) for _ in range(n)]


def _save_tokenizer(directory: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator([" ".join(WORDS)], trainers.WordLevelTrainer(special_tokens=["<unk>", "<s>", "</s>"]))
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>",
                            pad_token="</s>").save_pretrained(directory)


def _tiny_config(family: str):
    from transformers import Gemma2Config, LlamaConfig

    shared = dict(vocab_size=len(WORDS) + 3, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=64,
                  bos_token_id=1, eos_token_id=2, pad_token_id=2)
    if family == "gemma2":
        # A window shorter than the context, so the sliding-window layers really differ from global ones.
        return Gemma2Config(**shared, sliding_window=6, query_pre_attn_scalar=8)
    return LlamaConfig(**shared)


def save_tiny_lm(directory: Path, family: str = "llama") -> Path:
    """A randomly initialised 3-block causal LM and its word-level tokenizer, saved to `directory`."""
    from transformers import AutoModelForCausalLM

    _save_tokenizer(directory)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(_tiny_config(family)).save_pretrained(directory)
    return directory


def write_corpus(path: Path, n: int) -> Path:
    """`n` random sentences over the tiny vocabulary, one per line."""
    path.write_text("\n".join(texts(n)) + "\n")
    return path
