"""The sweep table and L0 recommendation of one experiment, from its metric JSONs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sae import sweep
from sae.config import GridPoint
from sae.io import atomic_write_json, read_json


def sweep_table(points: list[GridPoint], metrics_jsons: list[Path], train_jsons: list[Path],
                true_l0: float | None, out_csv: Path, out_recommendation: Path,
                splice_costs: dict[str, dict[str, float]] | None = None) -> list[dict[str, Any]]:
    """One row per grid point: its grid values, metrics, training record and (LLM) splice costs."""
    rows = [
        p.model_dump() | read_json(mj) | {f"train_{k}": v for k, v in read_json(tj).items()}
        | (splice_costs or {}).get(p.key, {})
        for p, mj, tj in zip(points, metrics_jsons, train_jsons, strict=True)
    ]
    sweep.write_csv(rows, out_csv)
    recommendation = sweep.recommend_l0(rows, true_l0)
    atomic_write_json(out_recommendation, recommendation)
    return recommendation
