"""MLflow: one experiment per config experiment, one parent run per sweep, one child run per SAE.

The only module that imports mlflow. Runs are found again by tags, never
created twice: a retried job replaces its child run, and every write is
retried when SQLite reports a lock held by a parallel job. Parent runs carry
their study's identity (`sae.layout.study_id`) and child runs are found under
their parent, so studies sharing a store (even with the same experiment names)
never touch each other's runs.
"""

from __future__ import annotations

import fcntl
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

# Fail in seconds, not minutes, when a tracking server is down; set before mlflow reads them.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")

from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from sae import layout  # noqa: E402
from sae.io import damaged_store, read_json  # noqa: E402

ROLE_TAG, SWEEP_TAG, KEY_TAG, STUDY_TAG = "sae.role", "sae.sweep", "sae.grid_key", "sae.study"
PARENT_TAG = "mlflow.parentRunId"
# The text the MLflow UI shows as an experiment's or a run's description.
NOTE_TAG = "mlflow.note.content"
# The experiment's kind as MLflow 3's UI names it (server/js ExperimentKind: "Machine learning", not "GenAI apps &
# agents"), so that the UI does not infer one. Which page an experiment opens on follows the UI's own
# "GenAI | Model training" switch (or `?workflowType=machine_learning` in its URL), not this tag (mlflow 3.17).
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"
# A parent run's folder of what the sweep concluded (recommendation.json, the decoder-metrics figure): the UI lists
# folders alphabetically, before files, so this name puts it at the top of the run's artifacts.
ANSWER_FOLDER = "answer"
T = TypeVar("T")


class TrackingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Tracking:
    """Where a job logs: the tracking URI and its experiment's parent run."""

    uri: str
    parent_run_id: str

    @classmethod
    def from_runs_file(cls, uri: str, runs_file: Path | str, experiment: str) -> Tracking:
        return cls(uri, read_json(runs_file)[experiment])


def _retry(fn: Callable[[], T], uri: str, attempts: int = 8) -> T:
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as err:  # mlflow wraps SQLAlchemy and HTTP errors in several types
            text = str(err).lower()
            if "database is locked" in text and attempt < attempts - 1:
                time.sleep(0.2 * 2**attempt * random.uniform(0.5, 1.5))
                continue
            if uri.startswith("http") and any(s in text for s in ("401", "unauthorized", "403", "permission")):
                from sae.preflight import credentials_problem

                raise TrackingError(credentials_problem(uri, f"refused this job ({type(err).__name__}: "
                                                             f"{' '.join(str(err).split())[:200]})")) from err
            db = _sqlite_path(uri)
            if db is not None and ("file is not a database" in text or "malformed" in text):
                raise damaged_store(db, "is not a readable SQLite database") from err
            if uri.startswith("http") and ("connection" in text or "max retries" in text):
                raise TrackingError(
                    f"MLflow tracking server {uri} is unreachable ({type(err).__name__}); "
                    "start it or set tracking.uri to a sqlite:/// store. Nothing was logged for this job."
                ) from err
            raise
    raise AssertionError("unreachable")


_READY: set[str] = set()  # SQLite stores this process has seen set up


def _sqlite_path(uri: str) -> Path | None:
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


def _client(uri: str) -> MlflowClient:
    db = _sqlite_path(uri)
    if db is None or uri in _READY:
        return MlflowClient(tracking_uri=uri)
    db.parent.mkdir(parents=True, exist_ok=True)
    # MLflow creates and migrates a fresh SQLite schema without a lock: two processes starting at once fail
    # (`duplicate column name`, `table ... already exists`) and can leave the file unusable. Serialise it.
    with open(db.with_name(db.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        client = MlflowClient(tracking_uri=uri)
        client.search_experiments(max_results=1)
    _READY.add(uri)
    return client


def _artifact_location(uri: str, name: str) -> str | None:
    """Beside a SQLite store (under the study's results folder), not MLflow's default ./mlruns of the cwd."""
    db = _sqlite_path(uri)
    return None if db is None else (db.resolve().parent / layout.MLFLOW_ARTIFACTS_DIR / name).as_uri()


def _experiment_id(client: MlflowClient, uri: str, name: str) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is None:
        return client.create_experiment(name, artifact_location=_artifact_location(uri, name), tags={KIND_TAG: KIND})
    if exp.lifecycle_stage == "deleted":
        client.restore_experiment(exp.experiment_id)
    if exp.tags.get(KIND_TAG) != KIND:
        client.set_experiment_tag(exp.experiment_id, KIND_TAG, KIND)
    return exp.experiment_id


def _find_runs(client: MlflowClient, experiment_id: str, tags: Mapping[str, str]) -> list[Any]:
    query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
    return client.search_runs([experiment_id], filter_string=query, max_results=1000)


def ensure_parent_runs(uri: str, sweeps: Mapping[str, str], study: str) -> dict[str, str]:
    """sweep name -> MLflow experiment name; returns sweep name -> parent run id (created once per study)."""

    def work() -> dict[str, str]:
        client = _client(uri)
        ids = {}
        for sweep, exp_name in sweeps.items():
            exp_id = _experiment_id(client, uri, exp_name)
            tags = {ROLE_TAG: "parent", SWEEP_TAG: sweep, STUDY_TAG: study}
            found = _find_runs(client, exp_id, tags)
            run = found[0] if found else client.create_run(exp_id, tags=tags, run_name=f"sweep {sweep} ({study})")
            ids[sweep] = run.info.run_id
        return ids

    return _retry(work, uri)


def _flat_params(params: Mapping[str, Any]) -> list[Param]:
    return [Param(k, str(v)[:6000]) for k, v in sorted(params.items())]


def start_child_runs(uri: str, parent_run_id: str, params: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Create the child run of each SAE (grid key -> its parameters), replacing (deleting) any run an earlier
    attempt left; returns grid key -> run id. One client and one search for the batch."""
    client = _retry(lambda: _client(uri), uri)
    parent = _retry(lambda: client.get_run(parent_run_id), uri)
    exp_id, study = parent.info.experiment_id, parent.data.tags.get(STUDY_TAG, "")
    old = _children(client, uri, exp_id, parent_run_id)
    ids = {}
    for key, values in params.items():
        def work(key: str = key, values: Mapping[str, Any] = values) -> str:
            for run_id in old.pop(key, []):
                client.delete_run(run_id)
            tags = {KEY_TAG: key, ROLE_TAG: "child", PARENT_TAG: parent_run_id, STUDY_TAG: study}
            run = client.create_run(exp_id, tags=tags, run_name=key)
            client.log_batch(run.info.run_id, params=_flat_params(values))
            return run.info.run_id

        ids[key] = _retry(work, uri)
    # a sweep that trains again is running again, until its sweep table finishes it
    _retry(lambda: client.update_run(parent_run_id, status="RUNNING"), uri)
    return ids


def _children(client: MlflowClient, uri: str, experiment_id: str, parent_run_id: str) -> dict[str, list[str]]:
    """grid key -> ids of the parent's child runs with it (more than one only if an earlier attempt left one)."""
    found: dict[str, list[str]] = {}
    for run in _retry(lambda: _find_runs(client, experiment_id, {PARENT_TAG: parent_run_id}), uri):
        found.setdefault(run.data.tags.get(KEY_TAG, ""), []).append(run.info.run_id)
    return found


def child_run_ids(uri: str, parent_run_id: str, keys: Sequence[str]) -> dict[str, str]:
    """grid key -> the run id of its child run, for every key (one search for the batch)."""
    client = _retry(lambda: _client(uri), uri)
    exp_id = _retry(lambda: client.get_run(parent_run_id), uri).info.experiment_id
    found = _children(client, uri, exp_id, parent_run_id)
    wrong = {k: len(found.get(k, [])) for k in keys if len(found.get(k, [])) != 1}
    if wrong:
        raise TrackingError(f"expected one MLflow run tagged {KEY_TAG}=<key> under parent {parent_run_id}, "
                            f"found (key: runs) {wrong}")
    return {k: found[k][0] for k in keys}


@dataclass
class RunLog:
    """What one job writes to one run: final metrics (step 0), a training curve (step = the point's "step"),
    artifacts (files or folders, by artifact folder)."""

    metrics: Mapping[str, float] = field(default_factory=dict)
    curve: list[Mapping[str, float]] = field(default_factory=list)
    artifacts: Mapping[str, Path | Sequence[Path]] = field(default_factory=dict)


def write_runs(uri: str, logs: Mapping[str, RunLog], finish: bool = False) -> None:
    """Write each run's `RunLog` (run id -> it) with one client; `finish`: then mark each FINISHED.

    Each run's writes are retried on their own, so a lock met halfway never writes a run's metrics twice.
    """
    client = _retry(lambda: _client(uri), uri)
    now = int(time.time() * 1000)
    for run_id, log in logs.items():
        batch = [Metric(mlflow_key(k), float(v), now, 0) for k, v in log.metrics.items()]
        for point in log.curve:
            step = int(point["step"])
            batch += [Metric(f"train/{k}", float(v), now, step) for k, v in point.items() if k != "step"]

        def work(run_id: str = run_id, log: RunLog = log, batch: list[Metric] = batch) -> None:
            # log_batch accepts at most 1000 metrics per call
            for start in range(0, len(batch), 1000):
                client.log_batch(run_id, metrics=batch[start : start + 1000])
            for folder, paths in log.artifacts.items():
                for path in [paths] if isinstance(paths, (str, Path)) else paths:
                    if Path(path).is_dir():
                        client.log_artifacts(run_id, str(path), artifact_path=folder)
                    else:
                        client.log_artifact(run_id, str(path), artifact_path=folder)
            if finish:
                client.set_terminated(run_id, "FINISHED")

        _retry(work, uri)


def mlflow_key(name: str) -> str:
    # MLflow keys allow alphanumerics, _ - . / and spaces only
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in name)


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config as dotted keys, for MLflow parameters."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping) and value:
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def finish_parent(uri: str, run_id: str, config: Mapping[str, Any], metrics: Mapping[str, float],
                  tags: Mapping[str, str], note: str, description: str) -> None:
    """The sweep's parent run: its experiment config as parameters, its answer as metrics, tags and the `note` its
    page shows; FINISHED. `description` becomes its MLflow experiment's description.

    MLflow parameters cannot change once logged, so a value changed by a later config is written as the
    tag `config.<key>` (the parameter keeps the first value) rather than failing the job.
    """

    def work() -> None:
        client = _client(uri)
        run = client.get_run(run_id)
        logged = run.data.params
        params = {k: str(v)[:6000] for k, v in flatten(config).items()}
        changed = {f"config.{k}": v for k, v in params.items() if k in logged and logged[k] != v}
        client.log_batch(run_id, params=_flat_params({k: v for k, v in params.items() if k not in logged}))
        now = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric(mlflow_key(k), float(v), now, 0) for k, v in metrics.items()],
                         tags=[RunTag(mlflow_key(k), str(v)) for k, v in (dict(tags) | changed).items()]
                         + [RunTag(NOTE_TAG, note)])
        client.set_experiment_tag(run.info.experiment_id, NOTE_TAG, description)
        client.set_terminated(run_id, "FINISHED")

    _retry(work, uri)


def fail_unfinished_parents(uri: str, runs_file: Path | str) -> None:
    """Mark FAILED every parent run of a failed workflow that no sweep table has finished."""
    if not Path(runs_file).exists():
        return

    def work() -> None:
        client = _client(uri)
        for run_id in read_json(runs_file).values():
            if client.get_run(run_id).info.status == "RUNNING":
                client.set_terminated(run_id, "FAILED")

    _retry(work, uri)
