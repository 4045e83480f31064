"""Write what is derived from the config models and the registries: `python -m sae.schema`.

The JSON schema of the study config documents config.yaml for editors, and `docs/config_reference.md` lists every
config field and what the architecture, diagnostic and figure registries hold; tests fail when the committed copies
differ from what the code generates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sae.architectures import ARCHITECTURES
from sae.config import StudyConfig
from sae.figures import FIGURES
from sae.metrics import METRICS

REPO = Path(__file__).resolve().parent.parent
SCHEMA_PATH = REPO / "workflow" / "schemas" / "config.schema.json"
REFERENCE_PATH = REPO / "docs" / "config_reference.md"
# A default longer than this is a nested section's: its own table shows it field by field.
_LONGEST_DEFAULT = 60


def schema_text() -> str:
    return json.dumps(StudyConfig.model_json_schema(), indent=2, sort_keys=True) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _options(model: type) -> str:
    return ", ".join(f"`{name}` ({_cell(info.description).rstrip('.')}; default {info.default!r})"
                     for name, info in model.model_fields.items() if name != "enabled") or "–"


def registry_tables() -> dict[str, str]:
    """Registry name -> its markdown table."""
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


def _type(prop: dict[str, Any]) -> str:
    """A JSON-schema property's type in words; a nested section links to its table."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    for key in ("anyOf", "oneOf"):
        if key in prop:
            return " or ".join(_type(p) for p in prop[key])
    if "enum" in prop:
        return " or ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop['items'])}" if "items" in prop else "list"
    if kind == "object":
        values = [*prop.get("patternProperties", {}).values(), prop.get("additionalProperties")]
        return next((f"map of name to {_type(v)}" for v in values if isinstance(v, dict)), "map")
    return str(kind)


def _default(name: str, prop: dict[str, Any], required: list[str]) -> str:
    if name in required:
        return "required"
    if "default" not in prop:
        return "(computed)"
    text = json.dumps(prop["default"])
    return "(see its table)" if len(text) > _LONGEST_DEFAULT else f"`{_cell(text)}`"


def _section(title: str, model: dict[str, Any]) -> list[str]:
    lines = [f"### {title}", ""]
    if model.get("description"):
        lines += [model["description"], ""]
    lines += ["| field | type | default | description |", "|---|---|---|---|"]
    required = model.get("required", [])
    lines += [f"| `{name}` | {_cell(_type(prop))} | {_default(name, prop, required)} | "
              f"{_cell(prop.get('description', ''))} |" for name, prop in model.get("properties", {}).items()]
    return [*lines, ""]


def _refs(value: Any) -> list[str]:
    """The section names a schema fragment refers to, in order of appearance."""
    if isinstance(value, dict):
        own = [value["$ref"].rsplit("/", 1)[-1]] if "$ref" in value else []
        return own + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def config_sections() -> str:
    """Every section of the study config, from the top (`StudyConfig`) down, each once, as markdown tables."""
    schema = StudyConfig.model_json_schema()
    defs = schema["$defs"]
    order, queue = [], _refs(schema["properties"])
    while queue:
        name = queue.pop(0)
        if name not in order:
            order.append(name)
            queue += _refs(defs[name].get("properties", {}))
    lines = _section("StudyConfig (the file itself)", schema)
    for name in order:
        lines += _section(name, defs[name])
    return "\n".join(lines)


def reference_text() -> str:
    tables = registry_tables()
    return "\n".join([
        "# Config reference",
        "",
        "<!-- generated by `python -m sae.schema` from the pydantic models in sae/config/ and the registries; "
        "do not edit -->",
        "",
        "Every field of a study config, generated from the pydantic models that validate it (`sae/config/`). "
        "How to put a study together: [Declaring a study](study.md). The same fields as a JSON schema: "
        "[`workflow/schemas/config.schema.json`](../workflow/schemas/config.schema.json).",
        "",
        "## Architectures",
        "",
        "Registered in `sae/architectures/`; each one's options go under `architectures.<name>` (fixed for the "
        "experiment) or `grid.sweep.<name>` (an axis).",
        "",
        tables["architectures"],
        "## Diagnostics",
        "",
        "Registered in `sae/metrics/`; each is a section `metrics.<name>` with `enabled`.",
        "",
        tables["metrics"],
        "## Figures",
        "",
        "Registered in `sae/figures/`; drawn into `<results>/<experiment>/figures/` for every experiment whose "
        "sources they apply to.",
        "",
        tables["figures"],
        "## Fields",
        "",
        config_sections(),
    ])


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text())
    REFERENCE_PATH.parent.mkdir(exist_ok=True)
    REFERENCE_PATH.write_text(reference_text())
    print(f"wrote {SCHEMA_PATH} and {REFERENCE_PATH}")
