"""Audits end to end through snakemake on the tiny LM: the SAEs of a trained experiment pointed at as folders
(their metrics and recommendation reproduced), and a ladder trained by SAELens's own trainer, with one SAE also in
sparsify's and one in dictionary_learning's on-disk format (each giving its SAELens-format twin's metrics)."""

import json
import time

import pytest
import yaml
from mlflow.tracking import MlflowClient

from sae import layout, recommend
from sae.audit.verdict import VERDICTS
from sae.config import LLMSource
from sae.sweep import read_csv
from tests.audit.saes import LADDER_K, train_saelens_ladder, write_dictionary_learning, write_sparsify
from tests.tiny_lm import save_tiny_lm, write_corpus
from tests.workflow_checks import check_study_outputs, run_snakemake

pytestmark = pytest.mark.slow

SOURCE = {"context_length": 16, "tokens": 4000, "heldout_tokens": 800, "shard_tokens": 512, "batch_size": 8,
          "device": "cpu"}
METRICS = {"eval_batches": 2, "eval_batch_size": 256, "splice_costs": {"contexts": 4},
           "sparse_probing": {"datasets": ["125_world_country_Italy", "118_us_state_CA"], "rows": 150},
           "absorption": {"words_per_letter": 5, "icl_examples": 2}}
TRAINED_L0 = (2, 4, 8)


@pytest.fixture(scope="module")
def audited_study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audit")
    model = save_tiny_lm(tmp / "model")
    corpus = write_corpus(tmp / "corpus.txt", 600)
    source = {"kind": "llm", "model": str(model), "layer": 1, "dataset": str(corpus), **SOURCE}
    ladder = train_saelens_ladder(LLMSource(**source), tmp / "own_store", tmp / "ladder", str(model))
    from sae_lens import SAE

    sparsify = write_sparsify(SAE.load_from_disk(ladder[1]), tmp / "sparsify", layer=1)
    dictionary_learning = write_dictionary_learning(SAE.load_from_disk(ladder[2]), tmp / "dl" / "trainer_0", 1,
                                                    str(model), 16)
    results = tmp / "results"
    study = {
        "results_dir": str(results),
        "experiments": {
            "tiny_llm": {"source": source, "grid": {"architecture": ["batchtopk"], "width": [64],
                                                    "l0": list(TRAINED_L0), "seed": [0]},
                         "training": {"samples": 20480, "batch_size": 256, "log_every": 10,
                                      "normalize_activations": True},
                         "metrics": METRICS},
            # the trained SAEs as a user points at any SAELens folder (written by the experiment above)
            "tiny_audit": {"source": source, "metrics": METRICS,
                           "saes": [{"path": f"{results}/tiny_llm/{layout.point_path('batchtopk', 64, k, 0)}/sae"}
                                    for k in TRAINED_L0]},
            # model, layer and context length from the SAEs' metadata: only the dataset and budget are given
            "saelens_audit": {"source": {k: v for k, v in source.items() if k not in ("model", "layer",
                                                                                     "context_length")},
                              # probing only: tiny_audit runs every LLM evaluation, and each job costs start-up time
                              "metrics": METRICS | {"splice_costs": {"enabled": False},
                                                    "absorption": {"enabled": False}},
                              "saes": [{"path": str(tmp / "ladder" / "topk_k*")}, {"path": str(sparsify)},
                                       {"path": str(dictionary_learning)}]},
        },
        "tracking": {"uri": f"sqlite:///{results}/mlflow.db"},
    }
    config = tmp / "audit.yaml"
    config.write_text(yaml.safe_dump(study))
    start = time.perf_counter()
    proc = run_snakemake(tmp, "--cores", "2", configfile=config, timeout=1800)
    print(f"tiny audit study: {time.perf_counter() - start:.0f} s")
    failed = [p.read_text()[-3000:] for p in (results / "logs").rglob("*.log") if "Traceback" in p.read_text()]
    assert proc.returncode == 0, proc.stderr[-2000:] + "\n".join(failed)
    return config, results, ladder


def _folder(results, experiment, point):
    return layout.resolve(results, layout.POINT_DIR, experiment=experiment, point=point)


def test_every_output_exists_and_the_runs_are_recorded(audited_study):
    config, results, _ = audited_study
    check_study_outputs(results, f"sqlite:///{results}/mlflow.db", configfile=config)


def test_an_audit_of_trained_folders_reproduces_their_metrics_and_recommendation(audited_study):
    _, results, _ = audited_study
    trained = {row["l0"]: row for row in read_csv(results / "tiny_llm" / "sweep.csv")}
    audited = read_csv(results / "tiny_audit" / "sweep.csv")
    assert [r["sae"] for r in audited] == [f"l0_{k}" for k in TRAINED_L0]
    for k, row in zip(TRAINED_L0, audited, strict=True):
        # an audited SAE is named by what its folder path has of its own (the trained point's L0 part)
        ours = json.loads((_folder(results, "tiny_audit", f"saes/{row['sae']}") / "metrics.json").read_text())
        theirs = json.loads((_folder(results, "tiny_llm", layout.point_path("batchtopk", 64, k, 0))
                             / "metrics.json").read_text())
        assert ours == theirs  # the same bytes of SAE on the same held-out batches
        # every LLM evaluation's numbers but its timings (`*_seconds`)
        evaluated = [c for c in trained[k] if c.startswith(("probe_", "absorption_", "ce_", "kl_"))
                     and not c.endswith("_seconds")]
        assert evaluated and {c: row[c] for c in evaluated} == {c: trained[k][c] for c in evaluated}
        assert row["l0"] == theirs["l0_measured"] and row["audit_source"].endswith(f"l0_{k}/seed0/sae")
    # the same rule over the same numbers, at the measured L0 (an audited SAE's x-coordinate: it has no target)
    expected = recommend.recommend_l0([r | {"l0": r["l0_measured"]} for r in trained.values()], None)
    got = json.loads((results / "tiny_audit" / "recommendation.json").read_text())
    fields = ("recommended_l0", "interval_low", "interval_high", "rule", "supported", "flag")
    assert [{f: r[f] for f in fields} for r in got] == [{f: r[f] for f in fields} for r in expected]


def test_sparsify_and_dictionary_learning_twins_load_to_their_saelens_twins(audited_study):
    _, results, _ = audited_study
    names = [r["sae"] for r in read_csv(results / "saelens_audit" / "sweep.csv")]
    # the common start and end of the folders' paths left out of their names
    assert names[:len(LADDER_K)] == [f"ladder-topk_k{k}" for k in LADDER_K]
    for twin, original in ((names[len(LADDER_K)], f"ladder-topk_k{LADDER_K[1]}"),
                           (names[len(LADDER_K) + 1], f"ladder-topk_k{LADDER_K[2]}")):
        ours = json.loads((_folder(results, "saelens_audit", f"saes/{twin}") / "metrics.json").read_text())
        theirs = json.loads((_folder(results, "saelens_audit", f"saes/{original}") / "metrics.json").read_text())
        assert ours.keys() == theirs.keys()
        for key in ours:
            assert ours[key] == pytest.approx(theirs[key], rel=1e-4, abs=1e-6), (twin, key)
    record = json.loads((_folder(results, "saelens_audit", f"saes/{names[-1]}") / "audit.json").read_text())
    assert record["format"] == "dictionary_learning" and record["metadata.hook_name"] == "blocks.1.hook_resid_post"


def test_the_audit_table_gives_every_sae_a_verdict_and_the_runs_have_no_training_params(audited_study):
    _, results, _ = audited_study
    table = read_csv(results / "saelens_audit" / "audit.csv")
    rec = json.loads((results / "saelens_audit" / "recommendation.json").read_text())
    assert len(table) == len(LADDER_K) + 2 and {r["verdict"] for r in table} <= set(VERDICTS)
    for row in table:
        if row["verdict"] == "below":
            assert row["l0"] < row["interval_low"]
        elif row["verdict"] == "above":
            assert row["l0"] > row["interval_high"]
        elif row["verdict"] == "inside":
            assert row["interval_low"] <= row["l0"] <= row["interval_high"]
        else:
            assert not next(r for r in rec if r["architecture"] == row["architecture"])["supported"]
    client = MlflowClient(f"sqlite:///{results}/mlflow.db")
    experiment = client.get_experiment_by_name("saelens_audit")
    children = [r for r in client.search_runs([experiment.experiment_id]) if r.data.tags.get("sae.role") == "child"]
    assert len(children) == len(LADDER_K) + 2
    for child in children:
        assert not any(k.startswith("training.") for k in child.data.params)
        assert child.data.params["metadata.hook_name"] == "blocks.1.hook_resid_post" and "c_dec" in child.data.metrics
        assert {f.path for f in client.list_artifacts(child.info.run_id)} >= {"sae", "audit", "metrics"}
