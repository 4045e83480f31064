import pytest

from sae import layout
from sae.config import GridPoint


def test_numbers_in_paths():
    assert layout.format_number(2.0) == "2" and layout.format_number(1.8) == "1.8" and layout.format_number(11) == "11"
    assert layout.format_value([0.25, 0.5]) == "0.25-0.5" and layout.format_value(True) == "true"


@pytest.mark.parametrize(("point", "path"), [
    (dict(architecture="batchtopk", width=50, l0=1.8, seed=0), "batchtopk/w50/l0_1.8/seed0"),
    (dict(architecture="topk", width=8, l0=None, seed=2), "topk/w8/seed2"),
    (dict(architecture="standard", width=8, l0=4, seed=0, options={"l1_init": 2.0, "a": 1}),
     "standard/w8/a_1/l1_init_2/l0_4/seed0"),
])
def test_point_paths(point, path):
    assert GridPoint(experiment="e", **point).key == f"e/{path}"


def test_resolve_fills_a_pattern_under_the_results_dir(tmp_path):
    assert layout.resolve(tmp_path, layout.METRICS, experiment="e", point="topk/w8/seed0") == \
        tmp_path / "e/topk/w8/seed0/metrics.json"


def test_store_names_are_stable_and_distinct():
    a = {"model": "org/m", "layer": 3, "tokens": 10}
    assert layout.store_name(a) == layout.store_name(dict(reversed(a.items())))
    assert layout.store_name(a) != layout.store_name(a | {"tokens": 11})
    assert layout.store_name(a).startswith("org-m_layer3_")


def test_the_output_layout_is_spelled_in_one_module():
    """No other module spells a per-SAE output path: they ask sae.layout."""
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    files = [*repo.glob("sae/**/*.py"), *repo.glob("workflow/**/*.smk"), *repo.glob("workflow/**/*.py"),
             *repo.glob("tests/**/*.py"), repo / "Snakefile"]
    spelled = [f for f in files if f.name not in ("layout.py", "test_layout.py")
               and any(s in f.read_text() for s in ("/l0_{", "/w{width}", "l0_{l0}", "toy_model.safetensors"))]
    assert spelled == []
