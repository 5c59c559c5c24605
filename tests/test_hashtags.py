"""Hashtag programs: the Hashtags tool's rules, and tagged edits counted on the real local
wikis, checked against the wikis' own revision and comment tables."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.hashtags import hashtags_in, is_hashtag, parse_hashtags, tag_key
from harness import Farm, program_page

FULLWIDTH = "\uff03\uff37\uff2c\uff25\uff12\uff10\uff12\uff14"  # the sign, "WLE2024" full-width


@pytest.mark.parametrize(
    ("summary", "found"),
    [
        ("#1Lib1Ref adding a citation", {"1lib1ref"}),
        ("adding a citation #1Lib1Ref", {"1lib1ref"}),
        ("fix (#1Lib1Ref)", set()),
        ("add ref,#1lib1ref", set()),
        ("see [[Foo#Bar]]", set()),
        ("#wiki-loves-earth", {"wiki"}),
        ("#2024 #a #redirect #If", set()),
        ("#a#b", set()),  # "a" is one character; "#b" does not follow white space
        ("colour #ff0000", {"ff0000"}),
        ("#café\u0301x", {"cafe"}),
        (FULLWIDTH, {"wle2024"}),
        ("#temporary_batch_1234567890123", set()),
    ],
)
def test_hashtags_as_the_hashtags_tool_finds_them(summary: str, found: set[str]) -> None:
    assert hashtags_in(summary) == found


def test_tags_match_whatever_their_case_and_width() -> None:
    assert tag_key("1Lib1Ref") == tag_key("1LIB1REF") == tag_key("1lib1ref")
    assert tag_key(FULLWIDTH[1:]) == tag_key("WLE2024")
    assert tag_key("Café") == tag_key("cafe")
    assert not is_hashtag("two words") and not is_hashtag("123") and is_hashtag("x1")


def test_the_hashtags_organizers_write() -> None:
    tags, bad = parse_hashtags("#1Lib1Ref, WLE2024,  , two words, [[x]], #123, #1lib1ref")
    assert tags == ("1Lib1Ref", "WLE2024")
    assert bad == ("two words", "[[x]]", "#123")


# -- on the local wikis ----------------------------------------------------------------------

pywikibot = pytest.importorskip("pywikibot")

from bot.core.settings import BotConfig, WikiSettings  # noqa: E402
from bot.jobs.refresh import Refresher, RefreshResult  # noqa: E402
from bot.store import Store  # noqa: E402

TITLE = "Project:Hashtag program"
TAG = re.compile(r"(?:^|\s)#(1lib1ref|wle2024)(?!\w)", re.IGNORECASE)


def _program(farm: Farm, rows: list[str], *, days_before: int = 1) -> str:
    return program_page(
        rows,
        [farm.content.host, farm.media.host],
        start=datetime.now(UTC).date() - timedelta(days=days_before),
        name="Hashtags",
        organizer="Admin",
        hashtags="#1Lib1Ref, WLE2024, not a tag",
    )


def _tagged_from_tables(farm: Farm, listed: set[str]) -> dict[str, dict[str, int]]:
    """Per person not listed: edits, articles created and bytes added by their tagged
    edits on both wikis, straight from the revision, comment and page tables."""
    figures: dict[str, dict[str, int]] = {}
    for wiki in farm.wikis:
        # MediaWiki 1.39 keeps a revision's summary in revision_comment_temp; later
        # releases in revision.rev_comment_id.
        temp = wiki.sql("SELECT 1 FROM sqlite_master WHERE name = 'revision_comment_temp'")
        comment = (
            "JOIN revision_comment_temp t ON t.revcomment_rev = r.rev_id"
            " JOIN comment c ON c.comment_id = t.revcomment_comment_id"
            if temp
            else "JOIN comment c ON c.comment_id = r.rev_comment_id"
        )
        rows = wiki.sql(
            "SELECT a.actor_name, c.comment_text, p.page_namespace, p.page_is_redirect,"
            " r.rev_parent_id, r.rev_len - COALESCE(parent.rev_len, 0), ug.ug_group"
            " FROM revision r JOIN actor a ON a.actor_id = r.rev_actor "
            + comment
            + " JOIN page p ON p.page_id = r.rev_page"
            " LEFT JOIN revision parent ON parent.rev_id = r.rev_parent_id"
            " LEFT JOIN user u ON u.user_name = a.actor_name"
            " LEFT JOIN user_groups ug ON ug.ug_user = u.user_id AND ug.ug_group = 'bot'"
        )
        for name, summary, ns, redirect, parent, diff, bot in rows:
            if name in listed or bot or not TAG.search(summary):
                continue
            mine = figures.setdefault(name, {"edits": 0, "articles_created": 0, "bytes": 0})
            mine["edits"] += 1
            if ns == 0:
                mine["bytes"] += max(diff, 0)
                if parent == 0 and not redirect:
                    mine["articles_created"] += 1
    return figures


@pytest.fixture
def refresh(tmp_path: Path, wikis: Farm) -> Callable[..., RefreshResult]:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    site = pywikibot.Site(wikis.content.name, wikis.content.name)

    def run(config: BotConfig | None = None, **options: Any) -> RefreshResult:
        refresher = Refresher(store, config=config or BotConfig())
        return refresher.refresh(pywikibot.Page(site, TITLE), **options)

    return run


@pytest.mark.wiki
def test_tagged_edits_count_whoever_made_them(
    wikis: Farm, participant: Callable[..., Any], refresh: Callable[..., RefreshResult]
) -> None:
    participant("Alice").edit("Alice page", "Alice's edit, untagged.", "plain summary")
    participant("Bob").edit("Tagged article", "Made with a tag.", "new article #1Lib1Ref")
    participant("Bob").edit("Bob untagged", "Not tagged.", "nothing here")
    participant("Carol").edit("Tagged article", "Made with a tag, and more.", "#1LIB1REF fix")
    participant("Carol").edit("Carol other", "Punctuation is no tag.", "fix (#1Lib1Ref)")
    participant("Dave", wiki=wikis.media).edit("Media tagged", "On the media wiki.", "#WLE2024")
    admin = participant("Admin")
    admin.edit(TITLE, _program(wikis, ["Alice"]), "program")

    result = refresh()

    expected = _tagged_from_tables(wikis, {"Alice", "Admin"})
    assert set(expected) == {"Bob", "Carol", "Dave"}
    assert result.outcomes is not None
    assert sorted(result.outcomes.participants) == ["Alice", "Bob", "Carol", "Dave"]
    for name, figures in expected.items():
        counts = result.outcomes.per_user[name]
        assert (counts.edits, counts.articles_created, counts.bytes_added) == (
            figures["edits"],
            figures["articles_created"],
            figures["bytes"],
        ), name
    assert result.outcomes.per_user["Alice"].edits == 1  # a listed participant: every edit
    text = admin.get_text(TITLE)
    assert text is not None
    for name in ("Bob", "Carol", "Dave"):
        assert f"{{{{Program source participant|source=hashtag|username={name}|" in text
    keys = [(n.key, n.params) for n in result.notices]
    assert ("bad-hashtag", ("not a tag",)) in keys
    assert not any(key == "hashtag-complete-from" for key, _ in keys)
    # A second full recount finds the same.
    again = refresh()
    assert again.outcomes is not None and again.outcomes.per_user == result.outcomes.per_user


@pytest.mark.wiki
def test_the_page_says_from_when_the_count_is_complete(
    wikis: Farm, participant: Callable[..., Any], refresh: Callable[..., RefreshResult]
) -> None:
    participant("Bob").edit("Tagged article", "Made with a tag.", "#1Lib1Ref")
    participant("Admin").edit(TITLE, _program(wikis, [], days_before=10), "program")
    config = BotConfig({wikis.content.host: WikiSettings(recent_changes_days=3)})

    result = refresh(config)

    found = [n.params for n in result.notices if n.key == "hashtag-complete-from"]
    # The media wiki keeps 90 days of recent changes (the default): complete there.
    assert [wiki for _, wiki in found] == [wikis.content.host]
    complete = datetime.fromisoformat(found[0][0].replace("Z", "+00:00"))
    assert abs(complete - (datetime.now(UTC) - timedelta(days=3))) < timedelta(minutes=5)
    assert result.outcomes is not None and result.outcomes.per_user["Bob"].edits == 1


@pytest.mark.wiki
def test_later_counts_read_only_new_changes_and_keep_what_the_wiki_no_longer_lists(
    wikis: Farm, participant: Callable[..., Any], refresh: Callable[..., RefreshResult]
) -> None:
    import sqlite3

    bob = participant("Bob").edit("Tagged early", "Made with a tag.", "#1Lib1Ref early")
    participant("Admin").edit(TITLE, _program(wikis, ["Alice"]), "program")
    first = refresh()
    assert first.outcomes is not None and first.outcomes.per_user["Bob"].edits == 1
    # The wiki forgets Bob's edit in its recent changes (as $wgRCMaxAge makes it do).
    with sqlite3.connect(wikis.content.db_path) as conn:
        conn.execute("DELETE FROM recentchanges WHERE rc_this_oldid = ?", (bob,))
    participant("Dave").edit("Tagged later", "Made later with a tag.", "later #1lib1ref")
    asked: list[str] = []

    def spy(response: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(str(response.request.url) + str(response.request.body or ""))
        return response

    from pywikibot.comms import http

    http.session.hooks["response"].append(spy)
    try:
        second = refresh()
    finally:
        http.session.hooks["response"].remove(spy)

    assert second.outcomes is not None
    expected = _tagged_from_tables(wikis, {"Alice", "Admin"})
    assert set(expected) == {"Bob", "Dave"}
    for name, figures in expected.items():
        counts = second.outcomes.per_user[name]
        assert (counts.edits, counts.articles_created, counts.bytes_added) == (
            figures["edits"],
            figures["articles_created"],
            figures["bytes"],
        ), name
    scans = [url for url in asked if "rcshow=%21bot" in url or "rcshow=!bot" in url]
    assert scans and all("rcstart" in url for url in scans)
    window_start = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT00")
    assert not any(window_start in url for url in scans)  # not from the window's start
