"""Every covered wiki's changes from one EventStreams ``recentchange`` connection.

Wikimedia publishes the recent changes of all its public wikis as one Server-Sent Events
stream (https://stream.wikimedia.org/v2/stream/recentchange): one connection instead of a
``list=recentchanges`` request per wiki per cycle. StreamFeed reads it in a background
thread through Pywikibot's EventStreams (requests-sse underneath) into a buffer per watched
wiki; ``read(wiki)`` drains that buffer into the records polling gives (bot.core.changes).

Resuming. Every event carries an SSE ``id``: the JSON list of the stream's Kafka positions,
``[{"topic": ..., "partition": 0, "timestamp": T}, ...]``, T being the last message's Kafka
time + 1 ms (EventStreams gives times, not offsets, so that both data centres' Kafka
clusters understand them), or ``"offset": N`` for a partition nothing was read from yet (-1:
its end when the connection opened). Sent back as ``Last-Event-ID`` it resumes there. Taken
as it is, it skips the messages stamped with the last one's millisecond (or a little
earlier: producers stamp them) and, for ``offset: -1``, whatever that partition got while
disconnected; so the feed asks for REPLAY earlier (for ``offset: -1``, from when that
connection opened) and drops what it has already: a wiki's changes are told apart by rcid.

Falling back. When the stream cannot be reached, or sends nothing (no change, no canary
event) for ``idle_timeout``, the feed reconnects; once it has been down for
``fallback_after``, ``read(wiki)`` polls the wiki (PollingFeed) from where that wiki's
changes are complete, and the stream, once back, resumes from its last position. Both are
told apart by rcid, so no change is lost or given twice.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pywikibot
from pywikibot.comms.eventstreams import EventStreams
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.site import APISite

from bot.core.changes import ChangeBatch, RecentChange
from bot.core.dates import format_moment
from bot.core.errors import ConfigError
from bot.core.stream_events import change_from_event, event_time, resume_id
from bot.core.titles import normalize_title
from bot.wiki.changes import OVERLAP, START_BACK, ChangeFeed, PollingFeed
from bot.wiki.sites import site_for_host

log = logging.getLogger(__name__)

#: How far before its position the stream is resumed (see the module's docstring).
REPLAY = timedelta(seconds=10)
#: Changes of every covered wiki are kept this long, so that a wiki read for the first time
#: gets those its first poll may not see yet.
RING = OVERLAP
#: How long a wiki's change ids are remembered: past its complete point and the stream's
#: position, by more than any poll reaches back or any resumption replays.
KEEP = START_BACK
#: A wiki not read for this long is forgotten but for where its changes are complete.
FORGET = timedelta(hours=1)

_EARLIEST = datetime.min.replace(tzinfo=UTC)
Key = int | tuple[str, str]


class _Dropped(Exception):
    """Raised from requests-sse's error callback: the connection failed or ended, and the
    feed (not requests-sse, which would resume from the id as it is) reconnects."""


def _key(change: RecentChange, event_id: Any = None) -> Key:
    return change.rcid if change.rcid > 0 else ("event", str(event_id))


@dataclass
class _Wiki:
    """What the feed holds for one watched wiki."""

    site: APISite
    bot_user: str
    complete_until: datetime = _EARLIEST
    buffer: list[RecentChange] = field(default_factory=list)
    #: Change ids given or buffered, with the change's time (to forget them later).
    seen: dict[Key, datetime] = field(default_factory=dict)
    last_read: float = 0.0

    def note(self, key: Key, change: RecentChange) -> bool:
        """Remember ``change``; False if it was given or buffered already."""
        if key in self.seen:
            return False
        self.seen[key] = change.timestamp
        return True

    def add(self, key: Key, change: RecentChange) -> bool:
        """Buffer ``change`` unless it was given or buffered already."""
        if not self.note(key, change):
            return False
        self.buffer.append(change)
        return True


class StreamFeed:
    """A ChangeFeed for the hosts ``covers`` accepts, from one EventStreams connection.

    ``start()`` opens the stream in a daemon thread and ``close()`` ends it. The first read
    of a wiki polls it (the stream gives only what comes from then on), later reads drain
    what the stream gave, or poll while the stream is down (see the module's docstring).
    """

    def __init__(
        self,
        url: str,
        covers: Callable[[str], bool],
        *,
        site: APISite | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        polling: PollingFeed | None = None,
        idle_timeout: float = 60.0,
        connect_timeout: float = 10.0,
        fallback_after: float = 30.0,
        retry: float = 1.0,
        max_retry: float = 60.0,
        replay: timedelta = REPLAY,
    ) -> None:
        self.url = url
        self.covers = covers
        #: Names the bot in the User-Agent header (Wikimedia's policy asks for a contact).
        self.site = site
        self.clock = clock
        self.polling = polling or PollingFeed(clock)
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.fallback_after = fallback_after
        self.retry = retry
        self.max_retry = max_retry
        self.replay = replay
        #: Counters for logs, tests and benchmarks.
        self.connections = 0
        self.events = 0
        self.polls = 0
        self.duplicates = 0

        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream: EventStreams | None = None
        self._wikis: dict[str, _Wiki] = {}
        #: Where the changes of forgotten wikis are complete (their next poll starts there).
        self._forgotten: dict[str, datetime] = {}
        self._ring: deque[tuple[float, Key, RecentChange]] = deque()
        self._since = clock() - OVERLAP
        self._connected = False
        self._down_since = time.monotonic()
        self._polling_announced = False
        #: The newest moment the stream has shown (a change's time or a canary's).
        self._watermark: datetime | None = None
        #: The id of the last event taken, and the start and opening times (Unix ms) of
        #: the connection that sent it.
        self._position: str | None = None
        self._position_times = (0, 0)
        self._started_ms = 0
        self._opened_ms = 0
        self._opened = False
        self._pending_id = ""
        self._status = 0

    # -- the reader's side -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._connected

    def read(self, wiki: str) -> ChangeBatch:
        """The changes of ``wiki`` since the last read, complete until the newest moment
        the stream has shown (a change's time, or a canary event's) or, after a poll, until
        that poll; the same optimism as polling's: a change saved before that moment but
        published after it comes in a later batch."""
        host = wiki.strip().lower()
        if not self.covers(host):
            raise ConfigError(f"{host} is not among the hosts of the stream")
        with self._lock:
            state = self._wikis.get(host)
            stream_ok = self._stream_ok()
        if state is None:
            state, polled = self._first_read(host)
        elif stream_ok:
            polled = None
        else:
            polled = self._poll(host, state.complete_until)
        with self._lock:
            changes, state.buffer = state.buffer, []
            complete = state.complete_until
            if polled is not None:
                for change in polled.changes:
                    if state.note(change.rcid, change):
                        changes.append(change)
                    else:
                        self.duplicates += 1
                complete = max(complete, polled.complete_until)
            if stream_ok and self._watermark is not None:
                complete = max(complete, self._watermark)
            state.complete_until = complete
            state.last_read = time.monotonic()
            self._forget(state)
        return ChangeBatch(wiki, tuple(self._finish(state, changes)), complete)

    def _first_read(self, wiki: str) -> tuple[_Wiki, ChangeBatch]:
        """Watch ``wiki`` from now on and poll what came before (from where its changes
        were complete when it was forgotten, else START_BACK ago)."""
        site = site_for_host(wiki)
        state = _Wiki(site, normalize_title(str(site.username() or "")), last_read=time.monotonic())
        with self._lock:
            since = self._forgotten.get(wiki)
            self._wikis[wiki] = state
            # Changes the stream gave just before: the poll may not see them yet.
            for _, key, change in self._ring:
                if change.wiki == wiki:
                    state.add(key, change)
        try:
            polled = self._poll(wiki, since)
        except Exception:
            with self._lock:
                self._wikis.pop(wiki, None)
            raise
        with self._lock:
            self._forgotten.pop(wiki, None)
        return state, polled

    def _poll(self, wiki: str, since: datetime | None) -> ChangeBatch:
        """One PollingFeed read from ``since`` (it reaches OVERLAP further back), every
        change id taken: which of them were given already is told here, by rcid."""
        if since is None:
            self.polling.positions.pop(wiki, None)
        else:
            self.polling.positions[wiki] = (since, 0)
        with self._lock:
            self.polls += 1
        return self.polling.read(wiki)

    def _finish(self, state: _Wiki, changes: list[RecentChange]) -> list[RecentChange]:
        """Oldest first; the bot's own changes left out (as polling's rcexcludeuser does);
        a move's target namespace read from its title with the wiki's namespaces."""
        done = []
        for change in sorted(changes, key=lambda c: (c.timestamp, c.rcid)):
            if state.bot_user and change.user == state.bot_user:
                continue
            if change.target_title:
                change = replace(change, target_namespace=_namespace(state.site, change))
            done.append(change)
        return done

    def _forget(self, state: _Wiki) -> None:
        """Forget the old change ids of ``state``'s wiki, and every wiki nobody reads any
        more (but where its changes are complete)."""
        position = min(state.complete_until, self._watermark or state.complete_until)
        cutoff = position - KEEP
        state.seen = {key: moment for key, moment in state.seen.items() if moment >= cutoff}
        idle = time.monotonic() - FORGET.total_seconds()
        for name, other in list(self._wikis.items()):
            if other.last_read < idle:
                self._forgotten[name] = other.complete_until
                del self._wikis[name]

    def _stream_ok(self) -> bool:
        """Whether reads may rely on the stream (under the lock)."""
        if self._connected or time.monotonic() - self._down_since < self.fallback_after:
            if self._polling_announced:
                self._polling_announced = False
            return True
        if not self._polling_announced:
            self._polling_announced = True
            log.warning(
                "EventStreams down for %.0f s: polling the covered wikis until it is back",
                time.monotonic() - self._down_since,
            )
        return False

    # -- the stream's side -----------------------------------------------------------------

    def start(self) -> StreamFeed:
        """Open the stream in a daemon thread (harmless when already started)."""
        if self._thread is None:
            self._stopping.clear()
            with self._lock:
                if not self._connected:
                    self._down_since = time.monotonic()
            self._thread = threading.Thread(target=self._follow, name="eventstreams", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """End the stream's thread (reads poll from then on)."""
        self._stopping.set()
        self._close_source()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=self.connect_timeout + 5)
        with self._lock:
            self._went_down()

    def _follow(self) -> None:
        delay = self.retry
        while not self._stopping.is_set():
            self._opened = False
            self._status = 0
            try:
                self._listen()
            except _Dropped:
                self._dropped()
            except Exception as error:  # the thread must outlive any failure of one connection
                if not self._stopping.is_set():  # else closing the connection caused it
                    log.warning("EventStreams: %s: %s", type(error).__name__, error)
            finally:
                self._close_source()
                with self._lock:
                    self._went_down()
            if self._opened:
                delay = self.retry
            if self._stopping.wait(delay):
                break
            if not self._opened:
                delay = min(delay * 2, self.max_retry)

    def _dropped(self) -> None:
        """Say why the connection ended (requests-sse's callback does not)."""
        if self._stopping.is_set():
            return
        if self._opened:
            log.info("EventStreams: connection lost, resuming")
        elif self._status >= 400:
            log.warning("EventStreams: %s answered %d", self.url, self._status)
            if self._status < 500:
                # It refuses the position (a topic it no longer has, say): resume by time
                # from what it showed last.
                with self._lock:
                    self._position = None
        else:
            log.info("EventStreams: cannot connect to %s", self.url)

    def _listen(self) -> None:
        """One connection, from the last position (or from the start), until it ends."""
        with self._lock:
            position, (started_ms, opened_ms) = self._position, self._position_times
            watermark = self._watermark
        resume = None
        if position is not None:
            try:
                resume = resume_id(
                    position, started_ms=started_ms, opened_ms=opened_ms, replay=self.replay
                )
            except (ValueError, TypeError, KeyError) as error:
                log.warning("EventStreams: cannot resume from %r (%s)", position, error)
        if resume is not None:
            self._started_ms = min(entry["timestamp"] for entry in json.loads(resume))
            url = self.url
        else:
            since = watermark - self.replay if watermark is not None else self._since
            self._started_ms = int(since.timestamp() * 1000)
            url = f"{self.url}{'&' if '?' in self.url else '?'}since={format_moment(since)}"

        def answered(response: Any, *args: Any, **kwargs: Any) -> Any:
            self._status = int(response.status_code)
            return response

        options: dict[str, Any] = {
            "url": url,
            "site": self.site,
            "canary": True,  # the stream's own heartbeat: it moves the watermark
            "timeout": (self.connect_timeout, self.idle_timeout),
            "on_open": self._on_open,
            "on_message": self._on_message,
            "on_error": self._on_error,
            # A function, not a bound method: requests-sse deep-copies these options.
            "hooks": {"response": answered},
        }
        if resume is not None:
            options["latest_event_id"] = resume  # requests-sse's name for Last-Event-ID
        stream = self._stream = EventStreams(**options)
        for event in stream:
            if self._stopping.is_set():
                return
            self._take(event)

    def _on_open(self) -> None:
        with self._lock:
            self._connected = True
            self._opened = True
            self._opened_ms = int(time.time() * 1000)
            self.connections += 1
        log.info("EventStreams: connected to %s", self.url)

    def _on_message(self, message: Any) -> None:
        # Called by requests-sse just before Pywikibot parses the event it yields next.
        self._pending_id = str(message.last_event_id or "")

    def _on_error(self) -> None:
        raise _Dropped()

    def _went_down(self) -> None:
        """The connection ended or failed (under the lock)."""
        if self._connected:
            self._connected = False
            self._down_since = time.monotonic()

    def _close_source(self) -> None:
        source = getattr(self._stream, "source", None)
        if source is not None:
            try:
                source.close()
            except Exception as error:  # closing from another thread may race the reader
                log.debug("EventStreams: closing: %s", error)

    def _take(self, event: Mapping[str, Any]) -> None:
        """Buffer one event's change for its wiki (if watched) and move the position."""
        moment = event_time(event)
        meta = event.get("meta")
        meta = meta if isinstance(meta, Mapping) else {}
        change = None if meta.get("domain") == "canary" else change_from_event(event)
        now = time.monotonic()
        with self._lock:
            self.events += 1
            if self._pending_id:
                self._position = self._pending_id
                self._position_times = (self._started_ms, self._opened_ms)
            if moment is not None and (self._watermark is None or moment > self._watermark):
                self._watermark = moment
            if change is None or not self.covers(change.wiki):
                return
            key = _key(change, meta.get("id"))
            self._ring.append((now, key, change))
            while self._ring and self._ring[0][0] < now - RING.total_seconds():
                self._ring.popleft()
            state = self._wikis.get(change.wiki)
            if state is not None and not state.add(key, change):
                self.duplicates += 1


def _namespace(site: APISite, change: RecentChange) -> int:
    """The namespace of a move's target, from its title and the wiki's namespaces."""
    try:
        return int(pywikibot.Page(site, change.target_title).namespace().id)
    except (PywikibotError, ValueError) as error:
        log.warning("%s: cannot read the namespace of %r: %s", change.wiki, change.title, error)
        return 0


class CompositeFeed:
    """The stream for the hosts it covers, another feed (polling) for the rest."""

    def __init__(self, stream: StreamFeed, rest: ChangeFeed) -> None:
        self.stream = stream
        self.rest = rest

    def read(self, wiki: str) -> ChangeBatch:
        if self.stream.covers(wiki.strip().lower()):
            return self.stream.read(wiki)
        return self.rest.read(wiki)
