"""top_afa: the official step-by-step fixture, exact selection on an orthonormal toy, training keeps unit decoder rows."""

import pytest
import torch

from sae.architectures import build_training_sae
from sae.architectures._top_afa_sae import afa_keep_mask
from sae.config import ToySource
from sae.data.toy import ToyBatches, build_toy_model
from sae.train.loop import train_sae
from tests.factories import experiment, ground_truth_top_afa, single_spec


def test_official_step_by_step_fixture():
    # official etc/afa_step_by_step.ipynb
    a = torch.tensor([[5.0, 4, 3], [1, 1, 1], [1, 10, 2]])
    W_dec = torch.tensor([[1.0, 2], [3, 4], [5, 6]])
    keep = afa_keep_mask(a, W_dec.norm(dim=-1), (a @ W_dec).norm(dim=-1))
    assert keep.sum(-1).tolist() == [2, 2, 2]
    assert (a * keep).tolist() == [[0, 4, 3], [0, 1, 1], [0, 10, 2]]


def test_ground_truth_dictionary_chooses_the_true_active_count():
    toy = build_toy_model(ToySource.model_validate({"preset": "sbw_large"}).model)
    x_BD, features_BF = ToyBatches(toy, 4096, seed=3).next_with_features()
    chosen = (ground_truth_top_afa(toy.feature_vectors_FD).encode(x_BD) > 0).sum(-1)
    assert torch.equal(chosen, (features_BF > 0).sum(-1))


def test_training_keeps_unit_decoder_rows():
    toy = build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model)
    result = train_sae(single_spec("top_afa", samples=4096, l0=None, options={"afa_coefficient": 1 / 16}),
                       ToyBatches(toy, 256, seed=0), progress=False)
    # rows are renormalised before each step, so after the last one they are unit up to one Adam step
    assert result.sae.W_dec.norm(dim=-1).detach() == pytest.approx(torch.ones(8), abs=0.02)
    assert {"mse_loss", "l0"} <= set(result.curve[-1]) and 0 < result.curve[-1]["l0"] <= 8


@pytest.mark.parametrize(("source", "standardised"), [({"preset": "sbw_small"}, False),
                                                      ({"kind": "llm", "layer": 1}, True)])
def test_standardisation_defaults_by_source_kind(source, standardised):
    exp = experiment(source=source, grid={"architecture": ["top_afa"], "width": [8],
                                          "sweep": {"top_afa": {"afa_coefficient": [0.5]}}})
    from sae.config import GridPoint

    point = GridPoint(experiment="e", architecture="top_afa", width=8, l0=None, seed=0, options={"afa_coefficient": 0.5})
    assert exp.options(point).standardize is standardised
    sae = build_training_sae("top_afa", 12, 8, None, exp.options(point))
    assert sae.cfg.normalize_activations == ("layer_norm" if standardised else "none")
    assert sae.cfg.afa_coefficient == 0.5
