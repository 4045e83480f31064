"""`saes:` resolved: folders and release ids by glob pattern, in natural order, with short distinct names."""

import pytest

from sae.audit.resolve import AuditError, _names, resolve
from sae.config.audit import AuditedSAE
from tests.audit.saes import known_topk_sae, save_saelens, write_sparsify


def test_names_leave_out_what_every_path_shares():
    assert _names(["/r/ladder/k2/sae", "/r/ladder/k16/sae"]) == ["k2", "k16"]
    assert _names(["/r/a/layers.1", "/r/dl/trainer_0"]) == ["a-layers.1", "dl-trainer_0"]
    assert _names(["/r/smollm2/l0_8/seed0/sae"]) == ["seed0"]
    assert _names(["layer_12/width_16k/average_l0_82", "layer_12/width_16k/average_l0_176"]) == \
        ["average_l0_82", "average_l0_176"]


def test_a_folder_pattern_is_a_ladder_in_natural_order_with_each_format_detected(tmp_path):
    for k in (16, 2, 4):
        save_saelens(known_topk_sae(k=k), tmp_path / "ladder" / f"k{k}")
    sparsify = write_sparsify(known_topk_sae(), tmp_path / "other", layer=1)
    found = resolve([AuditedSAE(path=str(tmp_path / "ladder" / "k*")), AuditedSAE(path=str(sparsify))],
                    str(tmp_path / "results"), "saes")
    assert [(s.name, s.format) for s in found] == [("ladder-k2", "sae_lens"), ("ladder-k4", "sae_lens"),
                                                   ("ladder-k16", "sae_lens"), ("other-layers.1", "sparsify")]


def test_a_folder_another_experiment_trains_is_waited_for(tmp_path):
    results = tmp_path / "results"
    [sae] = resolve([AuditedSAE(path=str(results / "trained/batchtopk/w8/l0_2/seed0/sae"))], str(results), "saes")
    assert sae.format == "sae_lens" and sae.files[0] == f"{results}/trained/batchtopk/w8/l0_2/seed0/sae/cfg.json"


def test_a_trained_folder_with_a_file_deleted_is_waited_for_not_refused(tmp_path):
    """The study rebuilds a deleted SAE file of its own experiments: the audit of that folder must not stop the
    whole workflow at parse time first."""
    results = tmp_path / "results"
    folder = results / "trained/batchtopk/w8/l0_2/seed0/sae"
    folder.mkdir(parents=True)
    (folder / "sae_weights.safetensors").write_bytes(b"")  # cfg.json deleted
    [sae] = resolve([AuditedSAE(path=str(folder))], str(results), "saes")
    assert sae.format == "sae_lens" and sae.files[0] == f"{folder}/cfg.json"


def test_bad_folders_are_one_line_each(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(AuditError) as err:
        resolve([AuditedSAE(path=str(tmp_path / "empty")), AuditedSAE(path=str(tmp_path / "nothing*"))],
                str(tmp_path / "results"), "experiments.a.saes")
    lines = str(err.value).splitlines()
    assert lines[0] == (f"experiments.a.saes[0]: {tmp_path / 'empty'} is not an SAE folder: it holds none of "
                        "cfg.json and sae_weights.safetensors (sae_lens); cfg.json and sae.safetensors (sparsify); "
                        "config.json and ae.pt (dictionary_learning)")
    assert lines[1] == f"experiments.a.saes[1]: path pattern '{tmp_path / 'nothing*'}' matches no folder"


def test_a_release_pattern_is_the_ladder_the_registry_lists():
    found = resolve([AuditedSAE(release="gemma-scope-2b-pt-res", id="layer_12/width_16k/average_l0_*")], "results",
                    "saes")
    # sae_lens/pretrained_saes.yaml lists five L0s at layer 12, width 16k
    assert [s.name for s in found] == [f"average_l0_{n}" for n in (22, 41, 82, 176, 445)]
    assert found[0].repo_id == "google/gemma-scope-2b-pt-res"
    assert found[0].hub_folder == "layer_12/width_16k/average_l0_22"


def test_a_release_or_id_that_does_not_exist_names_the_nearest():
    with pytest.raises(AuditError, match=r"^saes\[0\]: release 'gemma-scope-2b-pt-resid' is not in SAELens's "
                                         r"pretrained registry; nearest: gemma-scope-2b-pt-res"):
        resolve([AuditedSAE(release="gemma-scope-2b-pt-resid", id="x")], "results", "saes")
    with pytest.raises(AuditError, match=r"^saes\[0\]: id 'layer_12/width_16k/average_l0_9\*' matches no SAE of "
                                         r"release gemma-scope-2b-pt-res; nearest ids: layer_12/width_16k/average_l0_"):
        resolve([AuditedSAE(release="gemma-scope-2b-pt-res", id="layer_12/width_16k/average_l0_9*")], "results", "saes")
