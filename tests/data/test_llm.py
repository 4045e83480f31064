"""Extraction from tiny random Llama and Gemma-2 models built in the test: no download, CPU, seconds."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from sae.config import LLMSource
from sae.data import llm, store
from sae.data.inputs import OFFLINE_MODEL
from sae.data.llm import TruncatedLM, extract_activations, iter_token_batches, keep_mask
from sae.data.store import ActivationStore
from sae.preflight import max_stored_tokens
from tests.tiny_lm import save_tiny_lm, texts, write_corpus

LAYER = 1


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_lm(tmp_path_factory.mktemp("tiny_llama"), "llama")


@pytest.fixture(scope="module", params=["llama", "gemma2"])
def any_model_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The architectures whose truncation is checked against a full forward pass."""
    return save_tiny_lm(tmp_path_factory.mktemp(f"tiny_{request.param}"), request.param)


@pytest.fixture(scope="module")
def text_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "corpus.txt", 400)


def _source(model_dir: Path, text_file: Path, **overrides: object) -> LLMSource:
    fields = dict(model=str(model_dir), layer=LAYER, dataset=str(text_file), context_length=16, tokens=1000,
                  batch_size=4, device="cpu", heldout_tokens=200, shard_tokens=128)
    return LLMSource(**{**fields, **overrides})


def _reference_rows(source: LLMSource) -> torch.Tensor:
    """hidden_states[layer + 1] of full forward passes over the same contexts, stored positions only."""
    tokenizer = llm.load_tokenizer(source)
    model = llm.load_causal_lm(source, "cpu")
    rows = []
    with torch.inference_mode():
        for tokens_BT in iter_token_batches(tokenizer, source):
            hidden_BTD = model(tokens_BT, output_hidden_states=True).hidden_states[source.layer + 1]
            rows.append(hidden_BTD[keep_mask(tokens_BT, tokenizer.bos_token_id, source.drop_bos)])
            if sum(map(len, rows)) >= source.tokens:
                break
    return torch.cat(rows)[:source.tokens]


def test_stored_activations_equal_full_forward_hidden_states(any_model_dir, text_file, tmp_path):
    source = _source(any_model_dir, text_file)
    manifest = extract_activations(source, tmp_path / "store", progress=False)
    stored = ActivationStore(tmp_path / "store")
    acts_ND = torch.cat([stored.load("train"), stored.load("heldout")])
    reference_ND = _reference_rows(source)

    max_abs_diff = (acts_ND - reference_ND).abs().max().item()
    print(f"stored vs output_hidden_states[{LAYER + 1}]: max abs diff {max_abs_diff:.3g}")
    assert acts_ND.shape == (1000, 32)
    assert max_abs_diff < 1e-5
    assert manifest["tokens"] == 1000 and manifest["train_tokens"] == 800 and manifest["heldout_tokens"] == 200
    assert manifest["mean_norm"] == pytest.approx(reference_ND[:800].double().norm(dim=-1).mean().item(), rel=1e-5)
    assert [s["rows"] for s in manifest["shards"]] == [128] * 7 + [104]


def test_heldout_contexts_are_the_heldout_activations(tiny_model_dir, text_file, tmp_path):
    source = _source(tiny_model_dir, text_file)
    extract_activations(source, tmp_path / "store", progress=False)
    tokenizer = llm.load_tokenizer(source)
    lm = TruncatedLM(llm.load_causal_lm(source, "cpu"), source.layer)
    acts_ND = torch.cat([lm(tokens_BT)[keep_mask(tokens_BT, 1, True)]
                         for tokens_BT in llm.heldout_token_batches(tokenizer, source)])
    heldout_ND = ActivationStore(tmp_path / "store").load("heldout")
    # Only the contexts straddling either end of the held-out rows are left out.
    assert len(acts_ND) >= len(heldout_ND) - 2 * (source.context_length - 1)
    offset = int((heldout_ND == acts_ND[0]).all(-1).nonzero()[0, 0])
    assert offset < source.context_length
    torch.testing.assert_close(acts_ND, heldout_ND[offset:offset + len(acts_ND)], rtol=0, atol=1e-6)


def test_bos_positions_are_dropped_or_kept_as_configured(tiny_model_dir, text_file):
    source = _source(tiny_model_dir, text_file)
    tokens_BT = next(iter_token_batches(llm.load_tokenizer(source), source))
    assert tokens_BT.shape == (4, 16)
    assert (tokens_BT[:, 0] == 1).all()  # every context starts with BOS
    assert keep_mask(tokens_BT, 1, drop_bos=True)[:, 0].sum() == 0
    assert keep_mask(tokens_BT, 1, drop_bos=False).all()


def test_truncated_model_never_runs_later_blocks_or_the_head(any_model_dir, text_file):
    source = _source(any_model_dir, text_file)
    model = llm.load_causal_lm(source, "cpu")
    ran = []
    for name, module in model.named_modules():
        module.register_forward_hook(lambda *_, name=name: ran.append(name))
    lm = TruncatedLM(model, LAYER)
    lm(torch.tensor([[1, 5, 6, 7]]))
    assert "model.layers.1" in ran
    assert not [n for n in ran if n.startswith(("model.layers.2", "model.norm", "lm_head"))]
    assert len(lm.decoder.layers) == LAYER + 1


def test_resume_after_kill_matches_uninterrupted_run(tiny_model_dir, text_file, tmp_path, monkeypatch):
    source = _source(tiny_model_dir, text_file)
    extract_activations(source, tmp_path / "whole", progress=False)

    real_flush = store.ShardWriter.flush
    def flush_then_die(self):
        real_flush(self)
        if len(self.shards) == 3:
            raise KeyboardInterrupt("simulated kill")
    monkeypatch.setattr(store.ShardWriter, "flush", flush_then_die)
    with pytest.raises(KeyboardInterrupt):
        extract_activations(source, tmp_path / "resumed", progress=False)
    assert not (tmp_path / "resumed" / store.MANIFEST_FILE).exists()
    monkeypatch.setattr(store.ShardWriter, "flush", real_flush)

    manifest = extract_activations(source, tmp_path / "resumed", progress=False)
    assert manifest["extraction"]["resumed_from_tokens"] == 3 * 128
    for shard in manifest["shards"]:
        whole = np.load(tmp_path / "whole" / shard["file"])
        resumed = np.load(tmp_path / "resumed" / shard["file"])
        np.testing.assert_array_equal(whole, resumed)


def test_changed_source_restarts_instead_of_resuming(tiny_model_dir, text_file, tmp_path):
    extract_activations(_source(tiny_model_dir, text_file), tmp_path / "store", progress=False)
    manifest = extract_activations(_source(tiny_model_dir, text_file, layer=2, tokens=500), tmp_path / "store",
                                   progress=False)
    assert manifest["layer"] == 2 and manifest["tokens"] == 500
    assert manifest["extraction"]["resumed_from_tokens"] == 0
    assert len(list((tmp_path / "store").glob("shard_*.npy"))) == len(manifest["shards"]) == 4


def test_bfloat16_store_round_trips(tiny_model_dir, text_file, tmp_path):
    source = _source(tiny_model_dir, text_file, dtype="bfloat16", tokens=300, heldout_tokens=100)
    extract_activations(source, tmp_path / "store", progress=False)
    acts_ND = ActivationStore(tmp_path / "store").load("train")
    reference_ND = _reference_rows(source)[:200]
    assert acts_ND.dtype == torch.float32
    torch.testing.assert_close(acts_ND, reference_ND.float(), rtol=0, atol=0)


def test_local_csv_dataset(tiny_model_dir, tmp_path):
    path = tmp_path / "corpus.csv"
    path.write_text("body,label\n" + "".join(f'"{t}",0\n' for t in texts(100)))
    source = _source(tiny_model_dir, path, text_column="body", tokens=300, heldout_tokens=50)
    assert extract_activations(source, tmp_path / "store", progress=False)["tokens"] == 300


def test_dataset_running_out_is_an_error(tiny_model_dir, tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("\n".join(texts(20)) + "\n")
    bound = max_stored_tokens(path, "text", 16)
    assert bound >= 1000  # the pre-flight bound cannot rule this file out: extraction finds it short
    with pytest.raises(ValueError, match="ran out") as err:
        extract_activations(_source(tiny_model_dir, path), tmp_path / "store", progress=False)
    assert int(re.search(r"after (\d+) of", str(err.value))[1]) <= bound


def test_offline_defaults_resolve_to_the_wheels():
    path, gguf_file = llm.resolve_model(OFFLINE_MODEL, None)
    assert (Path(path) / gguf_file).is_file() and gguf_file.endswith(".gguf")
    texts = llm.iter_texts(LLMSource(layer=0))
    first = [next(texts) for _ in range(3)]
    assert all(isinstance(t, str) and t for t in first) and len(set(first)) == 3


def test_an_unreachable_hub_model_says_what_to_do_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    source = LLMSource.model_validate({"kind": "llm", "model": "no-such-org/no-such-model", "layer": 0})
    with pytest.raises(OSError, match=r"source\.model 'no-such-org/no-such-model' is not a local folder .*"
                                      r"huggingface-cli download no-such-org/no-such-model"):
        llm.load_tokenizer(source)
