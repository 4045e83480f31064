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


def test_a_continued_llm_sae_says_what_it_reads_as_the_trained_one_does(tmp_path):
    """cfg.json metadata (model, hook, context) on the continuation too: SAEBench and an audit can load it."""
    from sae.config import LLMSource
    from sae.data.llm import extract_activations
    from sae.io import read_json
    from tests.tiny_lm import save_tiny_lm, write_corpus

    torch.set_num_threads(1)
    source = {"kind": "llm", "model": str(save_tiny_lm(tmp_path / "lm")), "layer": 1, "context_length": 16,
              "dataset": str(write_corpus(tmp_path / "corpus.txt", 200)), "tokens": 2000, "heldout_tokens": 256,
              "batch_size": 4, "device": "cpu"}
    extract_activations(LLMSource.model_validate(source), tmp_path / "store", progress=False)
    exp = experiment(source=source, grid={"architecture": ["batchtopk"], "width": [8], "l0": [2]},
                     training={"samples": 1024, "batch_size": 256, "log_every": 2, "checkpoints": 1},
                     metrics={"hedging": {"enabled": True, "new_latents": 2, "samples": 512}})
    point = next(experiment_points("e", exp.grid))
    point_dir = tmp_path / "e" / point.path
    train_job(exp, [point], tmp_path / "store", [point_dir], tmp_path / "ck", None)
    continue_job(exp, [point], tmp_path / "store", [point_dir], None)
    trained = read_json(point_dir / "sae" / "cfg.json")["metadata"]
    assert trained["model_name"] == source["model"] and trained["hook_name"] == "blocks.1.hook_resid_post"
    for variant in ("control", "extended"):
        continued = read_json(point_dir / "continued" / variant / "sae" / "cfg.json")["metadata"]
        assert {k: continued.get(k) for k in trained} == trained
