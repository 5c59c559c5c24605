"""The README and the docs as a reader meets them: tables whole, links that lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _prose(page: Path) -> str:
    """The page without its code blocks (their pipes and brackets are not Markdown)."""
    return _FENCE.sub("", page.read_text(encoding="utf-8"))


def _cells(row: str) -> int:
    """The cells of a table row; a pipe inside inline code or escaped is not a border."""
    row = re.sub(r"`[^`]*`", "code", row.replace("\\|", ""))
    return row.strip().strip("|").count("|") + 1


def _anchor(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_table_row_has_its_headers_cells(page: Path) -> None:
    """A row with more cells than its header loses them when rendered."""
    lines = _prose(page).splitlines()
    for n, line in enumerate(lines):
        if line.startswith("|") and (n == 0 or not lines[n - 1].startswith("|")):
            width = _cells(line)
            for row in lines[n + 1 :]:
                if not row.startswith("|"):
                    break
                assert _cells(row) == width, f"{page.name}: {row[:80]!r} under {line[:60]!r}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_within_the_project_leads_somewhere(page: Path) -> None:
    for target in _LINK.findall(_prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # another site
        path, _, anchor = target.partition("#")
        found = (page.parent / path).resolve() if path else page
        assert found.exists(), f"{page.name}: {target} names no file"
        if anchor and found.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", _prose(found), re.M)
            assert anchor in {_anchor(h) for h in headings}, f"{page.name}: {target}: no heading"
