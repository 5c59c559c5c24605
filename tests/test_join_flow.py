"""End to end: joins through the API over HTTP, the worker writing them on a real wiki."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from api_support import SECRET_KEY, wiki_entry
from bot.core.program_page import parse_program_page
from bot.store import APPLIED, RECORDED, Store
from gadget_api import create_app
from harness import Farm
from join_load import (
    ServedApp,
    WorkerThread,
    join_all,
    join_url,
    mint_tokens,
    wait_until_none_waiting,
)

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

TITLE = "Content Wiki:Big edit-a-thon"


def program(farm: Farm) -> str:
    today = datetime.now(UTC).date()
    return (
        "Organizer prose that must survive.\n{{Program details\n|name=Big edit-a-thon\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=7)}\n"
        f"|wikis={farm.content.host}\n|registration=open\n}}}}\n\n"
        "{{Participants table}}\n"
        "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{End of participants table}}\n\nOrganizer notes:\n"
    )


@pytest.fixture
def api(wikis: Farm, tmp_path: Path) -> Iterator[tuple[ServedApp, Store]]:
    config = {
        "secret_key": SECRET_KEY,
        "store_url": f"sqlite:///{tmp_path / 'api.sqlite'}",
        "public_url": "http://127.0.0.1",
        "wikis": [wiki_entry(wikis.content)],
        # The load is the point here, not the per-user limit.
        "rate_limits": {"joins_per_user_per_minute": 100},
    }
    served = ServedApp(create_app(config))
    store = Store(config["store_url"])
    pywikibot.Site(wikis.content.name, wikis.content.name)
    try:
        yield served, store
    finally:
        served.stop()


def names(text: str) -> list[str]:
    return [row.username for row in parse_program_page(text).rows]


def careful_append(wikis: Farm, line: str) -> None:
    """An organizer's edit as the wiki's editor makes it: against the revision read."""
    wikis.content.admin_client().edit_as_read(
        TITLE, lambda text: text + "\n" + line, "organizer note"
    )


def test_two_hundred_concurrent_joins_land_once_each(
    wikis: Farm, api: tuple[ServedApp, Store]
) -> None:
    served, store = api
    host = wikis.content.host
    users = [f"Joiner {n:03d}" for n in range(200)]
    wikis.content.create_users(users)
    wikis.content.admin_client().edit(TITLE, program(wikis))
    tokens = mint_tokens(store, host, users)

    notes = [f"Organizer note {n}." for n in range(5)]

    def organizer() -> None:
        for note in notes:
            careful_append(wikis, note)
            time.sleep(0.2)

    worker = WorkerThread(store)
    editing = threading.Thread(target=organizer)
    try:
        editing.start()
        run = join_all(served.url, host, TITLE, list(tokens.values()), concurrency=32)
        editing.join(120)
        wait_until_none_waiting(store, timeout=180)
    finally:
        worker.stop()

    assert run.statuses == (202,) * 200, {s for s in run.statuses}
    text = wikis.content.admin_client().get_text(TITLE) or ""
    listed = names(text)
    assert sorted(listed) == sorted(["Alice", *users])  # everyone exactly once
    assert text.startswith("Organizer prose that must survive.\n")
    for note in notes:
        assert text.count(note) == 1, note
    states = {store.latest_join(host, TITLE, u).state for u in users}  # type: ignore[union-attr]
    assert states == {APPLIED}

    # A second join by the same user changes nothing, on the page or in the store.
    revid = wikis.content.admin_client().latest_revid(TITLE)
    again = requests.post(
        join_url(served.url, host, TITLE),
        headers={"Authorization": f"Bearer {tokens[users[7]]}"},
        timeout=30,
    )
    assert again.status_code == 200 and again.json()["already"] is True
    assert not store.pending_pages()
    assert wikis.content.admin_client().latest_revid(TITLE) == revid


def test_joins_made_while_the_wiki_is_down_appear_when_it_is_back(
    wikis: Farm, api: tuple[ServedApp, Store]
) -> None:
    served, store = api
    host = wikis.content.host
    wikis.content.admin_client().edit(TITLE, program(wikis))
    tokens = mint_tokens(store, host, ["Bob", "Carol", "Dave", "Eve"])
    first = join_all(served.url, host, TITLE, [tokens["Bob"]], concurrency=1)
    assert first.statuses == (202,)  # the API read the page (and keeps a snapshot)

    wikis.content.stop()
    try:
        during = join_all(
            served.url, host, TITLE, [tokens[n] for n in ("Carol", "Dave", "Eve")], concurrency=3
        )
        assert during.statuses == (202,) * 3  # accepted and recorded while the wiki is down
        assert {store.latest_join(host, TITLE, n).state for n in ("Carol", "Dave", "Eve")} == {  # type: ignore[union-attr]
            RECORDED
        }
        from bot.jobs.joins import Worker

        waiting = Worker(store, worker_id="during-outage").run_once()
        assert waiting.waiting == 4 and waiting.applied == 0
        state: Any = requests.get(
            join_url(served.url, host, TITLE),
            headers={"Authorization": f"Bearer {tokens['Carol']}"},
            timeout=30,
        ).json()
        assert state["state"] == RECORDED and state.get("reason")
    finally:
        wikis.content.start()

    assert Worker(store, worker_id="after-outage").run_once().applied == 4
    text = wikis.content.admin_client().get_text(TITLE) or ""
    assert sorted(names(text)) == ["Alice", "Bob", "Carol", "Dave", "Eve"]
