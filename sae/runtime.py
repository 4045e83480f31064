"""Process set-up shared by every job: where output goes and how many threads torch may use."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def setup_job(log_path: str | Path, threads: int) -> None:
    """Send stdout, stderr and logging to `log_path`; pin torch to the job's declared threads.

    Oversubscription is the first performance trap here: two 2-thread torch jobs on
    2 cores ran ~10x slower each than one job alone (DESIGN.md).
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(log_path, "w", buffering=1)  # noqa: SIM115 - lives as long as the job
    sys.stdout = sys.stderr = stream
    logging.basicConfig(stream=stream, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True)
    import torch

    torch.set_num_threads(threads)


def resolve_device(device: str) -> str:
    """`auto` is CUDA when present, else the CPU; any other name is taken as given."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
