"""Goals: what organizers write, and the progress the page shows, checked against the
wiki's own tables on the real local wiki."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.goals import parse_goals
from harness import Farm


def test_goals_as_organizers_write_them() -> None:
    goals, bad = parse_goals(
        "articles created: 20, Participants=15; bytes_added: 10,000, edits: 0, articles: many,"
        " pageviews: 1.000.000, edits: 300"
    )
    assert goals == (
        ("articles_created", 20),
        ("participants", 15),
        ("bytes_added", 10000),
        ("pageviews", 1000000),
        ("edits", 300),
    )
    assert bad == ("edits: 0", "articles: many")


def test_no_goals() -> None:
    assert parse_goals("") == ((), ())
    assert parse_goals("  ,  ") == ((), ())


pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page  # noqa: E402
from bot.jobs.refresh import Refresher  # noqa: E402
from bot.store import Store  # noqa: E402
from harness.dbcount import db_counts  # noqa: E402

TITLE = "Project:Goal program"


@pytest.mark.wiki
def test_the_page_shows_how_far_each_goal_is(
    wikis: Farm, participant: Callable[..., Any], tmp_path: Path
) -> None:
    participant("Alice").edit("Goal one", "First article.", "new")
    participant("Bob").edit("Goal two", "Second article.", "new")
    participant("Bob").edit("Goal two", "Second article, longer.", "x")
    today = datetime.now(UTC).date()
    admin = participant("Admin")
    admin.edit(
        TITLE,
        "{{Program details\n|name=Goals\n|organizer=Admin\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={wikis.content.host}\n"
        "|goals=articles_created: 4, edits: 3, participants: 5, pageviews: 100, words: 7\n}}\n"
        "{{Participants table}}\n"
        "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{Participant table row|username=Bob|joined=2026-11-01}}\n"
        "{{End of participants table}}\n",
        "program",
    )
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    result = Refresher(Store(f"sqlite:///{tmp_path / 's.sqlite'}")).refresh(
        pywikibot.Page(site, TITLE)
    )

    text = admin.get_text(TITLE) or ""
    start = datetime.combine(today - timedelta(days=1), datetime.min.time(), UTC)
    end = datetime.combine(today + timedelta(days=1), datetime.max.time(), UTC)
    counts = db_counts(wikis.content, ["Alice", "Bob"], start, end)
    assert (counts.articles_created, counts.edits) == (2, 3)
    assert (
        f"{{{{Program goal|goal=articles_created|target=4|reached={counts.articles_created}}}}}"
        in text
    )
    assert f"{{{{Program goal|goal=edits|target=3|reached={counts.edits}}}}}" in text
    assert "{{Program goal|goal=participants|target=5|reached=2}}" in text
    # No pageview service on a local wiki: the goal is shown, its figure not known yet.
    assert "{{Program goal|goal=pageviews|target=100}}" in text
    assert ("bad-goal", ("words: 7",)) in [(n.key, n.params) for n in result.notices]
    assert parse_program_page(text).details.goals[0] == ("articles_created", 4)
