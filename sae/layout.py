"""The only definition of output paths, grid keys, training job names, store names and log paths.

Patterns are relative to the study's `results_dir` and use Snakemake-style `{wildcards}`;
the rules prefix them with `<results>/`, jobs and tests fill them with `resolve`. A grid
point's folder is `{experiment}/{point}` where `point` is `point_path(...)`:

    {architecture}/w{width}[/{option}_{value}...][/l0_{l0}]/seed{seed}

with one segment per swept architecture option (sorted by name) and no `l0_` segment for
architectures that choose their own L0. Torch-free: the Snakefile imports it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------- per study
RUNS_FILE = "mlflow_runs.json"
STORE_DIR = "activations/{store}"
STORE_MANIFEST = STORE_DIR + "/manifest.json"
# data that per-experiment evaluations declare they read (sae.metrics.SharedInput), e.g. a probe set's
# last-token activations: one folder per identity, its manifest written last
SHARED_INPUT_DIR = "activations/shared/{name}"
SHARED_INPUT_MANIFEST = SHARED_INPUT_DIR + "/manifest.json"
# a study-scope figure (sae.figures), over several experiments
STUDY_FIGURE = "figures/{figure}.png"

# ---------------------------------------------------------------- per experiment
TOY_MODEL_DIR = "{experiment}/toy_model"
TOY_WEIGHTS = TOY_MODEL_DIR + "/toy_model.safetensors"
TOY_INFO = TOY_MODEL_DIR + "/toy_model.json"
# a fused training job's checkpoints (one SAE trained alone keeps them in its point's folder: CHECKPOINTS)
JOB_CHECKPOINTS = "{experiment}/checkpoints/{job}"
GROUND_TRUTH = "{experiment}/ground_truth.json"
EVALUATION = "{experiment}/{evaluation}.json"
SWEEP_TABLE = "{experiment}/sweep.csv"
RECOMMENDATION = "{experiment}/recommendation.json"
FIGURE = "{experiment}/figures/{figure}.png"
# an audit's table: every audited SAE's measured L0 and verdict (sae.audit.verdict)
AUDIT_TABLE = "{experiment}/audit.csv"
# the points refinement round `round` added (trained and evaluated in their own point folders)
REFINE_ROUND = "{experiment}/refine/round{round}.json"

# ---------------------------------------------------------------- per grid point
POINT_DIR = "{experiment}/{point}"
SAE = POINT_DIR + "/sae"
# The files of a saved SAE (sae_lens.constants SAE_CFG_FILENAME, SAE_WEIGHTS_FILENAME), declared one by one as
# rule outputs so that Snakemake notices one deleted inside the folder and retrains the point.
SAE_FILES = ("cfg.json", "sae_weights.safetensors")
SAE_CFG, SAE_WEIGHTS = (f"{SAE}/{name}" for name in SAE_FILES)
TRAIN_SUMMARY = POINT_DIR + "/train.json"
# an audited SAE's record in its point's folder (instead of train.json): its source, format and metadata
AUDIT_RECORD_FILE = "audit.json"
AUDIT_RECORD = POINT_DIR + "/" + AUDIT_RECORD_FILE
CURVE = POINT_DIR + "/curve.json"
CHECKPOINTS = POINT_DIR + "/checkpoints"
METRICS_FILE, TENSORS_FILE = "metrics.json", "tensors.safetensors"  # inside a point's folder
METRICS = POINT_DIR + "/" + METRICS_FILE
# a trained point's SAE trained further from its weights (warm start), `variant` naming how
CONTINUED_FOLDER = "continued/{variant}"
CONTINUED_DIR = POINT_DIR + "/" + CONTINUED_FOLDER
CONTINUED_SAE = CONTINUED_DIR + "/sae"
CONTINUED_SAE_CFG, CONTINUED_SAE_WEIGHTS = (f"{CONTINUED_SAE}/{name}" for name in SAE_FILES)
CONTINUED_SUMMARY = CONTINUED_DIR + "/train.json"
CONTINUED_CURVE = CONTINUED_DIR + "/curve.json"
CONTINUED_CHECKPOINTS = CONTINUED_DIR + "/checkpoints"
TENSORS = POINT_DIR + "/" + TENSORS_FILE

# Top-level folders of a study that are not experiments: an experiment may not take their names.
# (MLflow artifacts of a SQLite store live in `mlartifacts/` beside the store, see sae.tracking.)
LOGS_DIR, MLFLOW_ARTIFACTS_DIR = "logs", "mlartifacts"
RESERVED_NAMES = (STORE_DIR.split("/")[0], STUDY_FIGURE.split("/")[0], LOGS_DIR, MLFLOW_ARTIFACTS_DIR)

# Inside a trained point's folder.
SAE_FOLDER, SUMMARY_FILE, CURVE_FILE = "sae", "train.json", "curve.json"


def with_variant(pattern: str, variant: str) -> str:
    """A CONTINUED_* pattern for one variant, its experiment and point left as wildcards."""
    return pattern.replace("{variant}", variant)


def continued_key(point_key: str, variant: str) -> str:
    """The MLflow run name of a point's continuation."""
    return f"{point_key}/continued/{variant}"


def log(rule: str, name: str) -> str:
    """A job's log file: logs/{rule}/{name}.log (name may contain wildcards and slashes)."""
    return f"{LOGS_DIR}/{rule}/{name}.log"


def resolve(results_dir: str | Path, pattern: str, **wildcards: Any) -> Path:
    """A pattern above with its wildcards filled, under `results_dir`."""
    return Path(results_dir) / pattern.format(**wildcards)


def format_number(value: float) -> str:
    """2.0 -> '2', 1.8 -> '1.8', 0.0078125 -> '0.0078125': the form numbers take in paths."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, (list, tuple)):
        return "-".join(format_value(v) for v in value)
    return str(value)


def point_path(architecture: str, width: int, l0: float | None, seed: int,
               options: Mapping[str, Any] | None = None) -> str:
    """A grid point's folder below its experiment's."""
    parts = [architecture, f"w{width}"]
    parts += [f"{name}_{format_value(value)}" for name, value in sorted((options or {}).items())]
    if l0 is not None:
        parts.append(f"l0_{format_number(l0)}")
    parts.append(f"seed{seed}")
    return "/".join(parts)


def audited_point_path(name: str) -> str:
    """An audited SAE's folder below its experiment's (sae.audit names it)."""
    return f"saes/{name}"


def group_name(architecture: str, width: int, seed: int, options: Mapping[str, Any], index: int) -> str:
    """A fused training job's name, unique within the experiment."""
    opts = "".join(f"_{name}_{format_value(value)}" for name, value in sorted(options.items()))
    return f"{architecture}_w{width}{opts}_seed{seed}_{index}"


def study_id(results_dir: str | Path) -> str:
    """A study's identity on a shared MLflow store: its results folder, resolved (two studies never share one)."""
    return hashlib.sha1(str(Path(results_dir).resolve()).encode()).hexdigest()[:12]


def store_name(source: Mapping[str, Any]) -> str:
    """One activation store per distinct LLM source (model, layer, dataset, budget, ...), shared by experiments."""
    digest = hashlib.sha1(json.dumps(source, sort_keys=True).encode()).hexdigest()[:10]
    model = "".join(c if c.isalnum() or c in "-_." else "-" for c in source["model"])
    return f"{model}_layer{source['layer']}_{digest}"
