"""`run_evaluation`: an experiment-scope evaluation prepares once and scores every SAE with one model."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from sae import llm_eval
from sae.config import LLMSource
from sae.llm_eval import LanguageModel, load_language_model, run_evaluation
from tests.factories import experiment
from tests.tiny_lm import save_tiny_lm


def test_prepare_runs_once_and_compute_once_per_sae(monkeypatch):
    calls = {"prepare": 0, "compute": []}

    def prepare(lm, config):
        calls["prepare"] += 1
        return {"lm": lm, "contexts": config.contexts}

    def compute(prepared, sae):
        calls["compute"].append(sae)
        return {"score": float(prepared["contexts"]) + len(sae)}

    fake = SimpleNamespace(prepare=prepare, compute=compute)
    monkeypatch.setattr(llm_eval.metrics, "code", lambda name: fake)
    monkeypatch.setattr(llm_eval, "load_sae", lambda directory, device: f"sae@{directory}")
    exp = experiment(metrics={"splice_costs": {"contexts": 3}})
    lm = LanguageModel(source=None, tokenizer=None, model=None, device="cpu")
    results = run_evaluation("splice_costs", exp, lm, [("a", "d1"), ("b", "dir2")])
    assert calls["prepare"] == 1 and calls["compute"] == ["sae@d1", "sae@dir2"]
    assert results == {"a": {"score": 3.0 + 6}, "b": {"score": 3.0 + 8}}


def test_language_model_is_loaded_once_and_says_so(tmp_path, caplog):
    model_dir = save_tiny_lm(tmp_path / "model")
    source = LLMSource.model_validate({"kind": "llm", "model": str(model_dir), "layer": 1,
                                       "dataset": str(tmp_path / "unused.txt")})
    with caplog.at_level(logging.INFO, logger="sae.llm_eval"):
        lm = load_language_model(source, "cpu")
    assert lm.model.config.num_hidden_layers == 3 and lm.tokenizer.bos_token == "<s>"
    assert [r.getMessage() for r in caplog.records if "once" in r.getMessage()][0].startswith(
        f"loaded {model_dir} once for this job")
