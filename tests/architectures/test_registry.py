"""Every registered architecture builds from its spec, and loads with load_sae in a fresh Python process."""

import subprocess
import sys

import pytest
import torch

from sae.architectures import ARCHITECTURES, build_training_sae, options_for
from sae.registry import discover


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_saves_and_loads_in_a_fresh_process(name, tmp_path):
    spec = ARCHITECTURES[name]
    assert spec.l0_meaning and (spec.options.model_fields == {} or all(
        f.description for f in spec.options.model_fields.values())), "options carry descriptions"
    torch.manual_seed(0)
    sae = build_training_sae(name, d_in=12, width=8, l0=2 if spec.takes_l0 else None, options=None)
    sae.save_inference_model(tmp_path / "sae")
    code = ("import sys, torch; from sae.architectures import load_sae; s = load_sae(sys.argv[1]); "
            "print(type(s).__name__, s.cfg.d_sae, float(torch.nn.functional.normalize(s.W_dec, dim=1).sum()))")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "sae")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cls, width, total = proc.stdout.split()
    assert int(width) == 8 and float(total) == pytest.approx(
        float(torch.nn.functional.normalize(sae.W_dec, dim=1).sum()), rel=1e-5, abs=1e-5)  # saving folds norms


def test_options_fill_defaults_and_refuse_unknown_names():
    assert options_for("matryoshka_batchtopk", {}).prefixes == [0.25, 0.5]
    with pytest.raises(ValueError, match="prefix"):
        options_for("matryoshka_batchtopk", {"prefix": [0.5]})


def test_options_reach_the_sae_lens_config():
    sae = build_training_sae("matryoshka_batchtopk", d_in=12, width=8, l0=2, options={"prefixes": [0.5]})
    assert sae.cfg.matryoshka_widths == [4, 8]


def test_a_plug_in_is_named_by_its_file(tmp_path, monkeypatch):
    package = tmp_path / "plugins_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "alpha.py").write_text("from types import SimpleNamespace\nSPEC = SimpleNamespace(name='beta')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="a plug-in is named by its file"):
        discover("plugins_pkg", folders=False)


def test_load_sae_names_a_missing_weights_file(tmp_path):
    from sae.architectures import load_sae
    from sae.io import UnreadableOutput

    (tmp_path / "point/sae").mkdir(parents=True)
    (tmp_path / "point/sae/cfg.json").write_text("{}")
    with pytest.raises(UnreadableOutput, match=r"sae_weights.safetensors is missing; delete .*point and re-run"):
        load_sae(tmp_path / "point/sae")
