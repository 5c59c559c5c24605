"""The EventStreams feed: every covered wiki's changes from one stream, exactly once, across
disconnects and outages, checked against the wikis' own ``recentchanges`` tables.

The stream is the stand-in (harness/eventstreams.py), fed by the real local wikis through an
RCFeed that formats their changes as Wikimedia's EventBus does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness import BOT_USERNAME, EventStreamsServer, Farm, LocalWiki, tiny_png
from harness.eventstreams import canary_event

pywikibot = pytest.importorskip("pywikibot")

from bot.core.changes import RecentChange  # noqa: E402
from bot.core.errors import ConfigError, UnknownWikiError  # noqa: E402
from bot.core.settings import (  # noqa: E402
    WIKIMEDIA_DOMAINS,
    WIKIMEDIA_STREAM_URL,
    config_from_mapping,
)
from bot.core.stream_events import (  # noqa: E402
    change_from_event,
    event_host,
    event_time,
    resume_id,
)
from bot.store import Store  # noqa: E402
from bot.wiki.changes import PollingFeed  # noqa: E402
from bot.wiki.stream import CompositeFeed, StreamFeed  # noqa: E402

#: recentchanges.rc_type -> the stream's and the API's ``type``.
RC_TYPES = {0: "edit", 1: "new", 3: "log"}
WAIT = 60.0


# -- the wikis' own record -------------------------------------------------------------------


def db_changes(wiki: LocalWiki, after: int) -> dict[int, tuple[Any, ...]]:
    """rcid -> the change's fields, from the wiki's tables: what polling would list (edits,
    creations and log actions, the bot's own left out) after change ``after``."""
    rows = wiki.sql(
        "SELECT rc_id, rc_type, rc_namespace, rc_title, actor_name, rc_timestamp, "
        "rc_this_oldid, rc_last_oldid, rc_old_len, rc_new_len, rc_log_type, rc_log_action "
        "FROM recentchanges JOIN actor ON actor_id = rc_actor "
        "WHERE rc_id > ? AND rc_type IN (0, 1, 3) AND actor_name != ?",
        (after, BOT_USERNAME),
    )
    found = {}
    for rcid, kind, ns, title, user, stamp, revid, old_revid, old_len, new_len, ltype, act in rows:
        moment = datetime.strptime(str(stamp), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        log = RC_TYPES[kind] == "log"
        found[int(rcid)] = (
            RC_TYPES[kind],
            int(ns),
            str(title),
            str(user),
            moment,
            # The stream gives no revision ids or sizes for log actions.
            0 if log else int(revid or 0),
            0 if log else int(old_revid or 0),
            0 if log else int(old_len or 0),
            0 if log else int(new_len or 0),
            str(ltype or ""),
            str(act or ""),
        )
    return found


def fields(change: RecentChange) -> tuple[Any, ...]:
    """A change's fields in db_changes' form (the title without its namespace prefix)."""
    title = change.title.split(":", 1)[1] if change.namespace != 0 else change.title
    return (
        change.kind,
        change.namespace,
        title.replace(" ", "_"),
        change.user,
        change.timestamp,
        change.revid,
        change.old_revid,
        change.old_len,
        change.new_len,
        change.log_type,
        change.log_action,
    )


def last_rcid(wiki: LocalWiki) -> int:
    return int(wiki.sql("SELECT COALESCE(MAX(rc_id), 0) FROM recentchanges")[0][0])


# -- the feed and the changes ----------------------------------------------------------------


@pytest.fixture
def stream(wikis: Farm) -> Iterator[EventStreamsServer]:
    with EventStreamsServer(wikis.wikis, canary_every=0.5) as server:
        yield server


def make_feed(stream: EventStreamsServer, farm: Farm, **options: Any) -> StreamFeed:
    hosts = {wiki.host for wiki in farm.wikis}
    settings: dict[str, Any] = {
        "idle_timeout": 10.0,
        "fallback_after": 1.0,
        "retry": 0.1,
        "max_retry": 0.5,
    }
    settings.update(options)
    return StreamFeed(stream.url, hosts.__contains__, **settings).start()


class Reader:
    """Reads a feed for both wikis and keeps every change it gave, in order."""

    def __init__(self, feed: Any, farm: Farm) -> None:
        self.feed = feed
        self.farm = farm
        self.given: dict[str, list[RecentChange]] = {w.host: [] for w in farm.wikis}
        self.complete: dict[str, datetime] = {}

    def read(self) -> None:
        for wiki in self.farm.wikis:
            batch = self.feed.read(wiki.host)
            assert batch.wiki == wiki.host
            assert all(change.wiki == wiki.host for change in batch.changes)
            if wiki.host in self.complete:
                assert batch.complete_until >= self.complete[wiki.host]
            self.complete[wiki.host] = batch.complete_until
            self.given[wiki.host].extend(batch.changes)

    def after(self, wiki: LocalWiki, rcid: int) -> list[RecentChange]:
        return self.after_host(wiki.host, {wiki.host: rcid})

    def after_host(self, host: str, base: dict[str, int]) -> list[RecentChange]:
        return [c for c in self.given[host] if c.rcid > base[host]]

    def until(self, done: Callable[[], bool], timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.read()
            if done():
                return
            assert time.monotonic() < deadline, "the feed did not give every change in time"
            time.sleep(0.2)

    def until_all(self, base: dict[str, int]) -> dict[str, dict[int, tuple[Any, ...]]]:
        """Read until every change the wikis made after ``base`` was given; their rows."""
        expected = {w.host: db_changes(w, base[w.host]) for w in self.farm.wikis}
        self.until(
            lambda: all(
                {c.rcid for c in self.after(w, base[w.host])} >= set(expected[w.host])
                for w in self.farm.wikis
            )
        )
        return expected


def baseline(farm: Farm) -> dict[str, int]:
    return {wiki.host: last_rcid(wiki) for wiki in farm.wikis}


def prepare(farm: Farm, tag: str) -> None:
    """The page make_changes deletes: made before the changes are counted, since deleting
    a page takes its rows out of ``recentchanges`` (the stream had given them already)."""
    farm.content.client("Eve").edit(f"Stream {tag} doomed", "Soon gone.")


def make_changes(farm: Farm, tag: str) -> None:
    """Edits, page creations, a move, a deletion and an upload, by participants and the
    admin; and an edit by the bot, which every feed leaves out."""
    content, media = farm.content, farm.media
    alice, bob = content.client("Alice"), content.client("Bob")
    alice.edit(f"Stream {tag} one", "First text.", summary="new [[Page]]")
    bob.append(f"Stream {tag} one", "\nMore text.", summary="more")
    alice.edit(f"Stream {tag} two", "Second text.")
    alice.move(f"Stream {tag} two", f"Talk:Stream {tag} moved", reason="to talk")
    content.admin_client().delete(f"Stream {tag} doomed", reason="gone")
    content.client(BOT_USERNAME).edit(f"Stream {tag} bot", "The bot's own.")
    media.client("Carol").upload(f"Stream {tag}.png", tiny_png(7), text="A file.", comment="up")
    media.client("Dave").edit(f"Stream {tag} media", "Media text.")


def edits(farm: Farm, tag: str, count: int) -> None:
    for number in range(count):
        farm.content.client(("Alice", "Bob", "Carol")[number % 3]).append(
            f"Stream {tag}", f"\nLine {number}."
        )


def assert_exactly(
    reader: Reader, base: dict[str, int], expected: dict[str, dict[int, tuple[Any, ...]]]
) -> None:
    """Each change the wikis made after ``base``, given once, with the wiki's fields."""
    for wiki in reader.farm.wikis:
        given = reader.after(wiki, base[wiki.host])
        twice = [rcid for rcid, n in Counter(c.rcid for c in given).items() if n > 1]
        assert twice == [], f"given twice on {wiki.name}"
        assert {c.rcid: fields(c) for c in given} == expected[wiki.host]


# -- against the wikis -----------------------------------------------------------------------


@pytest.mark.wiki
def test_the_stream_gives_exactly_the_changes_the_wikis_made(
    wikis: Farm, stream: EventStreamsServer
) -> None:
    feed = make_feed(stream, wikis)
    try:
        reader = Reader(feed, wikis)
        reader.read()  # the first read of each wiki polls it; the stream follows from then on
        prepare(wikis, "exact")
        base = baseline(wikis)
        polls = feed.polls
        make_changes(wikis, "exact")
        expected = reader.until_all(base)
        reader.read()  # nothing more comes
        assert_exactly(reader, base, expected)
        kinds = Counter(c.kind for host in reader.given for c in reader.after_host(host, base))
        assert kinds["new"] >= 3 and kinds["edit"] >= 1 and kinds["log"] >= 3, kinds
        logs = {
            (c.log_type, c.log_action) for h in reader.given for c in reader.after_host(h, base)
        }
        assert {("move", "move"), ("delete", "delete"), ("upload", "upload")} <= logs
        moved = [
            c for c in reader.after(wikis.content, base[wikis.content.host]) if c.log_type == "move"
        ]
        assert [(c.target_title, c.target_namespace) for c in moved] == [
            ("Talk:Stream exact moved", 1)
        ]
        assert all(c.pageid == 0 for h in reader.given for c in reader.after_host(h, base))
        assert feed.polls == polls, "the stream alone gave them"
        newest = max(c.timestamp for c in reader.after(wikis.media, base[wikis.media.host]))
        assert reader.complete[wikis.media.host] >= newest
        # The first connection asked for the stream from shortly before the feed started.
        assert stream.requests[0].last_event_id is None and "since=" in stream.requests[0].path
    finally:
        feed.close()


@pytest.mark.wiki
def test_the_stream_gives_the_same_records_as_polling(
    wikis: Farm, stream: EventStreamsServer
) -> None:
    feed = make_feed(stream, wikis)
    try:
        reader = Reader(feed, wikis)
        reader.read()
        prepare(wikis, "same")
        base = baseline(wikis)
        started = datetime.now(UTC) - timedelta(seconds=2)
        make_changes(wikis, "same")
        reader.until_all(base)
    finally:
        feed.close()
    polling = PollingFeed()
    for wiki in wikis.wikis:
        polling.positions[wiki.host] = (started, 0)
        polled = {c.rcid: c for c in polling.read(wiki.host).changes if c.rcid > base[wiki.host]}
        streamed = {c.rcid: c for c in reader.after(wiki, base[wiki.host])}
        assert set(streamed) == set(polled)
        assert all(c.pageid > 0 for c in polled.values() if c.kind != "log")
        for rcid, change in streamed.items():
            expected = replace(polled[rcid], pageid=0)
            if change.kind == "log":
                # The stream names no revision or sizes for a log action; polling gives
                # those of the revision a move or an upload made (which no figure uses).
                expected = replace(expected, revid=0, old_revid=0, old_len=0, new_len=0)
            assert change == expected


@pytest.mark.wiki
def test_a_forced_disconnect_loses_and_repeats_nothing(
    wikis: Farm, stream: EventStreamsServer
) -> None:
    # Polling only after a minute down: here the stream alone must make up for the drops.
    feed = make_feed(stream, wikis, fallback_after=60.0)
    try:
        reader = Reader(feed, wikis)
        reader.read()
        base = baseline(wikis)
        polls = feed.polls
        # Six events with one Kafka time: resuming from the id as EventStreams sends it
        # (that time + 1 ms) would skip the three after the drop.
        with stream.held():
            edits(wikis, "drop", 6)
            stream.disconnect_after(3)
        reader.until(lambda: feed.connections >= 2)
        stream.disconnect_after(4)  # mid-way through edits produced one by one
        edits(wikis, "drop", 6)
        expected = reader.until_all(base)
        reader.read()
        assert_exactly(reader, base, expected)
        assert len(expected[wikis.content.host]) == 12
        assert feed.connections >= 3 and feed.polls == polls
        resumed = [r for r in stream.requests if r.last_event_id is not None]
        assert len(resumed) >= 2 and all(r.status == 200 for r in resumed)
        for request in resumed:
            positions = json.loads(request.last_event_id or "")
            # Every partition resumed by time (the offsets of one data centre's Kafka mean
            # nothing to the other's), a little before where the stream had got to.
            assert {p["topic"] for p in positions} == {
                "eqiad.mediawiki.recentchange",
                "codfw.mediawiki.recentchange",
            }
            assert all(set(p) == {"topic", "partition", "timestamp"} for p in positions)
        # The replayed events were dropped as already given.
        assert feed.duplicates > 0
    finally:
        feed.close()


@pytest.mark.wiki
def test_while_the_stream_is_down_the_feed_polls_then_goes_back_to_the_stream(
    wikis: Farm, stream: EventStreamsServer
) -> None:
    feed = make_feed(stream, wikis, fallback_after=0.5)
    try:
        reader = Reader(feed, wikis)
        reader.read()
        base = baseline(wikis)
        edits(wikis, "before", 3)
        reader.until_all(base)
        polls = feed.polls

        stream.refuse()
        reader.until(lambda: not feed.connected)
        time.sleep(0.6)
        edits(wikis, "during", 4)
        during = reader.until_all(base)
        assert feed.polls > polls, "the changes made while the stream was down were polled"

        stream.accept()
        reader.until(lambda: feed.connected)
        polls = feed.polls
        edits(wikis, "after", 3)
        expected = reader.until_all(base)
        reader.read()
        assert feed.polls == polls, "back on the stream"
        assert_exactly(reader, base, expected)
        assert len(expected[wikis.content.host]) == 10
        # The stream resumed from before the outage: it gave again what polling had given.
        assert stream.requests[-1].last_event_id is not None
        assert feed.duplicates >= len(during[wikis.content.host]) - 3
    finally:
        feed.close()


@pytest.mark.wiki
def test_a_silent_stream_is_reconnected(wikis: Farm) -> None:
    # No canary events: nothing comes while the wikis are quiet.
    with EventStreamsServer(wikis.wikis) as quiet:
        feed = make_feed(quiet, wikis, idle_timeout=1.0, fallback_after=60.0)
        try:
            reader = Reader(feed, wikis)
            reader.read()
            base = baseline(wikis)
            reader.until(lambda: feed.connections >= 3)  # a new connection after each second
            edits(wikis, "quiet", 3)
            expected = reader.until_all(base)
            assert_exactly(reader, base, expected)
            assert all(r.status == 200 for r in quiet.requests)
        finally:
            feed.close()


@pytest.mark.wiki
def test_a_position_the_stream_refuses_is_left_for_a_resumption_by_time(
    wikis: Farm, stream: EventStreamsServer
) -> None:
    feed = make_feed(stream, wikis, fallback_after=60.0)
    try:
        reader = Reader(feed, wikis)
        reader.read()
        base = baseline(wikis)
        edits(wikis, "refused", 2)
        reader.until_all(base)
        # As if the stream had since dropped the topic the position names (white box: the
        # position is the feed's own state).
        with feed._lock:
            feed._position = json.dumps([{"topic": "gone.topic", "partition": 0, "offset": 7}])
        stream.disconnect()
        reader.until(lambda: any(r.status == 404 for r in stream.requests))
        edits(wikis, "refused", 2)
        expected = reader.until_all(base)
        reader.read()
        assert_exactly(reader, base, expected)
        refused = [i for i, r in enumerate(stream.requests) if r.status == 404]
        after = stream.requests[refused[0] + 1]
        assert after.last_event_id is None and "since=" in after.path and after.status == 200
    finally:
        feed.close()


@pytest.mark.wiki
def test_run_takes_the_covered_wikis_changes_from_the_stream(
    wikis: Farm, stream: EventStreamsServer, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    wikis.content.admin_client().edit(
        "Content Wiki:Streamed",
        "{{Program details\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={wikis.content.host}, {wikis.media.host}\n}}}}\n{{{{Participants table}}}}\n"
        f"{{{{Participant table row|username=Alice|joined={today}}}}}\n"
        "{{End of participants table}}\n",
    )
    config = tmp_path / "programs-bot.toml"
    config.write_text(
        f'[stream]\nurl = "{stream.url}"\nhosts = ["{wikis.content.host}"]\n', encoding="utf-8"
    )
    db = f"sqlite:///{tmp_path / 'run.sqlite'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--interval", "1", "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PROGRAMS_BOT_CONFIG": str(config)},
    )
    try:
        store = Store(db)

        def edits_counted() -> int:
            entry = store.schedule_entry(wikis.content.host, "Content Wiki:Streamed")
            if entry is None or not entry.live_report:
                return -1
            report = json.loads(entry.live_report)
            return int(report.get("per_participant", {}).get("Alice", {}).get("edits", 0))

        deadline = time.monotonic() + WAIT
        while edits_counted() < 0 or not stream.requests:
            assert time.monotonic() < deadline, "the scheduler did not start on the stream"
            time.sleep(0.5)
        before = edits_counted()
        wikis.content.client("Alice").edit("Streamed article", "Counted from the stream.")
        # The media wiki is not among the stream's hosts: its changes are polled.
        wikis.media.client("Alice").edit("Polled article", "Counted from polling.")
        while edits_counted() < before + 2:
            assert time.monotonic() < deadline, "the edits never reached the live report"
            time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert f"recent changes of {wikis.content.host} from {stream.url}" in output
    assert "scheduler stopped" in output
    assert all(r.status == 200 for r in stream.requests)


# -- without the wikis -----------------------------------------------------------------------

MOVE_EVENT: dict[str, Any] = {
    "$schema": "/mediawiki/recentchange/1.0.0",
    "meta": {
        "uri": "https://en.wikipedia.org/wiki/Draft:Foo",
        "id": "2cdec62f-a2b3-49b8-9a52-85a42236fb99",
        "dt": "2026-11-02T10:00:00Z",
        "domain": "en.wikipedia.org",
        "stream": "mediawiki.recentchange",
        "topic": "eqiad.mediawiki.recentchange",
        "partition": 0,
        "offset": 4000957901,
    },
    "id": 1728475074,
    "type": "log",
    "namespace": 118,
    "title": "Draft:Foo",
    "comment": "ready",
    "timestamp": 1793613600,
    "user": "Some_user",
    "bot": False,
    "log_id": 77,
    "log_type": "move",
    "log_action": "move",
    "log_params": {"target": "Foo", "noredir": "0"},
    "log_action_comment": "moved [[Draft:Foo]] to [[Foo]]: ready",
    "server_url": "https://en.wikipedia.org",
    "server_name": "en.wikipedia.org",
    "server_script_path": "/w",
    "wiki": "enwiki",
}


def test_an_event_becomes_the_record_polling_gives() -> None:
    moved = change_from_event(MOVE_EVENT)
    assert moved == RecentChange(
        wiki="en.wikipedia.org",
        rcid=1728475074,
        kind="log",
        namespace=118,
        title="Draft:Foo",
        user="Some user",
        timestamp=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
        log_type="move",
        log_action="move",
        target_title="Foo",
        comment="ready",
    )
    created = change_from_event(
        {
            **MOVE_EVENT,
            "type": "new",
            "namespace": 0,
            "title": "Foo",
            "bot": True,
            "length": {"new": 120},  # EventBus leaves out the nulls: no "old"
            "revision": {"new": 991},
        }
    )
    assert created is not None
    assert (created.kind, created.revid, created.old_revid, created.old_len, created.new_len) == (
        "new",
        991,
        0,
        0,
        120,
    )
    assert created.bot and created.log_type == "" and created.target_title == ""
    assert change_from_event({**MOVE_EVENT, "type": "categorize"}) is None
    assert change_from_event({**MOVE_EVENT, "type": "external"}) is None
    assert change_from_event(canary_event()) is None


def test_the_events_host_keeps_a_port_that_server_name_drops() -> None:
    assert event_host(MOVE_EVENT) == "en.wikipedia.org"
    local = {**MOVE_EVENT, "server_url": "http://127.0.0.1:8080", "server_name": "127.0.0.1"}
    assert event_host(local) == "127.0.0.1:8080"
    assert event_host({"meta": {"domain": "www.wikidata.org"}}) == "www.wikidata.org"
    assert event_time(canary_event()) is not None
    assert event_time(MOVE_EVENT) == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_resuming_reaches_back_before_the_position() -> None:
    last = json.dumps(
        [
            {"topic": "eqiad.mediawiki.recentchange", "partition": 0, "timestamp": 1_000_001},
            {"topic": "codfw.mediawiki.recentchange", "partition": 0, "offset": -1},
            {"topic": "other", "partition": 3, "offset": 42},
        ]
    )
    resumed = json.loads(
        resume_id(last, started_ms=500_000, opened_ms=900_000, replay=timedelta(seconds=10))
    )
    assert resumed == [
        # The id holds the last message's time + 1: back to it, and 10 s more.
        {"topic": "eqiad.mediawiki.recentchange", "partition": 0, "timestamp": 990_000},
        # "The end" when that connection opened.
        {"topic": "codfw.mediawiki.recentchange", "partition": 0, "timestamp": 890_000},
        # Nothing read from it: where the connection started.
        {"topic": "other", "partition": 3, "timestamp": 490_000},
    ]
    for bad in ("", "[]", "{}", '[{"partition": 0}]'):
        with pytest.raises(ValueError):
            resume_id(bad, started_ms=0, opened_ms=0, replay=timedelta(0))


def test_stream_settings() -> None:
    assert config_from_mapping({}).stream is None
    default = config_from_mapping({"stream": {}}).stream
    assert default is not None
    assert (default.url, default.hosts) == (WIKIMEDIA_STREAM_URL, WIKIMEDIA_DOMAINS)
    assert default.covers("en.wikipedia.org") and default.covers("www.wikidata.org")
    assert default.covers("commons.wikimedia.org") and not default.covers("wiki.example.org")
    assert not default.covers("notwikipedia.org")
    local = config_from_mapping(
        {
            "stream": {
                "url": "http://127.0.0.1:9000/v2/stream/recentchange",
                "hosts": ["127.0.0.1:8080"],
            }
        }
    ).stream
    assert (
        local is not None and local.covers("127.0.0.1:8080") and not local.covers("127.0.0.1:8081")
    )
    for bad, message in (
        ({"stream": []}, "must be a table"),
        ({"stream": {"urls": "x"}}, "unknown key 'urls'"),
        ({"stream": {"url": "stream.wikimedia.org"}}, "url must be"),
        ({"stream": {"url": 3}}, "url must be"),
        ({"stream": {"hosts": []}}, "non-empty list"),
        ({"stream": {"hosts": "wikipedia.org"}}, "non-empty list"),
        ({"stream": {"hosts": ["en wikipedia"]}}, "not a host name"),
    ):
        with pytest.raises(ConfigError, match=message):
            config_from_mapping(bad)


def test_the_composite_feed_sends_each_wiki_to_its_source() -> None:
    class Fake:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def read(self, wiki: str) -> Any:
            self.asked.append(wiki)
            return wiki

    stream = StreamFeed("http://127.0.0.1:1/v2/stream/recentchange", {"a.org"}.__contains__)
    rest = Fake()
    composite = CompositeFeed(stream, rest)
    assert composite.read("b.org") == "b.org" and rest.asked == ["b.org"]
    with pytest.raises(UnknownWikiError):  # the stream's: no Pywikibot family serves a.org
        composite.read("a.org")
    assert rest.asked == ["b.org"]
    with pytest.raises(ConfigError, match="not among the hosts"):
        stream.read("b.org")
