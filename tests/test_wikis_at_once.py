"""A count asks its wikis at once and reads the store while they answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.core.errors import StoreError
from bot.jobs.at_once import WIKIS_AT_ONCE, Handoff, each_wiki
from harness import Farm, program_page

ParticipantFactory = Callable[..., Any]

TITLE = "Project:Wikis at once"


# -- each_wiki and Handoff, alone -------------------------------------------------------------


def test_results_come_in_the_order_of_the_jobs() -> None:
    def job(n: int, pause: float) -> Callable[[], int]:
        def run() -> int:
            time.sleep(pause)
            return n

        return run

    assert each_wiki([job(1, 0.2), job(2, 0.0), job(3, 0.1)]) == [1, 2, 3]


def test_the_jobs_run_at_once_up_to_the_limit() -> None:
    # Each job waits for all the others: in series the barrier would break.
    barrier = threading.Barrier(WIKIS_AT_ONCE, timeout=10)
    assert each_wiki([barrier.wait for _ in range(WIKIS_AT_ONCE)]) is not None
    assert not barrier.broken


def test_the_first_failure_is_raised_once_every_job_finished() -> None:
    finished: list[str] = []

    def fails() -> None:
        raise ValueError("first")

    def slow() -> None:
        time.sleep(0.3)
        finished.append("slow")

    def fails_later() -> None:
        time.sleep(0.1)
        raise KeyError("second")

    with pytest.raises(ValueError, match="first"):
        each_wiki([fails, slow, fails_later])
    assert finished == ["slow"]


def test_meanwhile_runs_in_the_calling_thread_while_the_jobs_wait_for_it() -> None:
    caller = threading.get_ident()
    handoff: Handoff[int] = Handoff()
    seen: list[int] = []

    def job() -> int:
        seen.append(threading.get_ident())
        return handoff.take() + 1

    assert each_wiki([job], lambda: handoff.give(41)) == [42]
    assert seen and seen[0] != caller
    # Without a meanwhile, one job runs in the calling thread.
    assert each_wiki([threading.get_ident]) == [caller]


def test_a_failed_handoff_raises_in_the_taker() -> None:
    handoff: Handoff[int] = Handoff()
    handoff.fail(StoreError("unreadable"))
    handoff.give(1)  # too late: the failure stands
    handoff.fail(ValueError("ignored"))
    with pytest.raises(StoreError, match="unreadable"):
        handoff.take()


# -- on the real local wikis -------------------------------------------------------------------


def _program(farm: Farm, users: list[str]) -> str:
    return program_page(users, [farm.content.host, farm.media.host], name="At once")


@pytest.mark.wiki
def test_both_wikis_are_asked_at_once_and_the_store_is_read_meanwhile(
    wikis: Farm,
    participant: ParticipantFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pywikibot = pytest.importorskip("pywikibot")
    from bot.jobs.refresh import Refresher
    from bot.store import Store

    participant("Alice").edit("At once article", "Text.")
    participant("Alice", wiki=wikis.media).edit("At once page", "Text.")
    participant("Admin").edit(TITLE, _program(wikis, ["Alice"]))
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    page = pywikibot.Page(pywikibot.Site(wikis.content.name, wikis.content.name), TITLE)
    Refresher(store).refresh(page)  # the first count: the store remembers something now

    # The second count: each wiki's first contributions request waits until the other
    # wiki's has been sent too (in series, the barrier would break after 10 s); the store
    # is read only once a wiki has been asked.
    hosts = {wikis.content.host, wikis.media.host}
    barrier = threading.Barrier(2, timeout=10)
    asked: set[str] = set()
    first_asked = threading.Event()
    lock = threading.Lock()
    broken: list[str] = []
    send = requests.adapters.HTTPAdapter.send

    def held_send(self: Any, request: Any, **kwargs: Any) -> Any:
        host = request.url.split("/")[2]
        body = request.body if isinstance(request.body, str) else (request.body or b"").decode()
        if host in hosts and "usercontribs" in request.url + body:
            with lock:
                first = host not in asked
                asked.add(host)
            if first:
                first_asked.set()
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    broken.append(host)
        return send(self, request, **kwargs)

    remembered = store.remembered
    read_after_asking: list[bool] = []

    def watched(program: str, wiki: str) -> Any:
        read_after_asking.append(first_asked.wait(10))
        return remembered(program, wiki)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", held_send)
    monkeypatch.setattr(store, "remembered", watched)
    result = Refresher(store).refresh(page, full=True)
    assert result.outcomes is not None
    assert asked == hosts and broken == []
    assert read_after_asking == [True, True]

    # A store that cannot be read fails the count with its error; no fetch waits forever.
    def unreadable(program: str, wiki: str) -> Any:
        raise StoreError("the store is gone")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    monkeypatch.setattr(store, "remembered", unreadable)
    started = time.monotonic()
    with pytest.raises(StoreError, match="the store is gone"):
        Refresher(store).refresh(page, full=True)
    assert time.monotonic() - started < 30
