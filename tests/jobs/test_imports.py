"""Jobs that need no model pay no model's start-up: importing them loads neither torch nor SAELens."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["sae", "sae.plan", "sae.jobs.figure", "sae.jobs.sweep_table",
                                    "sae.jobs.tracking_init", "sae.jobs.record"])
def test_a_light_job_imports_no_torch_or_sae_lens(module):
    code = (f"import sys, {module}; heavy = [m for m in ('torch', 'sae_lens', 'transformers') if m in sys.modules];"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing {module} loaded {out}"
