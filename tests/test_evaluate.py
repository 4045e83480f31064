"""`evaluate_sae` composes every registered per-SAE diagnostic that applies and is switched on."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from sae import evaluate, metrics
from sae.data.toy import ToyBatches
from sae.evaluate import SAEContext, evaluate_sae
from sae.metrics.ground_truth.main import ground_truth_sae
from tests.factories import experiment, toy, toy_context  # noqa: F401  (toy is a fixture)


@pytest.fixture
def ctx(toy):  # noqa: F811
    batches = [next(ToyBatches(toy, 256, seed=5))]
    return toy_context(ground_truth_sae(toy.feature_vectors_FD, l0=2), batches, toy)


def test_every_enabled_diagnostic_contributes(ctx):
    values, tensors = evaluate_sae(ctx, experiment())
    assert {"c_dec", "s_n", "mse", "variance_explained", "mcc"} <= set(values)
    assert tensors["ground_truth.cos_HF"].shape == (5, 5)


def test_a_disabled_diagnostic_is_absent(ctx):
    values, tensors = evaluate_sae(ctx, experiment(metrics={"ground_truth": {"enabled": False}}))
    assert "mcc" not in values and "ground_truth.cos_HF" not in tensors
    assert "c_dec" in values


def test_llm_sources_skip_diagnostics_that_need_a_ground_truth(ctx):
    exp = experiment()
    llm_exp = SimpleNamespace(source=SimpleNamespace(kind="llm"), metrics=exp.metrics)
    llm_ctx = SAEContext(ctx.sae, ctx.batches, SimpleNamespace(kind="llm", true_features_FD=None, true_l0=None))
    values, tensors = evaluate_sae(llm_ctx, llm_exp)
    assert "mcc" not in values and "ground_truth.cos_HF" not in tensors and "variance_explained" in values


def test_two_diagnostics_returning_one_name_is_an_error(ctx, monkeypatch):
    clone = SimpleNamespace(compute=lambda ctx, config: {"c_dec": 0.0})
    real_code = metrics.code
    monkeypatch.setattr(evaluate.metrics, "code", lambda name: clone if name == "reconstruction" else real_code(name))
    with pytest.raises(ValueError, match=r"reconstruction returns \['c_dec'\]"):
        evaluate_sae(ctx, experiment())


def test_metrics_are_computed_without_gradients(ctx, monkeypatch):
    seen = []
    probe = SimpleNamespace(compute=lambda ctx, config: seen.append(torch.is_grad_enabled()) or {"probe": 1.0})
    real_code = metrics.code
    monkeypatch.setattr(evaluate.metrics, "code", lambda name: probe if name == "reconstruction" else real_code(name))
    assert evaluate_sae(ctx, experiment())[0]["probe"] == 1.0 and seen == [False]
