"""One stacked step against each member's own `SAETrainer.step` on the same batch.

Tolerances: the same maths in another floating-point order (see test_loop.py). After
one step, losses agreed to 2.2e-7 relative and weights to 3.7e-9 absolute; we assert
1e-5 and 1e-6. Adam's first step moves each weight by lr = 3e-3 in its gradient's
sign, so a single wrong gradient sign (a wrong k, mask or aux loss) moves it by 6e-3.
"""

from contextlib import nullcontext

import pytest
import torch
from sae_lens.training.sae_trainer import SAETrainer

from sae.architectures import build_training_sae
from sae.data.toy import ToyBatches
from sae.fused.plan import FUSED_ARCHITECTURES
from sae.fused.selection import Scratch
from sae.fused.state import PARAM_NAMES, stack_group
from sae.fused.step import build_hyper, train_step
from sae.train.spec import trainer_config
from tests.factories import FUSED_BATCH, fused_group

LOSS_RTOL = 1e-5
WEIGHT_ATOL = 1e-6


@pytest.mark.parametrize("arch", FUSED_ARCHITECTURES)
def test_one_stacked_step_is_each_members_saelens_step(arch, toy):
    specs = fused_group(arch)
    saes = []
    for s in specs:
        torch.manual_seed(s.seed)
        saes.append(build_training_sae(s.architecture, s.d_in, s.width, s.l0, s.options))
    cfg = trainer_config(specs[0])
    trainers = [SAETrainer(cfg=trainer_config(s), sae=sae, data_provider=iter(())) for s, sae in zip(specs, saes)]
    group = stack_group(saes, specs[0].lr, cfg)
    hyper = build_hyper(saes, arch, FUSED_BATCH, "cpu")
    # dead latents for the first and last member only: the aux loss runs for some members and not others
    group.n_since_fired_GH[0, ::2] = cfg.dead_feature_window + 1
    group.n_since_fired_GH[2, :3] = cfg.dead_feature_window + 1
    for g, trainer in enumerate(trainers):
        trainer.n_forward_passes_since_fired = group.n_since_fired_GH[g].clone()

    x_BD = next(ToyBatches(toy, FUSED_BATCH, seed=0))
    out = train_step(group, x_BD, hyper, cfg.dead_feature_window, nullcontext(), Scratch())
    for g, trainer in enumerate(trainers):
        single = trainer.step(x_BD)
        assert out.mse_loss_G[g].item() == pytest.approx(single.losses["mse_loss"].item(), rel=LOSS_RTOL)
        aux = single.losses["auxiliary_reconstruction_loss"].item()
        assert out.aux_loss_G[g].item() == pytest.approx(aux, rel=LOSS_RTOL, abs=1e-9)
        assert (out.aux_loss_G[g] > 0) == (g != 1)
        assert torch.equal(out.active_GBH[g] > 0, single.feature_acts != 0)
        assert torch.equal(group.n_since_fired_GH[g], trainer.n_forward_passes_since_fired)
        assert torch.equal(group.act_freq_GH[g], trainer.act_freq_scores)
        for name in PARAM_NAMES:
            assert torch.allclose(group.params[name][g], getattr(trainer.sae, name), rtol=0, atol=WEIGHT_ATOL), name
        if arch == "batchtopk":
            assert group.topk_threshold_G[g].item() == pytest.approx(trainer.sae.topk_threshold.item(), rel=LOSS_RTOL)
