"""The shipped configs run the papers' controlled experiments as the papers ran them (issue 23)."""

from pathlib import Path

import pytest
import yaml

from sae.config import load_study_config

REPO = Path(__file__).resolve().parents[2]


def _study(path):
    return load_study_config(yaml.safe_load((REPO / path).read_text()))


def test_the_small_toy_runs_from_the_true_features_beside_the_random_start():
    """Sparse but Wrong initialises its k = 1.8 small-toy SAE at the ground truth (small_toy_model_experiments.ipynb)."""
    experiments = _study("config.yaml").experiments
    controlled = experiments["sbw_small_from_truth"]
    assert controlled.source.model.true_l0 == pytest.approx(2.0)
    assert controlled.training.init == "true_features" and controlled.training.lr == pytest.approx(3e-4)
    assert controlled.grid.architecture == ["batchtopk"] and 1.8 in controlled.grid.l0 and controlled.grid.width == [5]
    assert experiments["sbw_small"].training.init == "random"


def test_the_paper_size_balance_toy_is_the_notebooks_size_and_magnitudes():
    """balancing_hedging_and_absorption.ipynb: 100M samples in batches of 4,096, lr 3e-4, unit magnitudes."""
    balance = _study("configs/feature_hedging.yaml").experiments["balance_toy"]
    assert balance.training.samples >= 100_000_000 and balance.training.batch_size == 4096
    assert balance.training.lr == pytest.approx(3e-4) and balance.training.init == "true_features"
    assert balance.source.model.magnitude_std == 0.0
    assert _study("config.yaml").experiments["balance_toy"].source.model.magnitude_std == 0.0


def test_the_full_size_top_afa_sweep_has_every_official_lambda():
    """Official training/main.ipynb sweeps λ_AFA over 1/128, 1/64, 1/32, 1/24 and 1/16."""
    sbw_large = _study("configs/quasi_orthogonality.yaml").experiments["sbw_large"]
    swept = sbw_large.grid.sweep.top_afa.afa_coefficient
    assert sorted(swept) == pytest.approx([1 / 128, 1 / 64, 1 / 32, 1 / 24, 1 / 16])
