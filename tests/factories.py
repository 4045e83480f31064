"""Factories and helpers shared by the training tests (tests/train, tests/fused).

`toy` is a fixture: a test package's conftest imports it to make it available.
"""

from __future__ import annotations

import pytest

from sae.config import ToySource
from sae.data.toy import build_toy_model
from sae.train.spec import TrainSpec

# sbw_small's d_in
TOY_D_IN = 20
# Single-training tests (tests/train): 64 steps of 256 samples, a curve point every 8 steps, each
# architecture with its default options.
SINGLE_BATCH = 256
# Fused tests (tests/fused): three grid points of one seed, 200 steps of 64 samples, a curve point every 10 steps.
FUSED_BATCH = 64
FUSED_L0S = (1.0, 2.0, 3.0)


@pytest.fixture(scope="session")
def toy():
    """The sbw_small toy model; built once, read-only."""
    return build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model)


def single_spec(arch: str, samples: int = 16384, l0: float = 2, **kw) -> TrainSpec:
    return TrainSpec(arch, d_in=TOY_D_IN, width=8, l0=l0, seed=0, samples=samples, batch_size=SINGLE_BATCH, lr=3e-3,
                     log_every=8, **kw)


def fused_spec(arch: str, l0: float, samples: int = 200 * FUSED_BATCH, **kw) -> TrainSpec:
    return TrainSpec(arch, d_in=TOY_D_IN, width=16, l0=l0, seed=0, samples=samples, batch_size=FUSED_BATCH, lr=3e-3,
                     log_every=10, **kw)


def fused_group(arch: str, **kw) -> list[TrainSpec]:
    return [fused_spec(arch, l0, **kw) for l0 in FUSED_L0S]


class Killed(Exception):
    pass


class KillAfter:
    """Batches that raise after `n` draws, as a SIGKILL would stop the job."""

    def __init__(self, inner, n):
        self.inner, self.n = inner, n

    def __next__(self):
        if self.n == 0:
            raise Killed
        self.n -= 1
        return next(self.inner)

    def state_dict(self):
        return self.inner.state_dict()

    def load_state_dict(self, state):
        self.inner.load_state_dict(state)


def experiment(source=None, **sections):
    """A validated `Experiment`: the conftest study's toy experiment with `source` and sections replaced."""
    from sae.config import Experiment
    from tests.conftest import make_study

    raw = make_study()["experiments"]["toy"] | sections
    if source is not None:
        raw["source"] = source
    return Experiment.model_validate(raw)


def toy_context(sae, batches, model):
    """An `SAEContext` on a toy model (in memory, as `sae.data.sources.ToyData` exposes it)."""
    from types import SimpleNamespace

    from sae.evaluate import SAEContext

    source = SimpleNamespace(kind="toy", model=model, true_features_FD=model.feature_vectors_FD, true_l0=model.true_l0)
    return SAEContext(sae, batches, source)


def ground_truth_top_afa(features_FD):
    """A top-AFA SAE whose decoder is the true features and whose encoder reads their coefficients."""
    import torch

    from sae.architectures import build_training_sae

    sae = build_training_sae("top_afa", d_in=features_FD.shape[1], width=features_FD.shape[0], l0=None,
                             options={"standardize": False})
    with torch.no_grad():
        sae.W_dec.copy_(features_FD)
        sae.W_enc.copy_(features_FD.T)
        sae.b_dec.zero_()
    return sae.eval()
