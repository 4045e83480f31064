"""A trained point continued as a control and as an extended copy; the hedging metric reads both beside the SAE."""

import json

import torch

from sae import layout
from sae.architectures import load_sae
from sae.config import ToySource
from sae.config.grid import experiment_points
from sae.data.toy import build_toy_model
from sae.jobs.continue_sae import continue_job
from sae.jobs.evaluate import evaluate_points
from sae.jobs.train import train_job
from tests.factories import experiment


def test_continuations_train_from_the_point_and_feed_the_hedging_metric(tmp_path):
    torch.set_num_threads(1)
    exp = experiment(source={"preset": "hedging"}, grid={"architecture": ["batchtopk"], "width": [5], "l0": [2]},
                     training={"samples": 8192, "batch_size": 512, "lr": 3e-3, "checkpoints": 1,
                               "dead_feature_window": 4, "log_every": 4},
                     metrics={"eval_batches": 1, "eval_batch_size": 512,
                              "hedging": {"enabled": True, "new_latents": 4, "samples": 4096}})
    point = next(experiment_points("e", exp.grid))
    build_toy_model(ToySource.model_validate({"preset": "hedging"}).model).save(tmp_path / "toy")
    point_dir = tmp_path / "e" / point.path
    train_job(exp, [point], tmp_path / "toy", [point_dir], tmp_path / "ck", None)
    continue_job(exp, [point], tmp_path / "toy", [point_dir], None)
    for variant, extend_by in (("control", 0), ("extended", 4)):
        out = layout.resolve(tmp_path, layout.CONTINUED_DIR, experiment="e", point=point.path, variant=variant)
        assert load_sae(out / "sae").cfg.d_sae == 5 + extend_by
        assert json.loads((out / "train.json").read_text())["samples"] == 4096
        assert not (out / "checkpoints").exists()
    metrics = evaluate_points(exp, [point], tmp_path / "toy", [point_dir], None)[point.key]
    assert metrics["hedging_new_latents"] == 4
    assert 0 <= metrics["hedging_h"] <= 1 and 0 < metrics["hedging_p_base"] < 1
    assert "parent_child_dec_cos" in metrics  # the hedging toy has a hierarchy
