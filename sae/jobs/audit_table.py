"""An audit's table, audit.csv: every audited SAE's measured L0, its ladder's recommendation and its verdict."""

from __future__ import annotations

from pathlib import Path

from sae import sweep
from sae.audit.verdict import audit_rows
from sae.io import read_json


def audit_table(sweep_csv: Path, recommendation_json: Path, out_csv: Path) -> list[dict]:
    rows = audit_rows(sweep.read_csv(sweep_csv), read_json(recommendation_json))
    sweep.write_csv(rows, out_csv)
    return rows
