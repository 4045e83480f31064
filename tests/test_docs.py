"""The README and docs/ point only at what exists: every relative link and every `configs/*.yaml` they name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CONFIG = re.compile(r"(?<![\w/.])((?:benchmarks/|tests/configs/|configs/)[\w./-]*\.yaml)")


def relative_links(text: str) -> list[str]:
    targets = [t.split("#", 1)[0] for t in LINK.findall(text)]
    return [t for t in targets if t and not re.match(r"^[a-z]+:", t)]


def test_the_finder_sees_links_and_configs():
    text = "see [a](docs/a.md#x), [b](https://x.org), [c](#here) and `configs/paper_scale.yaml`"
    assert relative_links(text) == ["docs/a.md"]
    assert CONFIG.findall(text) == ["configs/paper_scale.yaml"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_and_named_config_exists(page):
    text = page.read_text()
    missing = [t for t in relative_links(text) if not (page.parent / t).exists()]
    missing += [c for c in CONFIG.findall(text) if not (REPO / c).exists()]
    assert not missing, f"{page.relative_to(REPO)} names what does not exist: {missing}"


def test_the_readme_is_short_and_links_every_page():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    index = (REPO / "docs" / "index.md").read_text()
    for page in PAGES[1:]:
        assert page.name == "index.md" or f"({page.name})" in index, f"docs/index.md does not link {page.name}"
