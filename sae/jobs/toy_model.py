"""Materialise an experiment's toy model once, for every later job to read."""

from __future__ import annotations

from pathlib import Path

from sae.config import ToySource
from sae.data.toy import build_toy_model


def write_toy_model(source: ToySource, out_dir: Path) -> None:
    build_toy_model(source.model).save(out_dir)
