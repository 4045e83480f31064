"""Balanced Matryoshka: beta = 1 is SAELens's Matryoshka loss, beta = 0 the plain BatchTopK loss, on the same batch."""

import pytest
import torch
from sae_lens.saes.batchtopk_sae import BatchTopKTrainingSAE, BatchTopKTrainingSAEConfig
from sae_lens.saes.matryoshka_batchtopk_sae import (
    MatryoshkaBatchTopKTrainingSAE,
    MatryoshkaBatchTopKTrainingSAEConfig,
)
from sae_lens.saes.sae import TrainStepInput

from sae.architectures import build_training_sae
from sae.architectures._balanced_matryoshka_sae import inner_loss_weights
from sae.config.grid import GridConfig, experiment_points

D_IN, WIDTH, K = 12, 8, 2.0


def _step_input(sae_in):
    # a dead-latent mask makes the aux loss non-zero, so the comparison covers it too
    dead = torch.zeros(WIDTH, dtype=torch.bool)
    dead[-3:] = True
    return TrainStepInput(sae_in=sae_in, coefficients={}, dead_neuron_mask=dead, n_training_steps=0,
                          is_logging_step=False)


def _loss(sae, weights, sae_in):
    sae.load_state_dict(weights, strict=False)
    return sae.training_forward_pass(_step_input(sae_in))


@pytest.fixture
def balanced_and_batch():
    def make(beta):
        torch.manual_seed(0)
        sae = build_training_sae("balanced_matryoshka", D_IN, WIDTH, K, {"prefixes": [0.25, 0.5], "beta": beta})
        torch.manual_seed(1)
        return sae, torch.randn(32, D_IN)
    return make


def test_beta_one_is_sae_lens_matryoshka(balanced_and_batch):
    sae, batch = balanced_and_batch(1.0)
    reference = MatryoshkaBatchTopKTrainingSAE(MatryoshkaBatchTopKTrainingSAEConfig(
        d_in=D_IN, d_sae=WIDTH, k=K, matryoshka_widths=[2, 4, 8]))
    ours = sae.training_forward_pass(_step_input(batch))
    theirs = _loss(reference, sae.state_dict(), batch)
    assert ours.losses["inner_mse_loss_2"] > 0 and ours.losses["auxiliary_reconstruction_loss"] > 0
    torch.testing.assert_close(ours.loss, theirs.loss)


def test_beta_zero_is_plain_batchtopk(balanced_and_batch):
    sae, batch = balanced_and_batch(0.0)
    reference = BatchTopKTrainingSAE(BatchTopKTrainingSAEConfig(d_in=D_IN, d_sae=WIDTH, k=K))
    ours = sae.training_forward_pass(_step_input(batch))
    torch.testing.assert_close(ours.loss, _loss(reference, sae.state_dict(), batch).loss)


def test_inner_losses_are_weighted_beta_powers_innermost_first(balanced_and_batch):
    assert inner_loss_weights(0.5, 2) == [0.25, 0.5]
    sae, batch = balanced_and_batch(0.5)
    out = sae.training_forward_pass(_step_input(batch))
    outer = out.losses["mse_loss"] + out.losses["auxiliary_reconstruction_loss"]
    expected = outer + 0.25 * out.losses["inner_mse_loss_2"] + 0.5 * out.losses["inner_mse_loss_4"]
    torch.testing.assert_close(out.loss, expected)


def test_beta_is_a_grid_axis():
    grid = GridConfig(architecture=["balanced_matryoshka"], width=[4], l0=[1],
                      sweep={"balanced_matryoshka": {"beta": [0, 0.25, 1]}})
    points = list(experiment_points("toy", grid))
    assert [p.options["beta"] for p in points] == [0, 0.25, 1]
    with pytest.raises(ValueError, match="beta"):
        GridConfig(architecture=["balanced_matryoshka"], width=[4], l0=[1],
                   sweep={"balanced_matryoshka": {"beta": [-1]}})
