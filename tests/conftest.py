"""Small factories for configs, shared by the tests."""

from __future__ import annotations

import copy
from typing import Any

import pytest

BASE_STUDY: dict[str, Any] = {
    "results_dir": "results/test",
    "experiments": {
        "toy": {
            "source": {"preset": "sbw_small"},
            "grid": {"architecture": ["batchtopk"], "width": [5], "l0": [1, 2], "seed": [0]},
            "training": {"samples": 4096, "batch_size": 512},
            "metrics": {"eval_batches": 2, "eval_batch_size": 512},
        }
    },
    "tracking": {"uri": "sqlite:///results/test/mlflow.db"},
}


def make_study(**overrides: Any) -> dict[str, Any]:
    """A valid raw study dict; keyword `a__b__c=v` sets study[a][b][c] = v."""
    study = copy.deepcopy(BASE_STUDY)
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split("__")
        node = study
        for key in parents:
            node = node[key]
        node[leaf] = value
    return study


@pytest.fixture
def study_factory():
    return make_study
