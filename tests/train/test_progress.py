import dataclasses

import pytest
import torch

from sae.data.toy import ToyBatches
from sae.fused.loop import train_fused
from sae.train.loop import train_sae
from sae.train.progress import TrainingDiverged, logs_curve_at
from tests.factories import FUSED_BATCH, SINGLE_BATCH, fused_group, single_spec, toy  # noqa: F401  (toy: a fixture)


def test_a_curve_point_every_log_every_steps_and_at_the_last():
    s = dataclasses.replace(single_spec("batchtopk"), samples=10 * 256, log_every=4)
    assert s.total_steps == 10
    assert [step for step in range(1, 11) if logs_curve_at(step, s)] == [4, 8, 10]
    s = single_spec("batchtopk")  # 64 steps, every 8
    assert [step for step in range(1, 65) if logs_curve_at(step, s)] == list(range(8, 65, 8))


class PoisonAfter:
    """Batches that turn to NaN after `n` draws, as a corrupt store shard would."""

    def __init__(self, inner, n):
        self.inner, self.n = inner, n

    def __next__(self):
        batch = next(self.inner)
        self.n -= 1
        return batch if self.n >= 0 else torch.full_like(batch, float("nan"))

    def state_dict(self):
        return self.inner.state_dict()

    def load_state_dict(self, state):
        self.inner.load_state_dict(state)


def test_a_non_finite_loss_stops_training_naming_the_point(toy):  # noqa: F811
    spec = single_spec("batchtopk", l0=2)
    with pytest.raises(TrainingDiverged, match=r"batchtopk width 8 L0 2 seed 0: the training loss became nan at step 16"):
        train_sae(spec, PoisonAfter(ToyBatches(toy, SINGLE_BATCH, seed=0), 10), progress=False)


def test_a_non_finite_loss_stops_a_fused_group(toy):  # noqa: F811
    group = fused_group("batchtopk")
    with pytest.raises(TrainingDiverged, match=r"batchtopk width 16 L0 1 seed 0: .* at step 10\b"):
        train_fused(group, PoisonAfter(ToyBatches(toy, FUSED_BATCH, seed=0), 5), progress=False)


def test_a_diverging_top_afa_names_its_point_though_it_has_no_l0(toy):  # noqa: F811
    spec = single_spec("top_afa", l0=None)
    with pytest.raises(TrainingDiverged, match=r"top_afa width 8 its own L0 seed 0: the training loss became nan"):
        train_sae(spec, PoisonAfter(ToyBatches(toy, SINGLE_BATCH, seed=0), 10), progress=False)
