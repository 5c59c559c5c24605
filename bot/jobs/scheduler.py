"""``programs-bot run``: one APScheduler process that keeps every program fresh.

Each cycle: write waiting joins, run the statistics updates people asked for (they jump
the queue and edit at once), apply each wiki's recent changes to the figures of every
program they concern (the requests do not grow with the number of programs), and refresh
what is due, editing a page no more often than its cadence allows. A program counting
every page is counted in full every ``full_every`` and follows the changes in between; a
scoped one is refreshed on its phase's cadence. Several such
processes may run: each page is held by one of them at a time through the store.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pywikibot
from pywikibot.site import APISite

from bot.core.cadence import (
    ENDED,
    RUNNING,
    UPCOMING,
    Cadence,
    may_edit,
    next_due,
    phase_of,
)
from bot.core.dates import format_moment
from bot.core.errors import ProgramsBotError, UnknownWikiError
from bot.core.exports import campaign_tables, live_report, program_tables
from bot.core.messages import Messages
from bot.core.settings import BotConfig
from bot.core.titles import normalize_title
from bot.jobs.campaigns import refresh_campaign
from bot.jobs.feed import FeedResult, apply_changes
from bot.jobs.joins import Worker
from bot.jobs.leases import page_lease, process_id
from bot.jobs.refresh import Refresher, requested_pages
from bot.jobs.session import KeptSession
from bot.store import ScheduleEntry, Store
from bot.wiki.changes import ChangeFeed, PollingFeed
from bot.wiki.discovery import campaign_pages, program_pages
from bot.wiki.sites import RequestCounter, host_of, site_for_host

log = logging.getLogger(__name__)

PROGRAM, CAMPAIGN = "program", "campaign"
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class CycleResult:
    """What one cycle did (for logs and tests)."""

    joins: int = 0
    requested: int = 0
    active: int = 0
    refreshed: int = 0
    edited: int = 0
    failed: int = 0


class Scheduler:
    """The refresh loop's logic; ``run_forever`` wraps it in APScheduler."""

    def __init__(
        self,
        store: Store,
        site: APISite,
        *,
        cadence: Cadence | None = None,
        config: BotConfig | None = None,
        stop_page: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        worker_id: str | None = None,
        feed: ChangeFeed | None = None,
        session: KeptSession | None = None,
    ) -> None:
        self.store = store
        self.site = site
        self.home = host_of(site)
        self.cadence = cadence or Cadence()
        self.config = config or BotConfig()
        self.stop_page = stop_page
        self.clock = clock
        self.worker_id = worker_id or process_id()
        self.messages = Messages()
        self.worker = Worker(
            store,
            worker_id=self.worker_id,
            stop_page=stop_page,
            clock=clock,
            config=self.config,
            refreshes=False,
        )
        #: Where each wiki's changes come from (it keeps its own position).
        self.feed: ChangeFeed = feed or PollingFeed(clock)
        #: Listed hosts no Pywikibot family serves (warned about once).
        self.unknown: set[str] = set()
        #: Pages someone else edited since this process last refreshed them: their figures
        #: may be written at once (an organizer who fixed a date sees the result), whatever
        #: the edit cadence says.
        self.changed: set[tuple[str, str]] = set()
        #: The Pywikibot session kept in the store after each cycle (a login, a cache
        #: entry), for processes starting in a fresh Pywikibot directory.
        self.session = session

    # -- discovery -----------------------------------------------------------------------

    def discover(self) -> int:
        """Add every page using {{Program details}} or {{Campaign details}} on the home
        wiki and on every wiki of the bot's settings; returns how many are new."""
        now = self.clock()
        added = 0
        homes = {self.home: self.site}
        for host in self.config.wikis:
            try:
                homes.setdefault(host, site_for_host(host))
            except ProgramsBotError as error:
                log.warning("cannot discover programs on %s: %s", host, error)
        for host, site in homes.items():
            for page in program_pages(site):
                added += self.store.add_to_schedule(host, page.title(), PROGRAM, RUNNING, now)
            for page in campaign_pages(site):
                added += self.store.add_to_schedule(host, page.title(), CAMPAIGN, ENDED, now)
        log.info("discovery: %d new program or campaign page(s)", added)
        return added

    # -- one cycle -----------------------------------------------------------------------

    def cycle(self) -> CycleResult:
        """Joins, requested updates, activity, then whatever is due."""
        joins = self.worker.run_once()
        requested = self._requested()
        active = self.watch_activity()
        refreshed = edited = failed = 0
        for entry in self._due_now():
            outcome = self.refresh_entry(entry, manual=False)
            refreshed += outcome is not None
            edited += bool(outcome)
            failed += outcome is None
        if self.session is not None:
            self.session.keep()
        return CycleResult(joins.applied, requested, active, refreshed, edited, failed)

    def _due(self, entry: ScheduleEntry, now: datetime) -> bool:
        """Due by its cadence, or holding figures the page may now be edited with."""
        waiting_edit = entry.edit_pending and may_edit(
            entry.last_page_edit, now, self.cadence, manual=False
        )
        return entry.next_due <= now or waiting_edit

    def _due_now(self) -> list[ScheduleEntry]:
        now = self.clock()
        due = {(e.wiki, e.title): e for e in self.store.due_entries(now)}
        for entry in self.store.schedule_entries():
            if self._due(entry, now):
                due.setdefault((entry.wiki, entry.title), entry)
        # Campaigns last: their tables are made of what the programs' refreshes counted.
        return sorted(due.values(), key=lambda e: e.kind == CAMPAIGN)

    def _requested(self) -> int:
        """Updates asked for through the API: refresh now and edit at once."""
        done = 0
        for (wiki, title), ids in requested_pages(self.store).items():
            self.store.add_to_schedule(wiki, title, PROGRAM, RUNNING, self.clock())
            entry = self.store.schedule_entry(wiki, title)
            if entry is None or self.refresh_entry(entry, manual=True) is None:
                continue  # left for the next cycle
            self.store.finish_refresh_requests(ids, self.clock())
            done += 1
        return done

    def watch_activity(self) -> int:
        """Read each watched wiki's changes once and apply them: pages someone changed are
        brought forward, in any phase (an organizer fixing a date makes a program with
        unusable dates count again); the participants' edits, uploads and the page moves
        and deletions go straight into the figures of every running program they concern
        (bot.jobs.feed), whose page is then edited when its cadence allows.

        One read of the feed per wiki per cycle (one ``list=recentchanges`` request when
        polling) and one batched page-state read cover every program on it.
        """
        now = self.clock()
        by_wiki: dict[str, list[ScheduleEntry]] = {}
        for entry in self.store.schedule_entries():
            for wiki in {entry.wiki, *(entry.wikis if _active(entry) else ())}:
                by_wiki.setdefault(wiki, []).append(entry)
        brought = 0
        for wiki, watching in by_wiki.items():
            try:
                batch = self.feed.read(wiki)
            except UnknownWikiError as error:
                # A configuration problem: said once, not on every cycle.
                if wiki not in self.unknown:
                    self.unknown.add(wiki)
                    log.warning("recent changes of %s not watched: %s", wiki, error)
                continue
            except ProgramsBotError as error:
                log.warning("recent changes of %s unavailable: %s", wiki, error)
                # Without the feed, its programs fall back to their phase's cadence.
                for entry in watching:
                    last = entry.last_refreshed
                    if _active(entry) and (last is None or now - last >= self.cadence.running):
                        brought += self.store.make_due(entry.wiki, [entry.title], now)
                continue
            due: set[str] = set()
            feedable = []
            for entry in watching:
                if wiki == entry.wiki and entry.title in batch.titles:
                    # Someone edited the page itself: read it again, and its figures may
                    # be written at once.
                    self.changed.add((entry.wiki, entry.title))
                    due.add(entry.title)
                elif _active(entry) and entry.kind == PROGRAM:
                    feedable.append(entry)
            try:
                fed = apply_changes(self.store, site_for_host(wiki), batch, feedable, now)
            except ProgramsBotError as error:
                log.warning("changes of %s not applied: %s", wiki, error)
                users = batch.users
                fed = FeedResult(
                    refresh=frozenset(
                        e.title
                        for e in feedable
                        if users & set(map(normalize_title, e.participants))
                    )
                )
            due |= fed.refresh
            brought += len(fed.updated)
            for title in due:
                brought += self._make_due_on(wiki, title, watching, now)
        return brought

    def _make_due_on(
        self, wiki: str, title: str, watching: list[ScheduleEntry], now: datetime
    ) -> int:
        """Bring forward the watched page ``title`` (its own wiki may differ from ``wiki``)."""
        for entry in watching:
            if entry.title == title:
                return self.store.make_due(entry.wiki, [title], now)
        return 0

    def refresh_entry(self, entry: ScheduleEntry, *, manual: bool) -> bool | None:
        """Refresh one page; True if it was edited, False if not, None if it failed."""
        now = self.clock()
        with page_lease(self.store, entry.wiki, entry.title, self.worker_id, now, LEASE) as held:
            if not held:
                return False  # another process has it
            return self._refresh_held(entry, now, manual=manual)

    def _refresh_held(self, entry: ScheduleEntry, now: datetime, *, manual: bool) -> bool | None:
        started = time.monotonic()
        try:
            current = self.store.schedule_entry(entry.wiki, entry.title)
            if current is None or (not manual and not self._due(current, now)):
                return False  # another process refreshed it since we looked
            entry = current
            if entry.kind == CAMPAIGN:
                return self._refresh_campaign(entry, now, started)
            site = site_for_host(entry.wiki)
            full = (
                manual
                or entry.last_full is None
                or (now - entry.last_full >= self.cadence.full_every)
            )
            changed = (entry.wiki, entry.title) in self.changed
            edit = may_edit(entry.last_page_edit, now, self.cadence, manual or changed)
            self.changed.discard((entry.wiki, entry.title))
            refresher = Refresher(
                self.store,
                messages=self.messages,
                stop_page=self.stop_page,
                clock=self.clock,
                config=self.config,
            )
            with RequestCounter() as counter:
                result = refresher.refresh(pywikibot.Page(site, entry.title), full=full, edit=edit)
            program = result.program
            assert program is not None  # a refresh that returns has read its program
            window = program.details.window
            phase = phase_of(window, now)
            private = list(result.private)
            # A program counting every page follows the change feed between full counts;
            # a scoped one is refreshed on its phase's cadence.
            # Participants from an Event Registration or a hashtag change outside the
            # page: such programs are counted by refreshes, not fed.
            fed = program.details.scope.is_everything and not program.details.has_sources
            feed_key = result.key if fed else None
            cadence = self.cadence
            if feed_key is not None:
                cadence = replace(cadence, running=cadence.full_every)
            self.store.update_schedule(
                entry.wiki,
                entry.title,
                phase=phase,
                next_due=next_due(phase, now, cadence, window),
                last_refreshed=now,
                feed_key=feed_key,
                **({"last_full": now} if full else {}),
                last_duration_ms=int((time.monotonic() - started) * 1000),
                last_requests=counter.count,
                last_error=None,
                edit_pending=result.deferred,
                wikis=program.details.wikis,
                participants=program.listed,
                window_start=window.start if window else None,
                window_end=window.end if window else None,
                live_report=live_report(
                    result.outcomes,
                    now,
                    private,
                    program_tables(result.outcomes, result.records, window, result.extras, private)
                    if result.outcomes is not None and window is not None
                    else None,
                ),
                live_at=now,
                **({"last_page_edit": now} if result.saved_revid is not None else {}),
            )
            log.info(
                "%s: %s%s, %d requests",
                entry.title,
                "saved" if result.saved_revid else "deferred" if result.deferred else "unchanged",
                " (full)" if full else "",
                counter.count,
            )
            return result.saved_revid is not None
        except ProgramsBotError as error:
            # One program's failure never stops the others: note it and move on.
            log.warning("%s: %s", entry.title, error)
            self.store.update_schedule(
                entry.wiki,
                entry.title,
                last_error=f"{format_moment(now)}: {error}",
                next_due=now + min(self.cadence.interval(entry.phase), timedelta(minutes=15)),
                last_duration_ms=int((time.monotonic() - started) * 1000),
            )
            return None

    def _refresh_campaign(self, entry: ScheduleEntry, now: datetime, started: float) -> bool:
        """A campaign's table: hourly, from what its programs' refreshes counted."""
        with RequestCounter() as counter:
            result = refresh_campaign(
                site_for_host(entry.wiki),
                entry.title,
                self.store,
                messages=self.messages,
                stop_page=self.stop_page,
                clock=self.clock,
            )
        tables = campaign_tables(result.outcomes, result.programs)
        report = json.dumps({"computed": format_moment(now), "tables": tables})
        self.store.update_schedule(
            entry.wiki,
            entry.title,
            phase=ENDED,
            live_report=report,
            live_at=now,
            next_due=now + self.cadence.ended,
            last_refreshed=now,
            last_duration_ms=int((time.monotonic() - started) * 1000),
            last_requests=counter.count,
            last_error=None,
            **({"last_page_edit": now} if result.saved_revid is not None else {}),
        )
        return result.saved_revid is not None

    # -- the process -----------------------------------------------------------------------

    def run_forever(self, interval: float = 30.0, discover_every: float = 600.0) -> None:
        """Run the cycle every ``interval`` s and discovery every ``discover_every`` s,
        each never twice at once, until SIGTERM (or Ctrl-C)."""
        import signal

        from apscheduler.schedulers.blocking import BlockingScheduler

        scheduler = BlockingScheduler(timezone="UTC")

        def stop(*_: object) -> None:
            log.info("stopping after the running job")
            self.worker.stopping.set()
            if scheduler.running:  # a second SIGTERM, or one before the start, finds none
                scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        # Discovery first, so that the first cycle already refreshes the pages it finds.
        self._safe(self.discover)()
        if self.worker.stopping.is_set():
            return
        common = {"max_instances": 1, "coalesce": True}
        now = datetime.now(UTC)
        scheduler.add_job(
            self._safe(self.discover),
            "interval",
            seconds=discover_every,
            next_run_time=now + timedelta(seconds=discover_every),
            name="discovery",
            **common,
        )
        scheduler.add_job(
            self._safe(self.cycle),
            "interval",
            seconds=interval,
            next_run_time=now,
            name="cycle",
            **common,
        )
        try:
            scheduler.start()
        except KeyboardInterrupt:
            stop()

    @staticmethod
    def _safe(job: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            except Exception:  # a job that raises must not end the process
                log.exception("job %s failed", getattr(job, "__name__", job))

        return run


def _active(entry: ScheduleEntry) -> bool:
    """Whether participants' edits matter now: the program runs or is about to."""
    return entry.phase in (RUNNING, UPCOMING)
