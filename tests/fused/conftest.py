import dataclasses

import pytest
import torch

import sae.fused.loop
import sae.train.loop
from sae.train.spec import trainer_config
from tests.factories import toy  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True)
def short_windows(monkeypatch):
    """Shrink SAELens's dead-latent (1000 steps) and sparsity (2000) windows, in both trainers.

    Otherwise a 200-step test would never see a dead latent, and the TopK auxiliary
    loss and the window reset would go untested.
    """

    def short(spec):
        return dataclasses.replace(trainer_config(spec), dead_feature_window=10, feature_sampling_window=60)

    monkeypatch.setattr(sae.train.loop, "trainer_config", short)
    monkeypatch.setattr(sae.fused.loop, "trainer_config", short)
    torch.set_num_threads(1)
