"""Process set-up shared by every job: where output goes and how many threads torch may use."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType


def setup_job(log_path: str | Path, threads: int) -> None:
    """Send stdout, stderr and logging to `log_path`; pin torch to the job's declared threads.

    Oversubscription is the first performance trap here: two 2-thread torch jobs on
    2 cores ran ~10x slower each than one job alone (DESIGN.md).
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(log_path, "w", buffering=1)  # noqa: SIM115 - lives as long as the job
    sys.stdout = sys.stderr = stream
    sys.excepthook = _one_line_on_console(Path(log_path))
    logging.basicConfig(stream=stream, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True)
    import torch

    torch.set_num_threads(threads)


def _one_line_on_console(log_path: Path):
    """A failing job: the traceback into its log, one line on the console naming the cause and the log.

    Snakemake itself only reports that the script exited non-zero; without this the cause sits at the
    bottom of the log. Expected failures raise with a message that names the file or field and the fix.
    """

    def report(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, error, tb)
        message = " ".join(str(error).split()) or kind.__name__
        sys.__stderr__.write(f"ERROR: {message} [{kind.__name__}; traceback in {log_path}]\n")

    return report


def resolve_device(device: str) -> str:
    """`auto` is CUDA when present, else the CPU; any other name is taken as given."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
