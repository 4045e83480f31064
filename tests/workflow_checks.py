"""Run the workflow on a config and check what a finished study must contain (shared by the e2e tests)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import yaml
from mlflow.tracking import MlflowClient

from sae.config import grid_points, load_study_config

REPO = Path(__file__).resolve().parent.parent
TINY_CONFIG = REPO / "tests" / "configs" / "tiny.yaml"


def snakemake_command(workdir: Path, *extra: str, configfile: Path = TINY_CONFIG) -> list[str]:
    """snakemake on `configfile` alone (--replace-workflow-config drops config.yaml), outputs under workdir."""
    return [
        str(Path(sys.executable).parent / "snakemake"), "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(configfile), "--replace-workflow-config", *extra,
    ]


def run_snakemake(workdir: Path, *extra: str, configfile: Path = TINY_CONFIG, timeout: int = 600):
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(snakemake_command(workdir, *extra, configfile=configfile), capture_output=True,
                          text=True, timeout=timeout, env=env)


def study_config(results_dir: Path, uri: str, configfile: Path = TINY_CONFIG):
    raw = yaml.safe_load(configfile.read_text()) | {"results_dir": str(results_dir), "tracking": {"uri": uri}}
    return load_study_config(raw)


def check_study_outputs(results_dir: Path, uri: str, configfile: Path = TINY_CONFIG) -> None:
    """Every output exists, every metric is finite, MLflow holds exactly one child run per grid point."""
    study = study_config(results_dir, uri, configfile)
    client = MlflowClient(uri)
    for name, exp in study.experiments.items():
        toy = exp.source.kind == "toy"
        exp_dir = results_dir / name
        figures = ("decoder_metrics", "l0_vs_variance_explained") + (("feature_cosines",) if toy else ("splice_cost",))
        for fig in figures:
            for ext in ("png", "pdf"):
                assert (exp_dir / "figures" / f"{fig}.{ext}").stat().st_size > 1000, f"{fig}.{ext}"
        assert (exp_dir / "sweep.csv").exists()
        recommendation = json.loads((exp_dir / "recommendation.json").read_text())
        assert recommendation and all((r["true_l0"] is not None) == toy for r in recommendation)
        experiment = client.get_experiment_by_name(study.tracking.experiment_prefix + name)
        runs = client.search_runs([experiment.experiment_id], max_results=1000)
        parents = [r for r in runs if r.data.tags.get("sae.role") == "parent"]
        children = [r for r in runs if r.data.tags.get("sae.role") == "child"]
        assert len(parents) == 1
        assert {f.path for f in client.list_artifacts(parents[0].info.run_id)} >= {"figures", "tables"}
        points = [p for p in grid_points(study) if p.experiment == name]
        assert sorted(r.data.tags["sae.grid_key"] for r in children) == sorted(p.key for p in points)
        metric_keys = ["c_dec", "s_n_dec", "l0_measured", "dead_latents", "mse", "variance_explained"]
        metric_keys += ["mcc"] if toy else []
        if not toy:
            costs = json.loads((exp_dir / "splice_costs.json").read_text())
            assert sorted(costs) == sorted(p.key for p in points)
            assert all(math.isfinite(c["ce_loss_increase"]) and c["kl_div"] >= 0 for c in costs.values())
        for point in points:
            point_dir = exp_dir / point.architecture / f"w{point.width}" / f"l0_{point.l0_label}" / f"seed{point.seed}"
            assert (point_dir / "sae" / "cfg.json").exists() and (point_dir / "sae" / "sae_weights.safetensors").exists()
            metrics = json.loads((point_dir / "metrics.json").read_text())
            for key in metric_keys:
                assert math.isfinite(metrics[key]), (point.key, key)
            child = next(r for r in children if r.data.tags["sae.grid_key"] == point.key)
            assert child.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
            assert child.data.metrics["c_dec"] == metrics["c_dec"]
            assert child.data.params["l0"] == str(point.l0)
            assert len(client.get_metric_history(child.info.run_id, "train/loss")) >= 2
            assert {f.path for f in client.list_artifacts(child.info.run_id)} >= {"sae", "metrics"}
