"""The worker writes recorded joins onto real program pages, safely and exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness import Farm

pytestmark = pytest.mark.wiki

pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page  # noqa: E402
from bot.jobs.joins import Worker  # noqa: E402
from bot.store import APPLIED, FAILED, JOIN, LEAVE, RECORDED, Store  # noqa: E402

ParticipantFactory = Callable[..., Any]
TITLE = "Content Wiki:Join test"


def program(farm: Farm, rows: str = "", extra: str = "") -> str:
    today = datetime.now(UTC).date()
    return (
        "Organizer prose.\n{{Program details\n|name=Join test\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=5)}\n"
        f"|wikis={farm.content.host}\n|registration=open\n{extra}}}}}\n\n"
        f"{{{{Participants table}}}}\n{rows}{{{{End of participants table}}}}\n\nNotes.\n"
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'store.sqlite'}")


@pytest.fixture
def worker(store: Store, wikis: Farm) -> Worker:
    pywikibot.Site(wikis.content.name, wikis.content.name)
    return Worker(store, worker_id="test-worker")


def names(text: str) -> list[str]:
    return [row.username for row in parse_program_page(text).rows]


def text_of(wikis: Farm, title: str = TITLE) -> str:
    return wikis.content.admin_client().get_text(title) or ""


def test_joins_go_on_the_page_in_one_edit(wikis: Farm, store: Store, worker: Worker) -> None:
    admin = wikis.content.admin_client()
    admin.edit(
        TITLE, program(wikis, "{{Participant table row|username=Alice|joined=2026-11-01}}\n")
    )
    before = admin.latest_revid(TITLE)
    now = datetime.now(UTC)
    requests = [
        store.record_join(wikis.content.host, TITLE, n, JOIN, now)[0] for n in ("Bob", "Carol")
    ]

    result = worker.run_once()
    assert (result.applied, result.failed, result.waiting) == (2, 0, 0)
    text = text_of(wikis)
    assert names(text) == ["Alice", "Bob", "Carol"]
    assert f"|username=Bob|joined={now.date().isoformat()}}}}}" in text
    assert text.startswith("Organizer prose.") and text.endswith("Notes.")
    revid = admin.latest_revid(TITLE)
    assert revid != before
    # One edit for both, bot-flagged, with a summary naming them.
    rows = wikis.content.sql(
        "SELECT rc_bot, comment_text FROM recentchanges JOIN comment ON comment_id = rc_comment_id"
        " WHERE rc_this_oldid = ?",
        (revid,),
    )
    assert rows == [
        (1, "Adding [[User:Bob|Bob]], [[User:Carol|Carol]] (joined with the Join button)")
    ]
    for request in requests:
        done = store.join_request(request.id)
        assert done is not None and (done.state, done.revid) == (APPLIED, revid)
    # Nothing left: the next round edits nothing.
    assert worker.run_once().applied == 0
    assert admin.latest_revid(TITLE) == revid


def test_joining_someone_already_listed_makes_no_edit(
    wikis: Farm, store: Store, worker: Worker
) -> None:
    admin = wikis.content.admin_client()
    admin.edit(
        TITLE, program(wikis, "{{Participant table row|username=Alice|joined=2026-11-01}}\n")
    )
    before = admin.latest_revid(TITLE)
    request, _ = store.record_join(wikis.content.host, TITLE, "Alice", JOIN, datetime.now(UTC))
    assert worker.run_once().applied == 1
    assert admin.latest_revid(TITLE) == before
    assert store.join_request(request.id).state == APPLIED  # type: ignore[union-attr]


def test_leaving_removes_only_a_row_the_flow_added(
    wikis: Farm, store: Store, worker: Worker
) -> None:
    admin = wikis.content.admin_client()
    admin.edit(
        TITLE, program(wikis, "{{Participant table row|username=Alice|joined=2026-11-01}}\n")
    )
    host, now = wikis.content.host, datetime.now(UTC)
    store.record_join(host, TITLE, "Bob", JOIN, now)
    worker.run_once()
    store.record_join(host, TITLE, "Bob", LEAVE, now)
    store.record_join(host, TITLE, "Alice", LEAVE, now)  # listed by the organizer, by hand
    assert worker.run_once().applied == 2
    text = text_of(wikis)
    assert names(text) == ["Alice"]
    revid = admin.latest_revid(TITLE)
    summary = wikis.content.sql(
        "SELECT comment_text FROM recentchanges JOIN comment ON comment_id = rc_comment_id "
        "WHERE rc_this_oldid = ?",
        (revid,),
    )[0][0]
    assert summary == "Removing [[User:Bob|Bob]] (left with the Join button)"


def test_a_page_that_is_not_a_program_fails_the_join_with_a_reason(
    wikis: Farm, store: Store, worker: Worker
) -> None:
    wikis.content.admin_client().edit("Plain page", "No program.")
    request, _ = store.record_join(wikis.content.host, "Plain page", "Bob", JOIN, datetime.now(UTC))
    assert worker.run_once().failed == 1
    failed = store.join_request(request.id)
    assert failed is not None and failed.state == FAILED
    assert "does not use {{Program details}}" in (failed.reason or "")
    assert text_of(wikis, "Plain page") == "No program."


def test_joins_wait_while_the_wiki_is_down_and_land_when_it_is_back(
    wikis: Farm, store: Store, worker: Worker
) -> None:
    wikis.content.admin_client().edit(TITLE, program(wikis))
    request, _ = store.record_join(wikis.content.host, TITLE, "Bob", JOIN, datetime.now(UTC))
    wikis.content.stop()
    try:
        assert worker.run_once().waiting == 1
    finally:
        wikis.content.start()
    waiting = store.join_request(request.id)
    assert waiting is not None and waiting.state == RECORDED and waiting.attempts == 1
    assert waiting.reason
    assert worker.run_once().applied == 1
    assert names(text_of(wikis)) == ["Bob"]


def test_nobots_and_the_stop_page_keep_joins_waiting(
    wikis: Farm, store: Store, worker: Worker
) -> None:
    admin = wikis.content.admin_client()
    admin.edit(TITLE, "{{nobots}}\n" + program(wikis))
    host = wikis.content.host
    request, _ = store.record_join(host, TITLE, "Bob", JOIN, datetime.now(UTC))
    assert worker.run_once().waiting == 1
    admin.edit(TITLE, program(wikis))
    admin.edit("User:ProgramsBot/Stop", "stop")
    assert worker.run_once().waiting == 1
    assert names(text_of(wikis)) == []
    admin.edit("User:ProgramsBot/Stop", "")
    assert worker.run_once().applied == 1
    assert store.join_request(request.id).state == APPLIED  # type: ignore[union-attr]


def test_an_organizer_editing_meanwhile_keeps_their_edit(
    wikis: Farm, store: Store, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = wikis.content.admin_client()
    admin.edit(TITLE, program(wikis))
    store.record_join(wikis.content.host, TITLE, "Bob", JOIN, datetime.now(UTC))
    import bot.wiki.edit

    original = bot.wiki.edit.check_stop_page
    edited: list[int] = []

    def organizer_saves_first(site: Any, title: str) -> None:
        # Called after the worker read the page and just before it saves: the organizer
        # adds a row by hand and edits prose in exactly that moment.
        if not edited:
            text = text_of(wikis)
            text = text.replace(
                "{{End of participants table}}",
                "{{Participant table row|username=Carol|joined=2026-11-02}}\n"
                "{{End of participants table}}",
            ).replace("Notes.", "Notes, edited.")
            edited.append(admin.edit(TITLE, text))
        original(site, title)

    monkeypatch.setattr(bot.wiki.edit, "check_stop_page", organizer_saves_first)
    assert worker.run_once().applied == 1
    text = text_of(wikis)
    assert names(text) == ["Carol", "Bob"]
    assert text.endswith("Notes, edited.")


def test_two_workers_never_apply_the_same_page_at_once(wikis: Farm, store: Store) -> None:
    import threading

    wikis.content.admin_client().edit(TITLE, program(wikis))
    host, now = wikis.content.host, datetime.now(UTC)
    for name in ("Alice", "Bob", "Carol", "Dave", "Eve"):
        store.record_join(host, TITLE, name, JOIN, now)
    pywikibot.Site(wikis.content.name, wikis.content.name)
    workers = [Worker(store, worker_id=f"w{i}") for i in range(3)]
    threads = [threading.Thread(target=w.run_once) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    Worker(store, worker_id="w-last").run_once()  # whatever a claimed page left behind
    text = text_of(wikis)
    assert sorted(names(text)) == ["Alice", "Bob", "Carol", "Dave", "Eve"]
    assert not store.pending_pages()


def test_requested_statistics_updates_are_run_once(
    wikis: Farm, store: Store, worker: Worker
) -> None:
    wikis.content.client("Alice").edit("An article", "Text.")
    admin = wikis.content.admin_client()
    admin.edit(
        TITLE, program(wikis, "{{Participant table row|username=Alice|joined=2026-11-01}}\n")
    )
    now = datetime.now(UTC)
    for user in ("Alice", "Bob"):
        store.add_refresh_request(wikis.content.host, TITLE, user, now)
    assert worker.run_once().refreshed == 1  # two requests for one page: one refresh
    text = text_of(wikis)
    assert "{{Program outcomes|" in text
    assert dict(parse_program_page(text).rows[0].stats)["edits"] == "1"
    assert store.pending_refresh_requests() == []
    revid = admin.latest_revid(TITLE)
    assert worker.run_once().refreshed == 0
    assert admin.latest_revid(TITLE) == revid


def test_a_css_page_spelling_the_template_is_no_program(
    wikis: Farm, store: Store, worker: Worker
) -> None:
    """Rows written into CSS or JavaScript would break it; the bot may edit both."""
    title = "MediaWiki:Gadget-example.css"
    css = "/* {{Program details|name=x}} {{Participants table}} {{End of participants table}} */"
    wikis.content.admin_client().edit(title, css)
    before = wikis.content.admin_client().latest_revid(title)
    request, _ = store.record_join(wikis.content.host, title, "Bob", JOIN, datetime.now(UTC))
    assert worker.run_once().failed == 1
    failed = store.join_request(request.id)
    assert failed is not None and failed.state == FAILED
    assert "content model is css" in (failed.reason or "")
    assert wikis.content.admin_client().latest_revid(title) == before


def test_a_name_that_cannot_be_written_fails_alone(
    wikis: Farm, store: Store, worker: Worker
) -> None:
    wikis.content.admin_client().edit(TITLE, program(wikis))
    now = datetime.now(UTC)
    bad, _ = store.record_join(wikis.content.host, TITLE, "Eve|x", JOIN, now)
    good, _ = store.record_join(wikis.content.host, TITLE, "Bob", JOIN, now)
    result = worker.run_once()
    assert (result.applied, result.failed) == (1, 1)
    assert store.join_request(bad.id).state == FAILED  # type: ignore[union-attr]
    assert store.join_request(good.id).state == APPLIED  # type: ignore[union-attr]
    assert names(text_of(wikis)) == ["Bob"]


def test_a_wiki_that_cannot_be_reached_does_not_end_the_worker(
    wikis: Farm, store: Store, worker: Worker
) -> None:
    """A program listing a known but unreachable wiki: its update waits, the round goes on."""
    wikis.content.admin_client().edit(
        TITLE, program(wikis).replace(f"|wikis={wikis.content.host}", "|wikis=en.wikipedia.org")
    )
    store.add_refresh_request(wikis.content.host, TITLE, "Alice", datetime.now(UTC))
    store.record_join(wikis.content.host, TITLE, "Bob", JOIN, datetime.now(UTC))
    result = worker.run_once()
    assert (result.applied, result.refreshed) == (1, 0)
    assert len(store.pending_refresh_requests()) == 1  # asked again in the next round
