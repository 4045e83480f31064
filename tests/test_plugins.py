"""A new diagnostic and a new figure are new files only: dropped into a copy of the library, the workflow
computes, tables, draws and targets them with no edit anywhere else."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sae import layout
from sae.sweep import read_csv
from tests.workflow_checks import REPO, TINY_CONFIG

pytestmark = pytest.mark.slow

METRIC_SPEC = """from sae.metrics import MetricSpec
SPEC = MetricSpec(name="throwaway", description="decoder norm", applies_to="all")
"""
METRIC_MAIN = """def compute(ctx, config):
    return {"throwaway_decoder_norm": float(ctx.sae.W_dec.norm())}
"""
FIGURE_SPEC = """from sae.figures import FigureSpec
SPEC = FigureSpec(name="throwaway_figure", applies_to="toy", inputs=("sweep",))
"""
FIGURE_MAIN = """import matplotlib.pyplot as plt


def draw(data):
    fig, ax = plt.subplots()
    ax.plot([r["l0"] for r in data.rows], [r["throwaway_decoder_norm"] for r in data.rows], "o")
    return fig
"""


def add_plugin(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir()
    for name, text in {"__init__.py": "", **files}.items():
        (folder / name).write_text(text)


def test_a_metric_and_a_figure_added_as_files_reach_every_output(tmp_path):
    code = tmp_path / "code"
    for part in ("sae", "workflow"):
        shutil.copytree(REPO / part, code / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "Snakefile", code / "Snakefile")
    add_plugin(code / "sae/metrics/throwaway", {"spec.py": METRIC_SPEC, "main.py": METRIC_MAIN})
    add_plugin(code / "sae/figures/throwaway_figure",
               {"spec.py": FIGURE_SPEC, "main.py": FIGURE_MAIN, "caption.rst": "A throw-away figure."})
    results = tmp_path / "results"
    env = os.environ | {"PYTHONPATH": str(code), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    command = [str(Path(sys.executable).parent / "snakemake"), "--snakefile", str(code / "Snakefile"),
               "--directory", str(tmp_path), "--configfile", str(TINY_CONFIG), "--replace-workflow-config",
               "--config", f"results_dir={results}", f"tracking={{uri: 'sqlite:///{results}/mlflow.db'}}"]

    dry = subprocess.run([*command, "-n"], capture_output=True, text=True, env=env)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "tiny_small/figures/throwaway_figure.png" in dry.stdout  # the experiment's figures job draws it

    run = subprocess.run([*command, "--cores", "2"], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    point = "batchtopk/w5/l0_2/seed0"
    metrics = json.loads(layout.resolve(results, layout.METRICS, experiment="tiny_small", point=point).read_text())
    assert metrics["throwaway_decoder_norm"] > 0 and "c_dec" in metrics
    rows = read_csv(layout.resolve(results, layout.SWEEP_TABLE, experiment="tiny_small"))
    assert all(r["throwaway_decoder_norm"] > 0 for r in rows)
    assert layout.resolve(results, layout.FIGURE, experiment="tiny_small", figure="throwaway_figure").stat().st_size > 1000
