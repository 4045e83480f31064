"""An architecture with its own SAELens classes loads with `SAE.load_from_disk` in a fresh process after `import sae`.

The throw-away architecture is added as new files to a copy of the library, as a contributor would add one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workflow_checks import REPO

SPEC = """from sae.architectures import ArchitectureSpec

SPEC = ArchitectureSpec(name="throwaway_topk", l0_meaning="k per input", integer_l0=True,
                        sae_lens_fields=lambda width, l0, options: {"k": int(l0)},
                        sae_lens_classes="sae.architectures._throwaway_topk_classes")
"""
CLASSES = """from sae_lens.saes.topk_sae import TopKSAE, TopKSAEConfig, TopKTrainingSAE, TopKTrainingSAEConfig


class ThrowawayConfig(TopKSAEConfig):
    @classmethod
    def architecture(cls):
        return "throwaway_topk"


class Throwaway(TopKSAE):
    pass


class ThrowawayTrainingConfig(TopKTrainingSAEConfig):
    @classmethod
    def architecture(cls):
        return "throwaway_topk"


class ThrowawayTraining(TopKTrainingSAE):
    pass


SAE_LENS_CLASSES = {"inference": (Throwaway, ThrowawayConfig), "training": (ThrowawayTraining, ThrowawayTrainingConfig)}
"""
TRAIN_AND_SAVE = """
import sys, torch
from sae.architectures import build_training_sae
torch.manual_seed(0)
sae = build_training_sae("throwaway_topk", d_in=6, width=4, l0=2, options={})
assert type(sae).__name__ == "ThrowawayTraining", type(sae)
sae.save_inference_model(sys.argv[1])
x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
torch.save(sae.decode(sae.encode(x)).detach(), sys.argv[1] + "/expected_reconstruction.pt")
"""
LOAD = """
import sys, torch
{imports}
sae = SAE.load_from_disk(sys.argv[1])
assert type(sae).__name__ == "Throwaway", type(sae)
x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
assert torch.allclose(sae.decode(sae.encode(x)), torch.load(sys.argv[1] + "/expected_reconstruction.pt"), atol=1e-5)
print("loaded", type(sae).__name__)
"""


def run_python(code: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(code)}
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                          cwd=code, timeout=300)


@pytest.mark.parametrize("imports", ["import sae\nfrom sae_lens import SAE", "from sae_lens import SAE\nimport sae"],
                         ids=["sae-first", "sae_lens-first"])
def test_custom_class_loads_in_a_fresh_process(tmp_path, imports):
    code = tmp_path / "code"
    shutil.copytree(REPO / "sae", code / "sae", ignore=shutil.ignore_patterns("__pycache__"))
    (code / "sae/architectures/throwaway_topk.py").write_text(SPEC)
    (code / "sae/architectures/_throwaway_topk_classes.py").write_text(CLASSES)
    saved = tmp_path / "saved"
    trained = run_python(code, TRAIN_AND_SAVE, str(saved))
    assert trained.returncode == 0, trained.stderr[-3000:]

    loaded = run_python(code, LOAD.format(imports=imports), str(saved))
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "loaded Throwaway" in loaded.stdout


def test_without_import_sae_the_class_is_unknown(tmp_path):
    """The control: SAELens alone cannot load it, so the test above shows the registration at work."""
    code = tmp_path / "code"
    shutil.copytree(REPO / "sae", code / "sae", ignore=shutil.ignore_patterns("__pycache__"))
    (code / "sae/architectures/throwaway_topk.py").write_text(SPEC)
    (code / "sae/architectures/_throwaway_topk_classes.py").write_text(CLASSES)
    assert run_python(code, TRAIN_AND_SAVE, str(tmp_path / "saved")).returncode == 0
    bare = run_python(code, LOAD.format(imports="from sae_lens import SAE"), str(tmp_path / "saved"))
    assert bare.returncode != 0 and "throwaway_topk" in bare.stderr
