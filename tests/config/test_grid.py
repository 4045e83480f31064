"""Grid points: architectures that take no L0, and architecture options swept as axes."""

import pytest

from sae.architectures import ARCHITECTURES, ArchitectureSpec
from sae.config import ConfigError, grid_points, load_study_config
from sae.config.grid import GridConfig, experiment_points
from tests.conftest import make_study

EXP = "experiments__toy__"


def grid(**fields):
    return {"architecture": ["matryoshka_batchtopk"], "width": [8], "l0": [2], "seed": [0]} | fields


def test_a_swept_option_multiplies_the_points_and_shows_in_their_paths():
    study = load_study_config(make_study(**{EXP + "grid": grid(
        architecture=["matryoshka_batchtopk", "topk"], sweep={"matryoshka_batchtopk": {"prefixes": [[0.25], [0.5]]}})}))
    keys = [p.key for p in grid_points(study)]
    assert keys == ["toy/matryoshka_batchtopk/w8/prefixes_0.25/l0_2/seed0",
                    "toy/matryoshka_batchtopk/w8/prefixes_0.5/l0_2/seed0", "toy/topk/w8/l0_2/seed0"]
    exp = study.experiments["toy"]
    first = next(grid_points(study))
    assert exp.options(first).prefixes == [0.25]
    assert first.options == {"prefixes": [0.25]}


def test_fixed_options_apply_to_every_point():
    study = load_study_config(make_study(**{EXP + "grid": grid(architecture=["standard"]),
                                            EXP + "architectures": {"standard": {"l1_init": 3.0}}}))
    point = next(grid_points(study))
    assert study.experiments["toy"].options(point).l1_init == 3.0
    assert point.key == "toy/standard/w8/l0_2/seed0"  # fixed options are not axes


@pytest.mark.parametrize(("fields", "expected"), [
    (grid(sweep={"standard": {"l1_init": [1.0]}}), "sweep.standard: standard is not in the grid's architectures"),
    (grid(architecture=["standard"], sweep={"standard": {"l1_init": [-1.0]}}), "greater than 0"),
    (grid(sweep={"matryoshka_batchtopk": {"prefix": [[0.5]]}}), "grid.sweep.matryoshka_batchtopk.prefix"),
    (grid(sweep={"topk": {"k": [1]}}), "grid.sweep.topk"),
    (grid(l0=None), "l0 is required for architectures ['matryoshka_batchtopk']"),
])
def test_invalid_sweeps_name_the_field(fields, expected):
    with pytest.raises(ConfigError) as err:
        load_study_config(make_study(**{EXP + "grid": fields}))
    assert expected in str(err.value)


def test_an_option_both_fixed_and_swept_is_refused():
    with pytest.raises(ConfigError, match="both fixed"):
        load_study_config(make_study(**{EXP + "grid": grid(architecture=["standard"],
                                                           sweep={"standard": {"l1_init": [1.0, 2.0]}}),
                                        EXP + "architectures": {"standard": {"l1_init": 3.0}}}))


def test_an_architecture_that_chooses_its_own_l0_needs_no_l0(monkeypatch):
    monkeypatch.setitem(ARCHITECTURES, "auto_k", ArchitectureSpec(
        name="auto_k", l0_meaning="chooses its own", sae_lens_fields=lambda w, l0, o: {}, takes_l0=False))
    # the Literal of architecture names is built at import: validate the points directly
    config = GridConfig.model_construct(architecture=["auto_k", "topk"], width=[8], l0=[2], seed=[0, 1],
                                        sweep=GridConfig.model_fields["sweep"].default)
    keys = [p.key for p in experiment_points("x", config)]
    assert keys == ["x/auto_k/w8/seed0", "x/auto_k/w8/seed1", "x/topk/w8/l0_2/seed0", "x/topk/w8/l0_2/seed1"]
