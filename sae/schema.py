"""Write the JSON schema of the study config: `python -m sae.schema [path]`.

The schema documents config.yaml for editors and readers; a test fails when the
committed copy differs from what the pydantic models generate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sae.config import StudyConfig

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.json"


def schema_text() -> str:
    return json.dumps(StudyConfig.model_json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH
    target.write_text(schema_text())
    print(f"wrote {target}")
