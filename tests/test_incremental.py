"""Incremental refresh: a few requests after a few edits, and the same figures as a full one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness import Farm, tiny_png

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page  # noqa: E402
from bot.jobs.count import ProgramCounter  # noqa: E402
from bot.store import Store  # noqa: E402

TITLE = "Content Wiki:Incremental program"


def program(farm: Farm, users: list[str]) -> str:
    today = datetime.now(UTC).date()
    rows = "".join(f"{{{{Participant table row|username={u}|joined=2026-11-01}}}}\n" for u in users)
    return (
        "{{Program details\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={farm.content.host}, {farm.media.host}\n}}}}\n"
        f"{{{{Participants table}}}}\n{rows}{{{{End of participants table}}}}\n"
    )


def compute(store: Store, site: Any, *, full: bool) -> Any:
    page = pywikibot.Page(site, TITLE)
    text = page.get()
    counter = ProgramCounter(store)
    key = f"{wikis_host(site)}#{page.pageid}"
    computation = counter.count(parse_program_page(text), key, full=full)
    counter.remember(key, computation)
    return computation.outcomes


def wikis_host(site: Any) -> str:
    return str(site.hostname())


def count_requests(action: Any) -> tuple[Any, list[str]]:
    from pywikibot.comms import http

    asked: list[str] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        asked.append(f"{response.request.url} {response.request.body or ''}")

    http.session.hooks["response"].append(hook)
    try:
        return action(), asked
    finally:
        http.session.hooks["response"].remove(hook)


def test_incremental_and_full_refresh_agree(wikis: Farm, tmp_path: Path) -> None:
    alice, bob = wikis.content.client("Alice"), wikis.content.client("Bob")
    alice.edit("First article", "One.")
    wikis.media.client("Alice").upload("Inc-1.png", tiny_png(31))
    wikis.content.admin_client().edit(TITLE, program(wikis, ["Alice", "Bob"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    store = Store(f"sqlite:///{tmp_path / 'inc.sqlite'}")
    first = compute(store, site, full=False)  # nothing remembered yet: a full fetch
    assert first.total.edits == 2  # the article and the file page

    alice.append("First article", " Two.")
    bob.edit("Second article", "Bob's.")
    bob.edit("Second redirect", "#REDIRECT [[Second article]]")
    wikis.media.client("Bob").upload("Inc-2.png", tiny_png(32))
    incremental, asked = count_requests(lambda: compute(store, site, full=False))
    full = compute(Store(f"sqlite:///{tmp_path / 'full.sqlite'}"), site, full=True)
    assert incremental == full
    assert incremental.total.edits == 6 and incremental.total.uploads == 2
    # A handful of requests: per wiki one list=users, one usercontribs, one logevents,
    # and page states only for the new revisions' articles.
    contribs = [a for a in asked if "usercontribs" in a]
    assert len(contribs) == 2
    # The account check of the last refresh still holds: no list=users again.
    assert not [a for a in asked if "list=users" in a or "list%3Dusers" in a]
    assert len(asked) <= 8, asked
    print(f"\nincremental refresh after 4 edits and an upload: {len(asked)} requests")


def test_a_new_participant_makes_the_next_fetch_full(wikis: Farm, tmp_path: Path) -> None:
    wikis.content.client("Carol").edit("Carol's article", "Written before she was listed.")
    wikis.content.client("Alice").edit("Alice's article", "A.")
    admin = wikis.content.admin_client()
    admin.edit(TITLE, program(wikis, ["Alice"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    store = Store(f"sqlite:///{tmp_path / 'inc.sqlite'}")
    compute(store, site, full=False)
    admin.edit(TITLE, program(wikis, ["Alice", "Carol"]))
    outcomes = compute(store, site, full=False)
    assert outcomes.per_user["Carol"].articles_created == 1
    assert outcomes == compute(Store(f"sqlite:///{tmp_path / 'full.sqlite'}"), site, full=True)
