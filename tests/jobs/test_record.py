"""MLflow parameters of a grid point."""

from __future__ import annotations

from sae.config import GridPoint
from sae.jobs.record import run_params
from tests.factories import experiment


def test_run_params_hold_grid_training_source_and_options():
    exp = experiment(grid={"architecture": ["matryoshka_batchtopk"], "width": [8], "l0": [2], "seed": [0]},
                     architectures={"matryoshka_batchtopk": {"prefixes": [0.25, 0.5]}})
    point = GridPoint(experiment="toy", architecture="matryoshka_batchtopk", width=8, l0=2, seed=0)
    params = run_params(exp, point)
    assert params["architecture"] == "matryoshka_batchtopk" and params["l0"] == 2 and params["width"] == 8
    assert params["options.prefixes"] == [0.25, 0.5]
    assert params["training.samples"] == exp.training.samples
    assert params["source.kind"] == "toy" and params["source.preset"] == "sbw_small"


def test_swept_options_are_parameters_like_l0():
    exp = experiment(grid={"architecture": ["standard"], "width": [8], "l0": [2], "seed": [0],
                           "sweep": {"standard": {"l1_init": [0.5, 2.0]}}})
    point = GridPoint(experiment="toy", architecture="standard", width=8, l0=2, seed=0, options={"l1_init": 2.0})
    assert run_params(exp, point)["options.l1_init"] == 2.0
