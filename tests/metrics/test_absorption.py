"""SAEBench's absorption fraction on hand-built tensors: each case worked out by hand in its comment."""

import pytest
import torch

from sae.metrics.absorption.fraction import absorption_fraction, full_absorption
from sae.metrics.absorption.main import icl_prompt, sample_words

# latent 0 is the letter's main latent; latents 1-3 are aligned with the probe to different degrees
COS = torch.tensor([1.0, 0.5, 0.05, 0.5])


def _fraction(acts, probe_proj, main=(0,)):
    latents = torch.tensor([acts], dtype=torch.float32)
    proj = torch.tensor([probe_proj])
    return (absorption_fraction(latents, proj, COS, list(main)).item(),
            bool(full_absorption(latents, proj, COS, list(main)).item()))


def test_main_latent_carries_everything():
    # M = 2 * 1 = 2 >= P = 2: nothing to absorb
    assert _fraction([2.0, 0.0, 0.0, 0.0], 2.0) == (0.0, False)


def test_main_latent_silent_and_another_carries_it():
    # M = 0; A = 3 * 0.5 = 1.5, A / P = 1 >= 0.4: fully absorbed by latent 1
    assert _fraction([0.0, 3.0, 0.0, 0.0], 1.5) == (1.0, True)


def test_partial_absorption():
    # M = 1; A = 4 * 0.5 = 2 (A / P = 0.8); P - M = 1.5; min(A, P - M) = 1.5 -> 1.5 / (1.5 + 1) = 0.6
    fraction, full = _fraction([1.0, 4.0, 0.0, 0.0], 2.5)
    assert fraction == pytest.approx(0.6) and not full
    # M = 1; A = 1 (A / P = 0.45); P - M = 1.2; min = 1 -> 1 / (1 + 1) = 0.5
    assert _fraction([1.0, 2.0, 0.0, 0.0], 2.2)[0] == pytest.approx(0.5)


def test_weakly_aligned_or_small_absorbers_do_not_count():
    # latent 2's cos 0.05 < 0.1: A = 0, so no absorption though the main latent is silent
    assert _fraction([0.0, 0.0, 10.0, 0.0], 0.5)[0] == 0.0
    # A = 0.5 * 0.5 = 0.25, A / P = 0.25 < 0.4
    assert _fraction([0.0, 0.5, 0.0, 0.0], 1.0)[0] == 0.0


def test_at_most_three_absorbing_latents():
    cos = torch.full((5,), 0.5)
    latents = torch.tensor([[0.0, 1.0, 1.0, 1.0, 1.0]])
    # main = [0] silent; four absorbers of 0.5 each but only the top 3 count: A = 1.5, A / P = 0.5, M = 0 -> 1
    assert absorption_fraction(latents, torch.tensor([3.0]), cos, [0]).item() == 1.0
    # with the main latent at 0.5 * 1: M = 0.5, P - M = 2.5, A = 1.5 -> 1.5 / 2 = 0.75 (all four: 2 / 2.5 = 0.8)
    latents[0, 0] = 1.0
    assert absorption_fraction(latents, torch.tensor([3.0]), cos, [0]).item() == pytest.approx(0.75)


def test_prompt_is_saebench_template():
    prompt = icl_prompt(" cat", [" dog", "Apple"], "{word} has the first letter:")
    assert prompt == "\n dog has the first letter: D\nApple has the first letter: A\n cat has the first letter:"


def test_every_letter_in_both_splits():
    words = [f" {c}{s}" for c in "abcdefghijklmnopqrstuvwxyz" for s in ("a", "b", "c", "d", "e")]
    split = sample_words(words, 5, seed=0)
    assert all(len(train) == 4 and len(test) == 1 for train, test in split.values())
    assert all(w.strip()[0] == letter for letter, (train, test) in split.items() for w in train + test)


def test_matches_saebench_calculator_on_a_fixture():
    """absorption_saebench.json: 40 random tokens, 24 latents (4 aligned with the probe), main latents [0, 1];
    the expected values are what sae-bench 0.6.0's `FeatureAbsorptionCalculator.calculate_absorption`
    (installed with --no-deps, outside the project, with a stub model returning these residuals) returned:
    6 tokens with non-zero fractions (two partial, 0.728 and 0.760), 4 full absorptions."""
    import json
    from pathlib import Path

    case = json.loads((Path(__file__).parent / "fixtures" / "absorption_saebench.json").read_text())
    args = (torch.tensor(case["latents_NH"]), torch.tensor(case["probe_proj_N"]), torch.tensor(case["cos_H"]),
            case["main"])
    torch.testing.assert_close(absorption_fraction(*args), torch.tensor(case["saebench_fraction_N"]))
    assert full_absorption(*args).tolist() == case["saebench_full_N"]


def test_split_features_are_saebench_mean_num_split_features():
    """SAEBench's `mean_num_split_features` is the mean of len(split_feats): one main latent counts 1, not 0."""
    from types import SimpleNamespace

    import numpy as np

    from sae.metrics.absorption.main import _Prepared, compute
    from sae.metrics.absorption.spec import AbsorptionConfig

    rng = np.random.default_rng(0)
    d, n = 8, 200
    y_train, y_test = rng.integers(0, 2, n), rng.integers(0, 2, n)
    probe = torch.zeros(26, d)
    probe[:, 0] = 1.0  # letter 0's probe reads dimension 0

    def acts(y):  # letter-0 tokens (y == 0) have dimension 0 on, the others dimension 1
        x = torch.zeros(len(y), d)
        x[y == 0, 0], x[y != 0, 1] = 1.0, 1.0
        return x + 0.01 * torch.from_numpy(rng.standard_normal((len(y), d))).float()

    x_test = acts(y_test)
    scores = np.zeros((n, 26))
    scores[:, 0] = (x_test[:, 0] - 0.5).numpy()
    f1 = np.zeros(26)
    f1[0] = 1.0  # only letter 0 passes the probe gate
    identity = SimpleNamespace(encode=lambda x: x.relu(), W_dec=torch.eye(d))
    prepared = _Prepared(acts(y_train), y_train, x_test, y_test, probe, scores, f1, AbsorptionConfig(), "cpu", 0.0)
    values = compute(prepared, identity)
    assert values["absorption_letters"] == 1.0
    assert values["absorption_mean_num_split_features"] == 1.0  # latent 0 alone: one split feature
    assert "absorption_split_features" not in values
