"""The change feed: a wiki's recent changes go straight into the figures of every running
program they concern, in requests that do not grow with the number of programs."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from harness import Farm, program_page, tiny_png

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page  # noqa: E402
from bot.jobs.count import ProgramCounter  # noqa: E402
from bot.jobs.scheduler import Scheduler  # noqa: E402
from bot.store import Store  # noqa: E402


def program(farm: Farm, users: list[str], **details: str) -> str:
    return program_page(users, [farm.content.host, farm.media.host], **details)


class Modules:
    """The API modules of the requests Pywikibot makes while the block runs."""

    def __init__(self) -> None:
        self.asked: Counter[str] = Counter()

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        params = dict(parse_qsl(urlsplit(response.request.url).query))
        body = response.request.body
        if isinstance(body, bytes):
            body = body.decode()
        if isinstance(body, str):
            params.update(parse_qsl(body))
        module = params.get("list") or params.get("prop") or params.get("action", "?")
        self.asked[f"{urlsplit(response.request.url).netloc} {module}"] += 1
        return response

    def __enter__(self) -> Modules:
        from pywikibot.comms import http

        http.session.hooks["response"].append(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        from pywikibot.comms import http

        http.session.hooks["response"].remove(self._hook)


def live(store: Store, farm: Farm, title: str) -> dict[str, Any]:
    entry = store.schedule_entry(farm.content.host, title)
    assert entry is not None and entry.live_report
    report: dict[str, Any] = json.loads(entry.live_report)
    return report


def full_count(farm: Farm, title: str, store: Store) -> Any:
    """A full recount from what ``store`` remembers (which keeps deleted pages' revisions),
    not remembered afterwards."""
    site = pywikibot.Site(farm.content.name, farm.content.name)
    page = pywikibot.Page(site, title)
    counter = ProgramCounter(store)
    return counter.count(parse_program_page(page.get()), f"{farm.content.host}#{page.pageid}")


def test_changes_go_into_every_concerned_program_without_a_refresh(
    wikis: Farm, tmp_path: Path
) -> None:
    admin = wikis.content.admin_client()
    alice, bob = wikis.content.client("Alice"), wikis.content.client("Bob")
    alice.edit("Feed first", "One.")
    bob.edit("Feed doomed", "Bob's, soon deleted.")
    titles = [f"Content Wiki:Feed program {n}" for n in range(4)]
    admin.edit(titles[0], program(wikis, ["Alice", "Bob"]))
    admin.edit(titles[1], program(wikis, ["Bob", "Carol"]))
    admin.edit(titles[2], program(wikis, ["Alice"]))
    admin.edit(titles[3], program(wikis, ["Alice"], categories="Feed scope"))
    store = Store(f"sqlite:///{tmp_path / 'feed.sqlite'}")
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    scheduler = Scheduler(store, site, worker_id="feed")
    scheduler.discover()
    assert scheduler.cycle().edited == 4

    alice.append("Feed first", " Two.")
    alice.edit("Feed second", "New article by Alice.")
    bob.edit("Feed new", "New article by Bob.")
    wikis.media.client("Bob").upload("Feed-1.png", tiny_png(41))
    admin.delete("Feed doomed")
    with Modules() as modules:
        cycle = scheduler.cycle()
    # Three unscoped programs followed the changes; the scoped one was refreshed.
    assert cycle.refreshed == 1 and cycle.edited == 0, cycle
    contributions = {k: n for k, n in modules.asked.items() if "usercontribs" in k}
    assert sum(contributions.values()) == 2, modules.asked  # the scoped program, per wiki
    for host in (wikis.content.host, wikis.media.host):
        # One read of the changes for the feed (the scoped program's refresh reads them
        # in its contributions request).
        assert modules.asked[f"{host} recentchanges"] == 1, modules.asked

    for title in titles[:3]:
        counted = full_count(wikis, title, store).outcomes
        report = live(store, wikis, title)
        for user in counted.participants:
            figures = counted.per_user[user]
            assert report["per_participant"][user]["edits"] == figures.edits, (title, user)
            assert report["per_participant"][user]["articles_created"] == figures.articles_created
            assert report["per_participant"][user]["uploads"] == figures.uploads
    # Independently, from the wiki's tables: Alice's edits in the window.
    from harness.dbcount import db_counts

    now = datetime.now(UTC)
    alice_db = db_counts(wikis.content, ["Alice"], now - timedelta(days=2), now + timedelta(days=2))
    assert live(store, wikis, titles[2])["per_participant"]["Alice"]["edits"] == alice_db.edits == 3
    bob_report = live(store, wikis, titles[1])["per_participant"]["Bob"]
    assert bob_report["uploads"] == 1
    # Bob's deleted article keeps counting, flagged (the definition of a full count).
    assert bob_report["articles_created"] == 2


def test_the_requests_of_a_cycle_do_not_grow_with_the_programs(wikis: Farm, tmp_path: Path) -> None:
    admin = wikis.content.admin_client()
    store = Store(f"sqlite:///{tmp_path / 'grow.sqlite'}")
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    scheduler = Scheduler(store, site, worker_id="grow")
    asked: list[int] = []
    made = 0
    for programs in (2, 12):
        while made < programs:
            admin.edit(f"Content Wiki:Grow program {made}", program(wikis, ["Alice", "Dave"]))
            made += 1
        scheduler.discover()
        scheduler.cycle()  # counts the new ones
        wikis.content.client("Alice").edit(f"Grow article {programs}", "An edit for them all.")
        with Modules() as modules:
            result = scheduler.cycle()
        assert result.refreshed == 0 and result.active == programs
        asked.append(sum(modules.asked.values()))
        for user_programs in range(programs):
            report = live(store, wikis, f"Content Wiki:Grow program {user_programs}")
            assert report["per_participant"]["Alice"]["articles_created"] == len(asked)
    assert asked[0] == asked[1], asked
