"""Sparse probing with sae-probes' functions: the informative latent is found and probed."""

import numpy as np
import pytest
import torch

from sae.metrics.sparse_probing.main import constant_f1, probe_topk


def test_top_latent_carries_the_label():
    # 200 balanced rows of 20 sparse non-negative "latents"; latent 7 fires (at ~3) only on the positives
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 100)
    x = torch.from_numpy(np.abs(rng.normal(size=(200, 20))) * (rng.random((200, 20)) < 0.3)).float()
    x[:, 7] = torch.from_numpy(y * (3.0 + rng.random(200))).float()
    results = probe_topk(x[:150], y[:150], x[150:], y[150:], ks=[1, 4], normalize=True)
    assert results[1]["f1"] == 1.0 and results[1]["auc"] == 1.0
    assert results[4]["f1"] >= 0.95


def test_uninformative_latents_give_chance():
    rng = np.random.default_rng(1)
    y = np.tile([0, 1], 150)
    x = torch.from_numpy(np.abs(rng.normal(size=(300, 10)))).float()
    assert 0.3 < probe_topk(x[:200], y[:200], x[200:], y[200:], ks=[1], normalize=True)[1]["f1"] < 0.7


def test_the_constant_classifier_level_is_a_third_on_balanced_classes():
    """sklearn's weighted F1 of a constant majority answer; the probing figure's chance line."""
    from sklearn.metrics import f1_score

    for y in (np.tile([0, 1], 50), np.array([0] * 70 + [1] * 30)):
        majority = np.full_like(y, np.bincount(y).argmax())
        assert constant_f1(y) == pytest.approx(f1_score(y, majority, average="weighted", zero_division=0))
    assert constant_f1(np.tile([0, 1], 50)) == pytest.approx(1 / 3)


def _study(source_extra, probing):
    return {"experiments": {"e": {"source": {"kind": "llm", "layer": 6, **source_extra},
                                  "grid": {"architecture": ["batchtopk"], "width": [64], "l0": [4]},
                                  "metrics": {"sparse_probing": probing}}}}


def test_probing_text_the_saes_trained_on_is_refused():
    import pytest

    from sae.config import ConfigError, load_study_config

    with pytest.raises(ConfigError, match="are in the SAEs' training text: add them to source.probing_holdout"):
        load_study_config(_study({"probing_holdout": ["5_hist_fig_ismale"]}, {"datasets": ["6_hist_fig_isamerican"]}))
    with pytest.raises(ConfigError, match="datasets=all"):
        load_study_config(_study({}, {"datasets": "all"}))
    # another training corpus may be probed on anything
    load_study_config(_study({"dataset": "some/corpus"}, {"datasets": "all"}))
