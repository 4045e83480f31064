import pytest
import torch

from sae.architectures import build_training_sae
from sae.data.toy import ToyBatches
from sae.fused.plan import FusionError
from sae.fused.state import PARAM_NAMES, load_group_checkpoint, save_group_checkpoint, stack_group, write_back
from sae.train.spec import trainer_config
from tests.factories import FUSED_BATCH, fused_group, fused_spec


def _group(specs):
    saes = []
    for s in specs:
        torch.manual_seed(s.seed)
        saes.append(build_training_sae(s.architecture, s.d_in, s.width, s.l0, s.options))
    return saes, stack_group(saes, specs[0].lr, trainer_config(specs[0]))


def test_stacking_and_writing_back_keep_every_member_exact():
    saes, group = _group(fused_group("batchtopk"))
    originals = [{name: getattr(sae, name).detach().clone() for name in PARAM_NAMES} for sae in saes]
    with torch.no_grad():
        for name in PARAM_NAMES:
            group.params[name].mul_(2)
        group.topk_threshold_G.copy_(torch.tensor([0.5, 1.5, 2.5]))
    write_back(saes, group)
    for sae, original in zip(saes, originals):
        for name in PARAM_NAMES:
            assert torch.equal(getattr(sae, name), 2 * original[name])
    assert [sae.topk_threshold.item() for sae in saes] == [0.5, 1.5, 2.5]


def test_group_checkpoint_round_trips_and_refuses_another_group(toy, tmp_path):
    specs = fused_group("topk")
    _, group = _group(specs)
    group.n_since_fired_GH.fill_(7)
    group.n_training_steps, group.n_training_samples = 3, 3 * FUSED_BATCH
    batches = ToyBatches(toy, FUSED_BATCH, seed=0)
    next(batches)
    curves = [[{"step": 3.0}] for _ in specs]
    save_group_checkpoint(tmp_path / "latest", group, specs, batches, curves)

    _, fresh = _group(specs)
    fresh_batches = ToyBatches(toy, FUSED_BATCH, seed=0)
    assert load_group_checkpoint(tmp_path / "latest", fresh, specs, fresh_batches) == curves
    assert fresh.n_training_steps == 3 and fresh.n_training_samples == 3 * FUSED_BATCH
    assert torch.equal(fresh.n_since_fired_GH, group.n_since_fired_GH)
    assert torch.equal(next(fresh_batches), next(batches))

    other = [fused_spec("topk", l0) for l0 in (4.0, 5.0, 6.0)]
    with pytest.raises(FusionError, match="l0"):
        load_group_checkpoint(tmp_path / "latest", _group(other)[1], other, ToyBatches(toy, FUSED_BATCH, seed=0))
