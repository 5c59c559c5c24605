"""An incremental refresh asks the wikis what changed while the program page is parsed
(bot.wiki.fetch.EarlyRead), and counts exactly what it would count asking afterwards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness import Farm, program_page

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

import bot.jobs.count as count_module  # noqa: E402
import bot.jobs.refresh as refresh_module  # noqa: E402
from bot.core.program_page import parse_program_page  # noqa: E402
from bot.jobs.batch import pages_to_refresh, refresh_pages  # noqa: E402
from bot.jobs.count import ProgramCounter  # noqa: E402
from bot.jobs.refresh import Refresher  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.wiki.fetch import EarlyRead  # noqa: E402

TITLE = "Content Wiki:Early read program"


class Asked:
    """The usercontribs requests answered while it is open, in order."""

    def __init__(self) -> None:
        self.contribs: list[str] = []
        self.every: list[str] = []

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> None:
        request = f"{response.request.url} {response.request.body or ''}"
        self.every.append(request)
        if "usercontribs" in request:
            self.contribs.append(request)

    def __enter__(self) -> Asked:
        from pywikibot.comms import http

        http.session.hooks["response"].append(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        from pywikibot.comms import http

        http.session.hooks["response"].remove(self._hook)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.contribs) < count:
            assert time.monotonic() < deadline, f"{len(self.contribs)} of {count} answers"
            time.sleep(0.05)


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """ "early <wiki>" when an early read is sent, "parse" when the page is parsed."""
    happened: list[str] = []

    class Recorded(EarlyRead):
        def __init__(self, site: Any, *args: Any) -> None:
            happened.append(f"early {site.hostname()}")
            super().__init__(site, *args)

    def parse(text: str) -> Any:
        happened.append("parse")
        return parse_program_page(text)

    import bot.core.campaign_page as campaign_page

    def campaign(text: str) -> bool:
        happened.append("parse")
        return original_campaign(text)

    original_campaign = campaign_page.is_campaign_page
    monkeypatch.setattr(count_module, "EarlyRead", Recorded)
    monkeypatch.setattr(refresh_module, "parse_program_page", parse)
    monkeypatch.setattr("bot.jobs.batch.is_campaign_page", campaign)
    yield happened


def first_count(wikis: Farm, store: Store, users: list[str]) -> Any:
    wikis.content.admin_client().edit(
        TITLE, program_page(users, [wikis.content.host, wikis.media.host])
    )
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    Refresher(store).refresh(pywikibot.Page(site, TITLE), full=True)
    return site


def forget_windows(store: Store, key: str) -> None:
    """The program's marks as marks written before their window was kept."""
    for wiki, mark in store.fetch_marks(key).items():
        store.set_fetch_mark(key, wiki, replace(mark, window_start=None, window_end=None))


def full_recount(site: Any, tmp_path: Path) -> Any:
    fresh = Store(f"sqlite:///{tmp_path / 'full.sqlite'}")
    return Refresher(fresh, simulate=True).refresh(pywikibot.Page(site, TITLE), full=True)


def test_the_command_sends_the_first_requests_before_it_parses_and_asks_them_once(
    wikis: Farm, tmp_path: Path, events: list[str]
) -> None:
    alice, bob = wikis.content.client("Alice"), wikis.content.client("Bob")
    alice.edit("Early article", "One.")
    store = Store(f"sqlite:///{tmp_path / 'early.sqlite'}")
    site = first_count(wikis, store, ["Alice", "Bob"])
    alice.append("Early article", " Two.")
    bob.edit("Early second article", "Bob's.")
    wikis.media.client("Bob").edit("Early media page", "On the other wiki.")
    events.clear()

    # As `programs-bot refresh PAGE` runs it (bot.cli._refresh_pages).
    refresher = Refresher(store)
    with Asked() as asked:
        programs, campaigns = pages_to_refresh(site, [TITLE], refresher.read_ahead)
        runs = list(refresh_pages(refresher, programs, campaigns, full=False))
    assert [run.error for run in runs] == [None]
    hosts = {f"early {wikis.content.host}", f"early {wikis.media.host}"}
    assert set(events[:2]) == hosts and events[2] == "parse", events
    # One usercontribs request a wiki: the early ones, used (not asked again).
    assert len(asked.contribs) == 2, asked.contribs
    result = runs[0].result
    assert result is not None and result.outcomes is not None
    assert result.outcomes.total.edits == 4
    assert result.outcomes == full_recount(site, tmp_path).outcomes


def test_an_edit_made_after_the_early_read_is_counted_by_the_next_refresh(
    wikis: Farm, tmp_path: Path
) -> None:
    alice, bob = wikis.content.client("Alice"), wikis.content.client("Bob")
    alice.edit("Gap article", "One.")
    store = Store(f"sqlite:///{tmp_path / 'gap.sqlite'}")
    site = first_count(wikis, store, ["Alice", "Bob"])
    page = pywikibot.Page(site, TITLE)
    key = f"{site.hostname()}#{page.pageid}"
    text = page.get()

    counter = ProgramCounter(store)
    before = datetime.now(UTC)
    with Asked() as asked:
        counter.read_ahead(key)
        asked.wait_for(2)  # both wikis have answered
        sent = datetime.now(UTC)
        time.sleep(1.1)  # the edit's timestamp (whole seconds) is after the answers
        bob.edit("Gap second article", "Made after the wikis answered.")
        computation = counter.count(parse_program_page(text), key, full=False)
    assert len(asked.contribs) == 2  # the answers sent before the edit were used
    assert computation.outcomes is not None
    assert computation.outcomes.per_user["Bob"].edits == 0
    counter.remember(key, computation)
    # The next fetch starts from before the early read, not from the count's end.
    for wiki, mark in computation.marks:
        assert before <= mark.fetched_until <= sent, wiki

    again = ProgramCounter(store).count(parse_program_page(text), key, full=False)
    assert again.outcomes is not None
    assert again.outcomes.per_user["Bob"].edits == 1
    assert again.outcomes == full_recount(site, tmp_path).outcomes


def test_a_page_changed_since_the_mark_asks_again_and_counts_right(
    wikis: Farm, tmp_path: Path, events: list[str]
) -> None:
    wikis.content.client("Alice").edit("Changed article", "A.")
    wikis.content.client("Carol").edit("Carol's changed article", "C.")
    store = Store(f"sqlite:///{tmp_path / 'changed.sqlite'}")
    site = first_count(wikis, store, ["Alice"])
    wikis.content.admin_client().edit(
        TITLE, program_page(["Alice", "Carol"], [wikis.content.host, wikis.media.host])
    )
    events.clear()
    with Asked() as asked:
        result = Refresher(store).refresh(pywikibot.Page(site, TITLE), full=False)
    assert [e for e in events if e.startswith("early")], events  # sent, as the mark said
    # The early answers (Alice alone) are not the question now: each wiki is asked again,
    # in full, for both names.
    assert len(asked.contribs) == 4, asked.contribs
    assert result.outcomes is not None
    assert result.outcomes.per_user["Carol"].edits == 1
    assert result.outcomes == full_recount(site, tmp_path).outcomes


def test_a_mark_without_its_window_sends_nothing_early(
    wikis: Farm, tmp_path: Path, events: list[str]
) -> None:
    wikis.content.client("Alice").edit("Windowless article", "A.")
    store = Store(f"sqlite:///{tmp_path / 'old.sqlite'}")
    site = first_count(wikis, store, ["Alice"])
    key = f"{site.hostname()}#{pywikibot.Page(site, TITLE).pageid}"
    marks = store.fetch_marks(key)
    assert {mark.window is not None for mark in marks.values()} == {True}
    forget_windows(store, key)
    assert {mark.window for mark in store.fetch_marks(key).values()} == {None}
    wikis.content.client("Alice").append("Windowless article", " B.")
    events.clear()
    with Asked() as asked:
        result = Refresher(store).refresh(pywikibot.Page(site, TITLE), full=False)
    assert not [e for e in events if e.startswith("early")], events
    assert len(asked.contribs) == 2  # asked after the parse, once a wiki
    assert result.outcomes is not None and result.outcomes.total.edits == 2
    assert result.outcomes == full_recount(site, tmp_path).outcomes


def test_a_refresh_in_a_running_process_asks_no_more_than_without_the_early_read(
    wikis: Farm, tmp_path: Path
) -> None:
    """As the scheduler refreshes: a page object not read yet; the early read goes out once
    the refresh has read the page, and costs no request of its own."""
    import shutil

    alice = wikis.content.client("Alice")
    alice.edit("Running article", "A.")
    path = tmp_path / "running.sqlite"
    site = first_count(wikis, Store(f"sqlite:///{path}"), ["Alice"])
    alice.append("Running article", " B.")
    windowless = tmp_path / "windowless.sqlite"
    shutil.copyfile(path, windowless)
    old = Store(f"sqlite:///{windowless}")
    key = f"{site.hostname()}#{pywikibot.Page(site, TITLE).pageid}"
    forget_windows(old, key)
    page_text = pywikibot.Page(site, TITLE).get(force=True)

    asked: dict[str, list[str]] = {}
    outcomes = {}
    for label, store in (("early", Store(f"sqlite:///{path}")), ("after the parse", old)):
        wikis.content.admin_client().edit(TITLE, page_text)
        refresher = Refresher(store)
        with Asked() as seen:
            result = refresher.refresh(pywikibot.Page(site, TITLE), full=False)
        asked[label] = seen.every
        outcomes[label] = result.outcomes
    # The page's own read comes first (no request to learn whether it was read before).
    first = asked["early"][0]
    assert "rvprop=" in first and "Early+read+program" in first, first
    assert len(asked["early"]) == len(asked["after the parse"]), asked
    assert outcomes["early"] == outcomes["after the parse"]
    assert outcomes["early"] is not None and outcomes["early"].total.edits == 2
