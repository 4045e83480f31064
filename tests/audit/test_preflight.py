"""An audit's bad inputs: each one line before any job, naming the SAE and the fix; the source from the metadata."""

import json

import pytest

from sae.config import load_study_config
from sae.preflight import study_problems
from tests.audit.saes import known_topk_sae, save_saelens
from tests.conftest import make_study
from tests.workflow_checks import run_snakemake

GEMMA_LADDER = {"release": "gemma-scope-2b-pt-res", "id": "layer_12/width_16k/average_l0_*"}


def model_dir(tmp_path, hidden=8):
    (tmp_path / "model").mkdir(exist_ok=True)
    (tmp_path / "model/config.json").write_text(json.dumps({"num_hidden_layers": 3, "hidden_size": hidden}))
    return str(tmp_path / "model")


def audit_raw(tmp_path, saes, **source):
    study = make_study()
    study["experiments"]["audit"] = {"source": {"tokens": 4000, "heldout_tokens": 800} | source, "saes": saes}
    return study | {"results_dir": str(tmp_path / "results"), "tracking": {"uri": f"sqlite:///{tmp_path}/mlflow.db"}}


def problems(tmp_path, saes, **source):
    return study_problems(load_study_config(audit_raw(tmp_path, saes, **source)))


@pytest.fixture
def offline(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf_cache"))


def test_the_source_comes_from_the_sae_metadata_unless_given(tmp_path):
    model = model_dir(tmp_path)
    sae = save_saelens(known_topk_sae(hook="blocks.2.hook_resid_pre", model_name=model), tmp_path / "sae")
    source = load_study_config(audit_raw(tmp_path, [{"path": str(sae)}])).experiments["audit"].source
    # resid_pre of block 2 is the output of block 1: hidden_states[2]
    assert (source.kind, source.model, source.layer, source.context_length) == ("llm", model, 1, 16)
    given = load_study_config(audit_raw(tmp_path, [{"path": str(sae)}], layer=1, context_length=32))
    assert given.experiments["audit"].source.context_length == 32
    assert problems(tmp_path, [{"path": str(sae)}]) == []


def test_a_release_that_does_not_exist(tmp_path):
    [problem] = problems(tmp_path, [{"release": "gemma-scope-2b-pt-resid", "id": "x"}], layer=1)
    assert problem.startswith("experiments.audit.saes[0]: release 'gemma-scope-2b-pt-resid' is not in SAELens's "
                              "pretrained registry; nearest: gemma-scope-2b-pt-res, ")


def test_an_id_pattern_that_matches_nothing_names_the_nearest_ids(tmp_path):
    [problem] = problems(tmp_path, [GEMMA_LADDER | {"id": "layer_12/width_16k/average_l0_9?"}], layer=12)
    assert problem.startswith("experiments.audit.saes[0]: id 'layer_12/width_16k/average_l0_9?' matches no SAE of "
                              "release gemma-scope-2b-pt-res; nearest ids: layer_12/width_16k/average_l0_")


def test_a_folder_that_is_not_an_sae(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/cfg.json").write_text("{}")
    [problem] = problems(tmp_path, [{"path": str(tmp_path / "notes")}], layer=1)
    assert problem.startswith(f"experiments.audit.saes[0]: {tmp_path / 'notes'} is not an SAE folder: it holds none of")


def test_an_sae_whose_d_in_is_not_the_models_width(tmp_path):
    sae = save_saelens(known_topk_sae(d_in=8), tmp_path / "sae")
    assert problems(tmp_path, [{"path": str(sae)}], model=model_dir(tmp_path, hidden=32)) == [
        f"experiments.audit.saes: {sae} has d_in 8, the model's hidden size at the hook is 32: audit it against the "
        "model it was trained on (source.model)"]


def test_a_hook_we_do_not_extract_is_refused(tmp_path):
    sae = save_saelens(known_topk_sae(hook="blocks.1.hook_mlp_out"), tmp_path / "sae")
    assert problems(tmp_path, [{"path": str(sae)}], model=model_dir(tmp_path), layer=1) == [
        f"experiments.audit.saes: {sae}: hook 'blocks.1.hook_mlp_out' is not the residual stream after a block "
        "(blocks.L.hook_resid_post, or blocks.L.hook_resid_pre for L >= 1), the only hook we extract"]


def test_saes_of_different_models_are_refused(tmp_path):
    first = save_saelens(known_topk_sae(), tmp_path / "a")
    other = save_saelens(known_topk_sae(model_name="org/another-model"), tmp_path / "b")
    found = problems(tmp_path, [{"path": str(first)}, {"path": str(other)}], model=model_dir(tmp_path), layer=1)
    assert [p for p in found if "different models" in p] == [
        f"experiments.audit.saes: the SAEs were trained on different models ({known_topk_sae().cfg.metadata.model_name}"
        f" by {first}, org/another-model by {other}): audit SAEs of one model together, one experiment each"]


def test_a_model_in_the_metadata_that_is_not_here_offline(tmp_path, offline):
    sae = save_saelens(known_topk_sae(model_name="org/not-downloaded"), tmp_path / "sae")
    [problem] = problems(tmp_path, [{"path": str(sae)}])
    assert problem.startswith("experiments.audit.source.model: 'org/not-downloaded' (from the SAEs' metadata unless "
                              "set in source:) is not a local folder nor in the Hugging Face cache")
    assert "`huggingface-cli download org/not-downloaded`" in problem


def test_hub_saes_not_in_the_cache_offline_name_their_download_one_line_each(tmp_path, offline):
    found = problems(tmp_path, [GEMMA_LADDER], model=model_dir(tmp_path), layer=1)
    assert len(found) == 5
    assert found[0] == ("experiments.audit.saes: gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_22 is not in the "
                        "local Hugging Face cache and the hub cannot be reached; on a connected machine run "
                        "`huggingface-cli download google/gemma-scope-2b-pt-res --include "
                        "'layer_12/width_16k/average_l0_22/*'` and copy the cache here")
    cached = tmp_path / "hf_cache/models--google--gemma-scope-2b-pt-res/snapshots/abc/layer_12/width_16k/average_l0_22"
    cached.mkdir(parents=True)
    (cached / "params.npz").write_bytes(b"x")
    assert len(problems(tmp_path, [GEMMA_LADDER], model=model_dir(tmp_path), layer=1)) == 4


def test_snakemake_stops_before_any_job_and_writes_nothing(tmp_path):
    import yaml

    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(audit_raw(tmp_path, [{"path": str(tmp_path / "nothing")}], layer=1)))
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=config)
    assert proc.returncode != 0
    assert f"experiments.audit.saes[0]: {tmp_path / 'nothing'} is not an SAE folder" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "results").exists()


def test_without_a_layer_the_config_error_says_why_the_metadata_gave_none(tmp_path):
    from sae.config import ConfigError

    mlp = save_saelens(known_topk_sae(hook="blocks.1.hook_mlp_out"), tmp_path / "mlp")
    with pytest.raises(ConfigError) as err:
        load_study_config(audit_raw(tmp_path, [{"path": str(mlp)}]))
    assert str(err.value).splitlines()[1:] == [
        f"  experiments.audit.source.layer: {mlp}: hook 'blocks.1.hook_mlp_out' is not the residual stream after a "
        "block (blocks.L.hook_resid_post, or blocks.L.hook_resid_pre for L >= 1), the only hook we extract"]
    with pytest.raises(ConfigError, match=r"experiments.audit.source.layer: no audited SAE's metadata names its hook "
                                          r"before the study runs .*: set source.layer \(and source.model\)"):
        load_study_config(audit_raw(tmp_path, [GEMMA_LADDER]))


def test_an_audit_refuses_metrics_that_train_its_saes_further(tmp_path):
    from sae.config import ConfigError

    raw = audit_raw(tmp_path, [GEMMA_LADDER], layer=12)
    raw["experiments"]["audit"]["metrics"] = {"hedging": {"enabled": True}}
    with pytest.raises(ConfigError, match=r"metrics \['hedging'\] train each SAE further, which an audit does not"):
        load_study_config(raw)
