"""The scheduler against the real wikis: activity, cadence, requested updates, workers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness import Farm, program_page

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page  # noqa: E402
from bot.jobs.scheduler import Scheduler  # noqa: E402
from bot.store import Store  # noqa: E402


def program(farm: Farm, users: list[str]) -> str:
    return program_page(users, [farm.content.host])


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'sched.sqlite'}")


@pytest.fixture
def scheduler(wikis: Farm, store: Store) -> Scheduler:
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    return Scheduler(store, site, worker_id="s1")


def edits_of(text: str, user: str) -> str:
    return {r.username: dict(r.stats) for r in parse_program_page(text).rows}[user]["edits"]


def test_activity_shows_in_the_live_report_at_once_and_on_the_page_at_its_cadence(
    wikis: Farm, store: Store, scheduler: Scheduler
) -> None:
    admin = wikis.content.admin_client()
    title = "Content Wiki:Scheduled"
    admin.edit(title, program(wikis, ["Alice"]))
    admin.edit("Content Wiki:Idle", program(wikis, ["Bob"]))
    wikis.content.client("Alice").edit("Alice's article", "One.")

    assert scheduler.discover() == 2
    first = scheduler.cycle()
    assert first.refreshed == 2 and first.edited == 2  # both pages get their figures
    assert edits_of(admin.get_text(title) or "", "Alice") == "1"
    revid = admin.latest_revid(title)
    idle_revid = admin.latest_revid("Content Wiki:Idle")

    wikis.content.client("Alice").append("Alice's article", " Two.")
    second = scheduler.cycle()
    # The recent changes went straight into Alice's program's figures (no refresh of its
    # page); the idle one was not touched.
    assert second.active == 1 and second.refreshed == 0 and second.edited == 0
    entry = store.schedule_entry(wikis.content.host, title)
    assert entry is not None and entry.edit_pending
    assert json.loads(entry.live_report or "{}")["per_participant"]["Alice"]["edits"] == 2
    assert admin.latest_revid(title) == revid  # not edited within its 10-minute cadence
    assert admin.latest_revid("Content Wiki:Idle") == idle_revid

    # The API's report shows the live figures beside the page's older ones.
    from api_support import SECRET_KEY, wiki_entry
    from gadget_api import create_app

    app = create_app(
        {
            "secret_key": SECRET_KEY,
            "store_url": str(store.engine.url),
            "public_url": "http://api.test",
            "wikis": [wiki_entry(wikis.content)],
        }
    )
    url = f"/api/v1/programs/{wikis.content.host}/{title}/report"
    report = app.test_client().get(url).get_json()
    assert report["participants"][0]["edits"] == 1  # the page
    assert report["live"]["per_participant"]["Alice"]["edits"] == 2  # the latest refresh
    assert report["tables"]["summary"][-1]["edits"] == 2
    articles = app.test_client().get(url + "?format=csv&table=articles")
    assert articles.status_code == 200 and articles.mimetype == "text/csv"
    lines = articles.get_data(as_text=True).splitlines()
    assert lines[0].startswith(
        "wiki,title,created,edits,bytes_added,references_added,editors,deleted,pageviews"
    )
    assert "Alice's article,yes,2," in lines[1]
    by_wiki = app.test_client().get(url + "?format=csv&table=participants-by-wiki")
    assert f"{wikis.content.host} edits" in by_wiki.get_data(as_text=True).splitlines()[0]

    # Someone asks for an update: it jumps the queue and edits at once.
    store.add_refresh_request(wikis.content.host, title, "Alice", datetime.now(UTC))
    third = scheduler.cycle()
    assert third.requested == 1
    assert edits_of(admin.get_text(title) or "", "Alice") == "2"
    assert store.pending_refresh_requests() == []


def test_one_failing_program_does_not_stop_the_others(
    wikis: Farm, store: Store, scheduler: Scheduler
) -> None:
    admin = wikis.content.admin_client()
    admin.edit("Content Wiki:Good", program(wikis, ["Alice"]))
    admin.edit("Content Wiki:Bad", "{{nobots}}\n" + program(wikis, ["Bob"]))
    scheduler.discover()
    result = scheduler.cycle()
    assert result.failed == 1 and result.edited == 1
    bad = store.schedule_entry(wikis.content.host, "Content Wiki:Bad")
    assert bad is not None and "nobots" in (bad.last_error or "")
    good = store.schedule_entry(wikis.content.host, "Content Wiki:Good")
    assert good is not None and good.last_error is None


def test_two_schedulers_never_refresh_the_same_program_at_once(
    wikis: Farm, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = wikis.content.admin_client()
    titles = [f"Content Wiki:Parallel {n}" for n in range(6)]
    for title in titles:
        admin.edit(title, program(wikis, ["Alice"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    first, second = Scheduler(store, site, worker_id="a"), Scheduler(store, site, worker_id="b")
    first.discover()

    import bot.jobs.scheduler

    active: dict[str, int] = {}
    overlaps: list[str] = []
    refreshed: list[str] = []
    lock = threading.Lock()
    original = bot.jobs.scheduler.Refresher.refresh

    def tracked(self: Any, page: Any, **kwargs: Any) -> Any:
        title = page.title()
        with lock:
            active[title] = active.get(title, 0) + 1
            if active[title] > 1:
                overlaps.append(title)
        try:
            time.sleep(0.2)  # widen the window in which a second worker could step in
            return original(self, page, **kwargs)
        finally:
            with lock:
                active[title] -= 1
                refreshed.append(title)

    monkeypatch.setattr(bot.jobs.scheduler.Refresher, "refresh", tracked)
    threads = [threading.Thread(target=s.cycle) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []
    assert sorted(refreshed) == sorted(titles)  # each exactly once between the two


def test_run_stops_cleanly_on_sigterm(wikis: Farm, tmp_path: Path) -> None:
    wikis.content.admin_client().edit("Content Wiki:Running", program(wikis, ["Alice"]))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            "--interval",
            "1",
            "--db",
            f"sqlite:///{tmp_path / 'run.sqlite'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 60
        store = Store(f"sqlite:///{tmp_path / 'run.sqlite'}")
        while time.monotonic() < deadline:
            entry = store.schedule_entry(wikis.content.host, "Content Wiki:Running")
            if entry is not None and entry.last_refreshed is not None:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the scheduler refreshed nothing within 60 s")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "scheduler stopped" in output
    # Discovery comes first, so the very first cycle refreshes the page it found.
    cycles = [m.start() for m in re.finditer(r'Running job "cycle', output)]
    refreshed = output.index("refreshing [[Content Wiki:Running]]")
    assert output.index("discovery: ") < cycles[0] < refreshed
    assert len(cycles) == 1 or refreshed < cycles[1], output


def test_campaigns_are_discovered_and_refreshed_after_their_programs(
    wikis: Farm, store: Store, scheduler: Scheduler
) -> None:
    admin = wikis.content.admin_client()
    today = datetime.now(UTC).date()
    for name, user in (("One", "Alice"), ("Two", "Bob")):
        text = program(wikis, [user]).replace(
            f"|wikis={wikis.content.host}\n", f"|wikis={wikis.content.host}\n|campaign=Drive\n"
        )
        admin.edit(f"Content Wiki:{name}", text)
    admin.edit(
        "Content Wiki:Drive",
        f"{{{{Campaign details\n|name=Drive\n|start={today - timedelta(days=1)}\n"
        f"|end={today + timedelta(days=1)}\n}}}}\n",
    )
    wikis.content.client("Alice").edit("Shared article", "A.")
    wikis.content.client("Bob").append("Shared article", " B.")
    assert scheduler.discover() == 3
    result = scheduler.cycle()
    assert result.refreshed == 3
    campaign = admin.get_text("Content Wiki:Drive") or ""
    assert "{{Campaign program row|program=Content Wiki:One|" in campaign
    # The shared article counts once in the campaign's total.
    total = next(line for line in campaign.splitlines() if "program=total" in line)
    assert "|articles_edited=1|" in total and "|participants=2|" in total

    # The API serves the campaign's tables from that refresh.
    from api_support import SECRET_KEY, wiki_entry
    from gadget_api import create_app

    app = create_app(
        {
            "secret_key": SECRET_KEY,
            "store_url": str(store.engine.url),
            "public_url": "http://api.test",
            "wikis": [wiki_entry(wikis.content)],
        }
    )
    client = app.test_client()
    url = f"/api/v1/campaigns/{wikis.content.host}/Content_Wiki:Drive/report"
    document = client.get(url).get_json()
    assert document["tables"]["summary"][-1]["articles_edited"] == 1
    csv_text = client.get(url + "?format=csv&table=participants").get_data(as_text=True)
    assert csv_text.splitlines()[0] == "username,programs"
    assert client.get(url.replace("Drive", "Nothing")).status_code == 404


def test_programs_are_discovered_on_every_configured_wiki(wikis: Farm, store: Store) -> None:
    from bot.core.settings import BotConfig, WikiSettings

    wikis.content.admin_client().edit("Content Wiki:Here", program(wikis, ["Alice"]))
    wikis.media.admin_client().edit("Media Commons:There", program(wikis, ["Bob"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    config = BotConfig({wikis.media.host: WikiSettings()})
    assert Scheduler(store, site, config=config, worker_id="d").discover() == 2
    known = {(e.wiki, e.title) for e in store.schedule_entries()}
    assert known == {
        (wikis.content.host, "Content Wiki:Here"),
        (wikis.media.host, "Media Commons:There"),
    }


def test_a_program_fixed_by_its_organizer_is_refreshed_in_the_next_cycle(
    wikis: Farm, store: Store, scheduler: Scheduler, caplog: pytest.LogCaptureFixture
) -> None:
    """A page whose dates cannot be read is put off (phase final); the organizer's fix is
    seen in recent changes and the page is refreshed in the very next cycle. A listed host
    no family serves is warned about once, not on every cycle."""
    admin = wikis.content.admin_client()
    title = "Content Wiki:Broken dates"
    broken = (
        program(wikis, ["Alice"])
        .replace("|start=", "|start=not ")
        .replace(
            f"|wikis={wikis.content.host}", f"|wikis={wikis.content.host}, unknown.example.org"
        )
    )
    admin.edit(title, broken)
    wikis.content.client("Alice").edit("Alice's draft", "One.")
    assert scheduler.discover() == 1
    assert scheduler.cycle().refreshed == 1
    entry = store.schedule_entry(wikis.content.host, title)
    assert entry is not None and entry.phase == "final"
    assert entry.next_due > datetime.now(UTC) + timedelta(days=6)
    assert "{{Program notice" in (admin.get_text(title) or "")

    admin.edit(title, broken.replace("|start=not ", "|start="))
    with caplog.at_level("WARNING", logger="bot.jobs.scheduler"):
        fixed = scheduler.cycle()
        assert fixed.active == 1 and fixed.refreshed == 1
        scheduler.cycle()
        scheduler.cycle()
    entry = store.schedule_entry(wikis.content.host, title)
    assert entry is not None and entry.phase == "running"
    assert edits_of(admin.get_text(title) or "", "Alice") == "1"
    watching = [r for r in caplog.records if r.name == "bot.jobs.scheduler"]
    assert [r.getMessage().split(":")[0] for r in watching] == [
        "recent changes of unknown.example.org not watched"
    ]


@pytest.mark.parametrize("store_url", ["mariadb", "postgresql"], indirect=True)
def test_a_program_page_with_the_longest_title_is_discovered_and_refreshed(
    wikis: Farm, store_url: str
) -> None:
    """A title of 255 bytes in the project namespace (268 characters with it) is kept by
    every table of the store, and the programs after it are found too."""
    admin = wikis.content.admin_client()
    longest = "Content Wiki:" + "Long title " * 23 + "x" * 2
    assert len(longest) == 13 + 255
    admin.edit(longest, program(wikis, ["Alice"]))
    admin.edit("Content Wiki:Zz after the long one", program(wikis, ["Bob"]))
    wikis.content.client("Alice").edit("Long title article", "A.")
    store = Store(store_url)
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    scheduler = Scheduler(store, site, worker_id="long")
    assert scheduler.discover() == 2
    result = scheduler.cycle()
    assert (result.refreshed, result.failed) == (2, 0)
    assert edits_of(admin.get_text(longest) or "", "Alice") == "1"
    entry = store.schedule_entry(wikis.content.host, longest)
    assert entry is not None and entry.last_error is None
