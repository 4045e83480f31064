"""Write what is derived from the registries: `python -m sae.schema`.

The JSON schema of the study config documents config.yaml for editors and readers,
and the README's architecture and diagnostics tables list what the registries hold;
tests fail when the committed copies differ from what the code generates.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sae.architectures import ARCHITECTURES
from sae.config import StudyConfig
from sae.figures import FIGURES
from sae.metrics import METRICS

REPO = Path(__file__).resolve().parent.parent
SCHEMA_PATH = REPO / "workflow" / "schemas" / "config.schema.json"
README_PATH = REPO / "README.md"
_BLOCK = re.compile(r"(<!-- registry:(\w+) -->\n)(.*?)(<!-- /registry:\2 -->)", re.S)


def schema_text() -> str:
    return json.dumps(StudyConfig.model_json_schema(), indent=2, sort_keys=True) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _options(model: type) -> str:
    return ", ".join(f"`{name}` ({_cell(info.description).rstrip('.')}; default {info.default!r})"
                     for name, info in model.model_fields.items() if name != "enabled") or "–"


def registry_tables() -> dict[str, str]:
    """README block name -> its markdown table."""
    arch = ["| architecture | `l0` is | options (`architectures.<name>`, or swept in `grid.sweep.<name>`) | fused |",
            "|---|---|---|---|"]
    arch += [f"| `{n}` | {s.l0_meaning if s.takes_l0 else '(no `l0`: ' + s.l0_meaning + ')'} | {_options(s.options)} "
             f"| {'yes' if s.fusable else 'no'} |" for n, s in ARCHITECTURES.items()]
    metric = ["| diagnostic (`metrics.<name>`) | scope | sources | what | options |", "|---|---|---|---|---|"]
    metric += [f"| `{n}` | {s.scope} | {s.applies_to} | {_cell(s.description)} | {_options(s.config)} |"
               for n, s in METRICS.items()]
    figure = ["| figure (`figures/<name>.png`) | sources | reads |", "|---|---|---|"]
    figure += [f"| `{n}` | {s.applies_to} | {', '.join(s.inputs)}"
               f"{' of every experiment it applies to (study figure, `<results>/figures/`)' if s.scope == 'study' else ''} |"
               for n, s in FIGURES.items()]
    return {"architectures": "\n".join(arch) + "\n", "metrics": "\n".join(metric) + "\n",
            "figures": "\n".join(figure) + "\n"}


def readme_text(readme: str) -> str:
    tables = registry_tables()
    return _BLOCK.sub(lambda m: m.group(1) + tables[m.group(2)] + m.group(4), readme)


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text())
    README_PATH.write_text(readme_text(README_PATH.read_text()))
    print(f"wrote {SCHEMA_PATH} and the registry tables of {README_PATH}")
