"""File usage: main-namespace pages on a listed wiki that use files uploaded to another."""

from __future__ import annotations

from typing import Any

import pytest

from harness import Farm, tiny_png

pywikibot = pytest.importorskip("pywikibot")

from bot.core.extras import count_file_usage, usage_pairs  # noqa: E402
from bot.wiki.fetch import fetch_file_usage  # noqa: E402


def test_distinct_pages_per_wiki_are_counted_once() -> None:
    usage = {
        "a.example.org": {"File:A.png": {"Page 1", "Page 2"}, "File:B.png": {"Page 2"}},
        "b.example.org": {"File:A.png": {"Page 1"}, "File:C.png": set()},
    }
    assert usage_pairs(usage) == {
        ("a.example.org", "Page 1"),
        ("a.example.org", "Page 2"),
        ("b.example.org", "Page 1"),
    }
    assert count_file_usage(usage) == 3
    assert count_file_usage({}) == 0


@pytest.mark.wiki
def test_usage_of_files_uploaded_to_the_media_wiki(wikis: Farm) -> None:
    media, content = wikis.media, wikis.content
    media.client("Alice").upload("Usage one.png", tiny_png(101))
    media.client("Bob").upload("Usage two.png", tiny_png(102))
    media.client("Bob").upload("Unused three.png", tiny_png(103))
    writer = content.client("Carol")
    writer.edit("Article one", "Text [[File:Usage one.png|thumb|One]] and [[File:Usage_two.png]].")
    writer.edit("Article two", "[[File:usage one.png]]")
    writer.edit("Talk:Article one", "Look: [[File:Usage one.png]]")  # not main namespace
    writer.edit("User:Carol/Draft", "[[File:Usage two.png]]")  # not main namespace
    content.run_jobs()

    files = ["File:Usage one.png", "File:Usage_two.png", "File:Unused three.png"]
    site: Any = pywikibot.Site(content.name, content.name)
    usage = fetch_file_usage(site, files)
    assert usage == {
        "File:Usage one.png": {"Article one", "Article two"},
        "File:Usage_two.png": {"Article one"},
        "File:Unused three.png": set(),
    }
    assert count_file_usage({content.host: usage}) == 2

    # The same, straight from the content wiki's imagelinks table.
    rows = content.sql(
        "SELECT DISTINCT page_title FROM imagelinks JOIN page ON page_id = il_from "
        "WHERE il_to IN (?, ?, ?) AND page_namespace = 0",
        ["Usage_one.png", "Usage_two.png", "Unused_three.png"],
    )
    assert {title.replace("_", " ") for (title,) in rows} == {"Article one", "Article two"}
    ((all_uses,),) = content.sql(
        "SELECT COUNT(DISTINCT il_from) FROM imagelinks WHERE il_to IN (?, ?)",
        ["Usage_one.png", "Usage_two.png"],
    )
    assert all_uses == 4  # the talk page and the user page use them too, and do not count
