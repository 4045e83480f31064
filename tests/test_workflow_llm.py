"""A tiny LLM experiment end to end: extraction from a random 3-block Llama, training from the store,
decoder and splice diagnostics, figures, MLflow."""

import json
import time

import pytest
import yaml
from sae_lens import SAE

from sae import layout
from sae.config import GridPoint
from sae.data.store import ActivationStore
from sae.sweep import read_csv
from tests.tiny_lm import save_tiny_lm, write_corpus
from tests.workflow_checks import check_study_outputs, run_snakemake

pytestmark = pytest.mark.slow


def tiny_llm_study(tmp_path):
    model_dir = save_tiny_lm(tmp_path / "model")
    corpus = write_corpus(tmp_path / "corpus.txt", 600)
    results = tmp_path / "results"
    study = {
        "results_dir": str(results),
        "experiments": {
            "tiny_llm": {
                "source": {"kind": "llm", "model": str(model_dir), "layer": 1, "dataset": str(corpus),
                           "context_length": 16, "tokens": 4000, "heldout_tokens": 800, "shard_tokens": 512,
                           "batch_size": 8, "device": "cpu"},
                "grid": {"architecture": ["batchtopk"], "width": [64], "l0": [2, 4, 8], "seed": [0]},
                "training": {"samples": 20480, "batch_size": 256, "log_every": 10, "normalize_activations": True},
                "metrics": {"eval_batches": 2, "eval_batch_size": 256, "splice_costs": {"contexts": 4},
                            "sparse_probing": {"datasets": ["125_world_country_Italy", "118_us_state_CA"],
                                               "rows": 150},
                            "absorption": {"words_per_letter": 5, "icl_examples": 2}},
            }
        },
        "tracking": {"uri": f"sqlite:///{results}/mlflow.db"},
    }
    config = tmp_path / "tiny_llm.yaml"
    config.write_text(yaml.safe_dump(study))
    return config, results


def test_tiny_llm_study(tmp_path):
    config, results = tiny_llm_study(tmp_path)
    start = time.perf_counter()
    proc = run_snakemake(tmp_path, "--cores", "2", configfile=config)
    print(f"tiny LLM study: {time.perf_counter() - start:.0f} s")
    assert proc.returncode == 0, proc.stderr[-4000:]
    check_study_outputs(results, f"sqlite:///{results}/mlflow.db", configfile=config)

    shared = layout.SHARED_INPUT_DIR.split("/")[1]  # activations/shared/: the probe set
    stores = [d for d in (results / "activations").iterdir() if d.name != shared]
    assert len(stores) == 1  # one extraction feeds every training job
    store = ActivationStore(stores[0])
    assert store.d_model == 32 and store.manifest["tokens"] == 4000

    point = GridPoint(experiment="tiny_llm", architecture="batchtopk", width=64, l0=4, seed=0)
    point_dir = layout.resolve(results, layout.POINT_DIR, experiment="tiny_llm", point=point.path)
    cfg = json.loads((point_dir / "sae/cfg.json").read_text())
    assert cfg["normalize_activations"] == "expected_average_only_in"
    summary = json.loads((point_dir / "train.json").read_text())
    assert summary["activation_scale"] == pytest.approx(32**0.5 / store.mean_norm)
    # the saved SAE takes raw activations: the scale is folded into its weights
    sae = SAE.load_from_disk(str(point_dir / "sae"))
    x = store.load("heldout", 256)
    explained = 1 - (sae.decode(sae.encode(x)) - x).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
    metrics = json.loads((point_dir / "metrics.json").read_text())
    assert explained.item() == pytest.approx(metrics["variance_explained"], abs=0.05)
    table = {row["l0"]: row for row in read_csv(results / "tiny_llm/sweep.csv")}
    assert table[4]["ce_loss_increase"] == pytest.approx(json.loads(
        layout.resolve(results, layout.EVALUATION, experiment="tiny_llm", evaluation="splice_costs").read_text()
    )[point.key]["ce_loss_increase"])
    # probing: one probe set for the source (a shared input), shared by every SAE; numbers per SAE in the table
    assert [d.name.split("_")[0] for d in (results / "activations" / shared).iterdir()] == ["probe"]
    assert all(0 <= row["probe_f1_k1"] <= 1 and 0 <= row["probe_f1_k16/118_us_state_CA"] <= 1
               and row["probe_raw_f1_k16"] == table[4]["probe_raw_f1_k16"] for row in table.values())
    # absorption: a number wherever a letter passed the probe gate (the tiny vocabulary may leave none)
    assert all(row["absorption_letters"] == 0 or 0 <= row["absorption_fraction"] <= 1 for row in table.values())
    assert json.loads((point_dir / "sae/cfg.json").read_text())["metadata"]["hook_name"] == "blocks.1.hook_resid_post"
