"""The tiny study with parallel jobs logging to a real `mlflow server` over HTTP."""

import os
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    """URI of a fresh `mlflow server` (SQLite backend, served artifacts); killed afterwards."""
    port = _free_port()
    uri = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "mlflow_server.log", "wb")
    cmd = [
        str(VENV_BIN / "mlflow"), "server",
        "--backend-store-uri", f"sqlite:///{tmp_path / 'srv.db'}",
        "--artifacts-destination", str(tmp_path / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1",  # 2 cores: leave them to the jobs
    ]
    # Own session, so teardown can kill the server and its uvicorn workers as one group.
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
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


def test_tiny_study_against_mlflow_server(mlflow_server, tmp_path):
    results = tmp_path / "results"
    # Two parallel jobs write to the server at once.
    proc = run_snakemake(
        tmp_path, "--cores", "2", "--config", f"results_dir={results}", f"tracking={{uri: '{mlflow_server}'}}",
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    # One child run per grid point, with its metrics and artifacts, read back over HTTP.
    check_study_outputs(results, mlflow_server)
    # Artifacts went through the server to its --artifacts-destination, not to a local path.
    assert any(p.is_file() for p in (tmp_path / "artifacts").rglob("*"))
