"""Sweep tables and their seed-averaged curves, built from per-SAE metric JSONs (and `SEED_AGREEMENT`)."""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sae.io import atomic_path, reading

Row = dict[str, Any]
OPTION_PREFIX = "option."
# the column of sae.seed_agreement, the one read from weights (a pair of SAEs' decoders)
SEED_AGREEMENT = "seed_agreement"


CurveKey = tuple[str, int, str]


def curve_key(row: Row) -> CurveKey:
    """Rows on one curve share architecture, width and swept options; they differ in L0 and seed.

    An empty option column (another architecture's option, read back from the CSV) is not part of the key: the
    recommendation, keyed from the rows before the CSV, has none, and the figures must find it."""
    options = ",".join(f"{k.removeprefix(OPTION_PREFIX)}={row[k]}" for k in sorted(row)
                       if k.startswith(OPTION_PREFIX) and row[k] is not None)
    return row["architecture"], row["width"], options


def curve_label(key: CurveKey, n_keys: int) -> str:
    arch, width, options = key
    label = arch if n_keys == 1 else f"{arch}, w={width}"
    return f"{label}, {options}" if options else label


def row_l0(row: Row) -> float | None:
    """A row's L0: its target, or for an architecture that chooses its own (top_afa) the measured one."""
    return row["l0"] if row["l0"] is not None else row.get("l0_measured")


def mean_over_seeds(rows: Sequence[Row], metric: str) -> dict[CurveKey, list[tuple[float, float, float]]]:
    """curve key -> sorted [(l0, mean, std)] of `metric` over seeds (at `row_l0`)."""
    grouped: dict[tuple[CurveKey, float], list[float]] = defaultdict(list)
    for row in rows:
        if row_l0(row) is not None:
            grouped[(curve_key(row), row_l0(row))].append(row[metric])
    curves: dict[CurveKey, list[tuple[float, float, float]]] = defaultdict(list)
    for (key, l0), values in sorted(grouped.items()):
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        curves[key].append((l0, statistics.fmean(values), std))
    return dict(curves)


def point_row(point: Any) -> Row:
    """A grid point as the first columns of its sweep-table row; swept options as `option.<name>` columns."""
    row = {"experiment": point.experiment, "architecture": point.architecture, "width": point.width,
           "l0": point.l0, "seed": point.seed}
    return row | {f"{OPTION_PREFIX}{name}": value for name, value in sorted(point.options.items())}


def recommendation_key(recommendation: Row) -> CurveKey:
    return recommendation["architecture"], recommendation["width"], recommendation.get("options", "")


def write_csv(rows: Sequence[Row], path: Path | str) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path | str) -> list[Row]:
    with reading(path), open(path, newline="") as f:
        return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _parse(value: str) -> Any:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value if value != "" else None
