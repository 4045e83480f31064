"""The tiny study with parallel jobs logging to a real `mlflow server` over HTTP, behind MLflow's basic
authentication (`--app-name basic-auth`): the jobs log with the credentials in MLFLOW_TRACKING_USERNAME /
MLFLOW_TRACKING_PASSWORD, a client without them can neither read nor write, and wrong ones stop the study in
pre-flight with one line."""

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.workflow_checks import check_study_outputs, run_snakemake

pytestmark = pytest.mark.slow
VENV_BIN = Path(sys.executable).parent
ADMIN, ADMIN_PASSWORD = "admin", "admin-password-for-tests"
USER, PASSWORD = "alice", "alice-password-for-tests"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, user: str, password: str, body: dict | None = None) -> int:
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.status


@pytest.fixture
def mlflow_server(tmp_path):
    """URI of a fresh `mlflow server --app-name basic-auth` (SQLite backend, served artifacts) with one user,
    USER; killed afterwards."""
    port = _free_port()
    uri = f"http://127.0.0.1:{port}"
    (tmp_path / "auth.ini").write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{tmp_path / 'auth.db'}\n"
        f"admin_username = {ADMIN}\nadmin_password = {ADMIN_PASSWORD}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")
    env = os.environ | {"MLFLOW_AUTH_CONFIG_PATH": str(tmp_path / "auth.ini"),
                        "MLFLOW_FLASK_SERVER_SECRET_KEY": "a-static-key-for-tests"}
    log = open(tmp_path / "mlflow_server.log", "wb")
    cmd = [
        str(VENV_BIN / "mlflow"), "server", "--app-name", "basic-auth",
        "--backend-store-uri", f"sqlite:///{tmp_path / 'srv.db'}",
        "--artifacts-destination", str(tmp_path / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1",  # 2 cores: leave them to the jobs
    ]
    # Own session, so teardown can kill the server and its uvicorn workers as one group.
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"mlflow server did not come up:\n{(tmp_path / 'mlflow_server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        assert _request(f"{uri}/api/2.0/mlflow/users/create", ADMIN, ADMIN_PASSWORD,
                        {"username": USER, "password": PASSWORD}) == 200
        yield uri
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if server.poll() is not None:
                break
            os.killpg(server.pid, sig)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        log.close()


def _without_credentials(monkeypatch):
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_tiny_study_against_an_authenticated_mlflow_server(mlflow_server, tmp_path, monkeypatch):
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    results = tmp_path / "results"
    args = ("--config", f"results_dir={results}", f"tracking={{uri: '{mlflow_server}'}}")
    _without_credentials(monkeypatch)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "not-" + PASSWORD)
    proc = run_snakemake(tmp_path, "--cores", "1", *args)
    console = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in console and not results.exists(), console[-3000:]
    assert re.search(rf"tracking\.uri: MLflow server {re.escape(mlflow_server)} refused the credentials of user "
                     rf"'{USER}' \(HTTP 401\): set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD", console)
    assert "not-" + PASSWORD not in console

    # Two parallel jobs write to the server at once, as USER.
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    proc = run_snakemake(tmp_path, "--cores", "2", *args, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    assert PASSWORD not in proc.stdout + proc.stderr + "".join(p.read_text() for p in results.rglob("*.log"))
    # One child run per grid point, with its metrics and artifacts, read back over HTTP.
    check_study_outputs(results, mlflow_server)
    # Artifacts went through the server to its --artifacts-destination, not to a local path.
    assert any(p.is_file() for p in (tmp_path / "artifacts").rglob("*"))

    client = MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name("tiny_small")
    run_id = client.search_runs([experiment.experiment_id])[0].info.run_id
    _without_credentials(monkeypatch)
    for write in (lambda: client.create_experiment("intruder"), lambda: client.log_metric(run_id, "c_dec", 0.0),
                  lambda: client.delete_run(run_id), lambda: client.search_runs([experiment.experiment_id])):
        with pytest.raises(MlflowException, match="401|Unauthorized|credentials"):
            write()
    proc = run_snakemake(tmp_path, "--cores", "1", *args)
    assert proc.returncode != 0 and "requires credentials and none are set (HTTP 401)" in proc.stdout + proc.stderr
