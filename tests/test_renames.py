"""Renamed accounts on the real local wikis: a listed participant renamed during or after
the program keeps being counted under the new name, checked against the wiki's tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness import Farm, program_page
from harness.dbcount import DB_FIGURES, db_counts

pytestmark = pytest.mark.wiki

pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page  # noqa: E402
from bot.jobs.refresh import Refresher, RefreshResult  # noqa: E402
from bot.store import Store  # noqa: E402

TITLE = "Project:Renamed program"


def _program(farm: Farm, users: list[str]) -> str:
    hosts = [farm.content.host, farm.media.host]
    return program_page(users, hosts, name="Renames", organizer="Admin")


def _window() -> tuple[datetime, datetime]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=1), today + timedelta(days=2) - timedelta(seconds=1)


@pytest.fixture
def refresh(tmp_path: Path, wikis: Farm) -> Callable[..., RefreshResult]:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    site = pywikibot.Site(wikis.content.name, wikis.content.name)

    def run(**options: Any) -> RefreshResult:
        return Refresher(store).refresh(pywikibot.Page(site, TITLE), **options)

    return run


def _rows(text: str) -> dict[str, dict[str, str]]:
    return {row.username: dict(row.stats) for row in parse_program_page(text).rows}


def _expected(wikis: Farm, actor: str) -> dict[str, str]:
    counts = db_counts(wikis.content, [actor], *_window())
    return {name: str(getattr(counts, name)) for name in DB_FIGURES if name != "mainspace_edits"}


def test_a_chain_of_renames_is_followed_and_the_row_stays_the_organizers(
    wikis: Farm, participant: Callable[..., Any], refresh: Callable[..., RefreshResult]
) -> None:
    wiki = wikis.content
    wiki.create_users(["Ren first", "Ren stays"])
    first = participant("Ren first", password=wiki.users["Ren first"])
    first.edit("Renamed article one", "Made before any rename.", "new")
    first.edit("Renamed article two", "Second article, more text.", "new")
    participant("Ren stays", password=wiki.users["Ren stays"]).edit("Unrenamed", "Text.", "x")
    admin = participant("Admin")
    admin.edit(TITLE, _program(wikis, ["Ren first", "Ren stays"]), "program")
    refresh()
    wiki.rename_user("Ren first", "Ren second")
    wiki.rename_user("Ren second", "Ren third")
    # The renamed account edits on under its newest name.
    again = wiki.client("Ren third", wiki.users["Ren first"])
    again.edit("Renamed article one", "Made before any rename, edited after.", "more")

    result = refresh()

    text = admin.get_text(TITLE)
    assert text is not None
    rows = _rows(text)
    assert list(rows) == ["Ren first", "Ren stays"]  # the organizer's names, unchanged
    expected = _expected(wikis, "Ren third")
    assert {k: rows["Ren first"][k] for k in expected} == expected
    assert expected["edits"] == "3" and expected["articles_created"] == "2"
    stays = _expected(wikis, "Ren stays")
    assert {k: rows["Ren stays"][k] for k in stays} == stays
    keys = [(n.key, n.params) for n in result.notices]
    assert ("renamed-user", ("Ren first", "Ren third")) in keys
    assert not any(key == "unknown-user" for key, _ in keys)
    assert "Ren third" in text and "renamed to" in text
    # Only what the bot owns changed: the row still names the organizer's name.
    assert "{{Participant table row|username=Ren first|joined=2026-11-01|" in text


def test_a_rename_is_looked_up_once_and_incremental_refreshes_follow_it(
    wikis: Farm, participant: Callable[..., Any], refresh: Callable[..., RefreshResult]
) -> None:
    wiki = wikis.content
    wiki.create_users(["Ren old"])
    participant("Ren old", password=wiki.users["Ren old"]).edit("Ren page", "Text.", "new")
    admin = participant("Admin")
    admin.edit(TITLE, _program(wikis, ["Ren old"]), "program")
    wiki.rename_user("Ren old", "Ren new")
    logged: list[str] = []

    def spy(response: Any, *args: Any, **kwargs: Any) -> Any:
        logged.append(str(response.request.url) + str(response.request.body or ""))
        return response

    from pywikibot.comms import http

    http.session.hooks["response"].append(spy)
    try:
        first = refresh()
        looked_up = [url for url in logged if "renameuser" in url]
        del logged[:]
        refresh()  # a full recount: the rename is remembered, not looked up again
    finally:
        http.session.hooks["response"].remove(spy)
    assert ("renamed-user", ("Ren old", "Ren new")) in [(n.key, n.params) for n in first.notices]
    # "Ren old" -> "Ren new" and "Ren new" renamed no further on the content wiki; "Ren old"
    # has no account on the media wiki: looked up there once as well.
    assert len(looked_up) == 3
    assert logged and not [url for url in logged if "renameuser" in url]

    new = wiki.client("Ren new", wiki.users["Ren old"])
    new.edit("Ren page two", "Another article by the renamed account.", "new")
    incremental = refresh(full=False)
    full = refresh()
    assert incremental.outcomes is not None and full.outcomes is not None
    assert incremental.outcomes.per_user == full.outcomes.per_user
    text = admin.get_text(TITLE)
    assert text is not None
    expected = _expected(wikis, "Ren new")
    assert {k: _rows(text)["Ren old"][k] for k in expected} == expected
    assert expected["articles_created"] == "2"


def test_a_rename_back_counts_the_name_itself_without_a_notice(
    wikis: Farm, participant: Callable[..., Any], refresh: Callable[..., RefreshResult]
) -> None:
    wiki = wikis.content
    wiki.create_users(["Ren back"])
    participant("Ren back", password=wiki.users["Ren back"]).edit("Back page", "Text.", "new")
    admin = participant("Admin")
    admin.edit(TITLE, _program(wikis, ["Ren back", "Never existed here"]), "program")
    wiki.rename_user("Ren back", "Ren away")
    assert [(n.key, n.params) for n in refresh().notices if n.key == "renamed-user"] == [
        ("renamed-user", ("Ren back", "Ren away"))
    ]
    wiki.rename_user("Ren away", "Ren back")

    result = refresh()

    keys = [(n.key, n.params) for n in result.notices]
    assert not any(key == "renamed-user" for key, _ in keys)
    assert ("unknown-user", ("Never existed here",)) in keys
    text = admin.get_text(TITLE)
    assert text is not None
    expected = _expected(wikis, "Ren back")
    assert {k: _rows(text)["Ren back"][k] for k in expected} == expected
    assert expected["edits"] == "1"
