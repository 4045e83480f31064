"""First-letter feature absorption of each SAE, following SAEBench's `sae_bench/evals/absorption/`.

Once per experiment (`prepare`, the model loaded once): alphabetic vocabulary tokens, prompts
`{word} has the first letter:` after in-context examples, the residual at the word position, and
a ground-truth logistic probe per letter on those residuals. Per SAE (`compute`): k-sparse probes
on its latents pick each letter's main latents, and every token the ground-truth probe detects
gets SAEBench's absorption fraction (`fraction.py`).

Our choices, where SAEBench's setting does not fit a CPU budget or our libraries (docs/language_models.md):
a sample of `words_per_letter` tokens per letter instead of the whole vocabulary; the 80/20 split
by token is made within each letter, so every letter is in the training split; the probes are
scikit-learn logistic regressions (SAEBench trains its ground-truth and L1 probes in torch), the
k-sparse latents being ranked by the positive weights of a per-letter L1 logistic regression.
"""

from __future__ import annotations

import logging
import string
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from sae.data.llm import TruncatedLM
from sae.metrics.absorption.fraction import absorption_fraction, full_absorption

log = logging.getLogger(__name__)

LETTERS = string.ascii_lowercase
# SAEBench k_sparse_probing.py: LogisticRegression(max_iter=500, class_weight="balanced") on the k latents
K_PROBE_MAX_ITER = 500
# ours: strength of the per-letter L1 regression that ranks the latents
L1_C = 1.0


def alphabetic_tokens(tokenizer: Any) -> list[str]:
    """Vocabulary tokens made only of ASCII letters, one leading space allowed (SAEBench `get_alpha_tokens`)."""
    words = set()
    for token in tokenizer.get_vocab():
        word = tokenizer.convert_tokens_to_string([token])
        core = word[1:] if word.startswith(" ") else word
        if core and all(c in string.ascii_letters for c in core):
            words.add(word)
    return sorted(words)


def sample_words(words: list[str], per_letter: int, seed: int) -> dict[str, tuple[list[str], list[str]]]:
    """letter -> (train words, test words): `per_letter` words per letter, split 80/20 within the letter."""
    rng = np.random.default_rng(seed)
    out = {}
    for letter in LETTERS:
        pool = [w for w in words if w.strip()[0].lower() == letter]
        chosen = [pool[i] for i in rng.permutation(len(pool))[:per_letter]]
        n_train = int(round(0.8 * len(chosen)))  # SAEBench train_test_fraction = 0.8
        out[letter] = (chosen[:n_train], chosen[n_train:])
    return out


def icl_prompt(word: str, examples: list[str], template: str) -> str:
    """SAEBench `create_icl_prompt` with its first-letter answers and the separator before the first example."""
    def answer(w: str) -> str:
        return " " + w.strip()[0].upper()

    shots = [template.format(word=ex) + answer(ex) for ex in examples]
    return "\n" + "\n".join([*shots, template.format(word=word)])


def word_activations(lm: Any, prompts: list[str], position: int, batch_size: int) -> torch.Tensor:
    """[N, D] residual of block `layer` at `position` (from each prompt's end), BOS first as in the store."""
    tokenizer = lm.tokenizer
    truncated = TruncatedLM(lm.model, lm.source.layer)
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    rows = []
    for start in range(0, len(prompts), batch_size):
        ids = [bos + t for t in tokenizer(prompts[start:start + batch_size], add_special_tokens=False)["input_ids"]]
        width = max(map(len, ids))
        # right padding: no position attends to the pads after it
        tokens_BT = torch.tensor([t + [pad] * (width - len(t)) for t in ids], dtype=torch.long, device=lm.device)
        read_B = torch.tensor([len(t) + position for t in ids], device=lm.device)
        rows.append(truncated(tokens_BT)[torch.arange(len(ids), device=lm.device), read_B].float().cpu())
    return torch.cat(rows)


@dataclass
class _Prepared:
    x_train: torch.Tensor  # [N_train, D]
    y_train: np.ndarray    # letter index per row
    x_test: torch.Tensor
    y_test: np.ndarray
    probes_LD: torch.Tensor  # unit ground-truth probe directions
    scores_test_NL: np.ndarray  # ground-truth probe scores (logits) on the test rows
    probe_f1: np.ndarray  # [26]
    config: Any
    device: str
    forward_seconds: float  # of the LLM forward in `prepare` (benchmarks/bench_probing.py)


def _prompts(split: dict[str, tuple[list[str], list[str]]], part: int, config: Any,
             rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    words = [(w, i) for i, letter in enumerate(LETTERS) for w in split[letter][part]]
    vocab = [w for w, _ in words]
    prompts = []
    for word, _ in words:
        others = [w for w in vocab if w != word]
        examples = [others[j] for j in rng.choice(len(others), size=min(config.icl_examples, len(others)),
                                                   replace=False)]
        prompts.append(icl_prompt(word, examples, config.prompt_template))
    return prompts, np.array([i for _, i in words])


def prepare(lm: Any, config: Any) -> _Prepared:
    start = time.perf_counter()
    split = sample_words(alphabetic_tokens(lm.tokenizer), config.words_per_letter, config.seed)
    rng = np.random.default_rng(config.seed)
    train_prompts, y_train = _prompts(split, 0, config, rng)
    test_prompts, y_test = _prompts(split, 1, config, rng)
    x = word_activations(lm, train_prompts + test_prompts, config.word_position, config.batch_size)
    x_train, x_test = x[:len(train_prompts)], x[len(train_prompts):]
    forward = time.perf_counter() - start
    probes, scores, f1 = [], [], []
    for i in range(len(LETTERS)):
        if not (y_train == i).any() or not (y_test == i).any():
            # a letter without words in the sample (a small vocabulary) cannot pass the gate
            probes.append(torch.zeros(x.shape[1]))
            scores.append(np.full(len(y_test), -np.inf))
            f1.append(0.0)
            continue
        probe = LogisticRegression(max_iter=1000, class_weight="balanced").fit(x_train.numpy(), y_train == i)
        score = probe.decision_function(x_test.numpy())
        probes.append(torch.from_numpy(probe.coef_[0]).float())
        scores.append(score)
        f1.append(f1_score(y_test == i, score > 0, zero_division=0.0))
    probes_LD = torch.nn.functional.normalize(torch.stack(probes), dim=-1)
    f1 = np.array(f1)
    log.info("absorption: %d train / %d test words, forward %.1f s, probes %.1f s; %d letters with probe F1 > %.2f",
             len(y_train), len(y_test), forward, time.perf_counter() - start - forward,
             int((f1 > config.min_probe_f1).sum()), config.min_probe_f1)
    return _Prepared(x_train, y_train, x_test, y_test, probes_LD, np.stack(scores, axis=1), f1, config, lm.device,
                     forward)


def main_latents(latents_train: np.ndarray, is_letter_train: np.ndarray, latents_test: np.ndarray,
                 is_letter_test: np.ndarray, max_k: int, f1_jump: float) -> list[int]:
    """SAEBench `add_feature_splits_to_metrics_df`: the top-k latents at the last k whose k-sparse probe F1
    improved on the previous k by more than `f1_jump` (none if even k = 1 does not beat -100 + f1_jump)."""
    ranking = LogisticRegression(penalty="l1", solver="liblinear", C=L1_C).fit(latents_train, is_letter_train)
    # SAEBench ranks by weight, not |weight|: latents that predict the letter, not its absence
    order = np.argsort(-ranking.coef_[0], kind="stable")
    best, main = -100.0, []
    for k in range(1, max_k + 1):
        top = order[:k]
        probe = LogisticRegression(max_iter=K_PROBE_MAX_ITER, class_weight="balanced").fit(
            latents_train[:, top], is_letter_train)
        f1 = f1_score(is_letter_test, probe.predict(latents_test[:, top]), zero_division=0.0)
        if f1 <= best + f1_jump:
            break
        best, main = f1, top.tolist()
    return main


@torch.no_grad()
def compute(prepared: _Prepared, sae: Any) -> dict[str, float]:
    start = time.perf_counter()
    p, config = prepared, prepared.config
    train_NH = sae.encode(p.x_train.to(p.device)).float().cpu()
    test_NH = sae.encode(p.x_test.to(p.device)).float().cpu()
    w_dec_HD = sae.W_dec.detach().float().cpu()
    fractions, full_rates, splits = [], [], []
    for i in np.flatnonzero(p.probe_f1 > config.min_probe_f1):
        main = main_latents(train_NH.numpy(), p.y_train == i, test_NH.numpy(), p.y_test == i, config.max_k,
                            config.f1_jump)
        # tokens of the letter that the ground-truth probe detects (SAEBench's "potential false negatives")
        rows = np.flatnonzero((p.y_test == i) & (p.scores_test_NL[:, i] > 0))
        if len(rows) == 0:
            continue
        cos_H = torch.nn.functional.cosine_similarity(p.probes_LD[i][None], w_dec_HD, dim=-1)
        probe_proj_N = p.x_test[rows] @ p.probes_LD[i]
        fractions.append(absorption_fraction(test_NH[rows], probe_proj_N, cos_H, main).mean().item())
        full_rates.append(full_absorption(test_NH[rows], probe_proj_N, cos_H, main).float().mean().item())
        # SAEBench's `num_split_features` is len(split_feats): the main latents counted whole
        splits.append(len(main))
    counts = {"absorption_letters": float(len(fractions)), "absorption_seconds": time.perf_counter() - start}
    if not fractions:
        # no letter passed the probe gate: there is nothing to measure, so no number
        return counts
    return counts | {
        "absorption_fraction": float(np.mean(fractions)),
        "absorption_full_rate": float(np.mean(full_rates)),
        # SAEBench's `mean_num_split_features` (mean over scored letters of the number of main latents)
        "absorption_mean_num_split_features": float(np.mean(splits)),
    }
