"""The joins worker: writes the joins and leaves the Join API recorded onto program pages
(all waiting ones of a page in one edit), and runs the statistics updates people asked for.
Several workers may run at once; they share the work through leases in the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pywikibot
from pywikibot.site import APISite

from bot.core.errors import (
    BadUsernameError,
    EditRefusedError,
    NotAProgramError,
    ProgramsBotError,
    StopPageError,
    UnknownWikiError,
    WikiAccessError,
)
from bot.core.messages import Messages
from bot.core.pageformat import PageFormat
from bot.core.program_page import detect_format, parse_program_page
from bot.core.render import join_summary
from bot.core.rows import add_rows, remove_rows, row_text
from bot.core.settings import BotConfig
from bot.core.titles import normalize_title
from bot.jobs.autoedits import AutoEditor
from bot.jobs.leases import page_lease, process_id
from bot.jobs.refresh import Refresher, requested_pages
from bot.store import APPLIED, FAILED, JOIN, LEAVE, SUPERSEDED, JoinRequest, Store
from bot.wiki.edit import Change, Editor, Outcome, PageText
from bot.wiki.sites import site_for_host

log = logging.getLogger(__name__)

#: How long a worker may hold a page; renewed on each round.
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class RoundResult:
    """What one round of the worker did."""

    applied: int = 0
    failed: int = 0
    waiting: int = 0
    refreshed: int = 0


@dataclass(frozen=True)
class _RowChanges:
    """Who the edit adds and removes, and the page's language (for the user-page markers)."""

    added: list[str]
    removed: list[str]
    fmt: PageFormat


def _writable(request: JoinRequest) -> bool:
    try:
        row_text(request.username, request.created_at.date().isoformat())
    except BadUsernameError:
        return False
    return True


class Worker:
    """Applies waiting joins page by page, and refreshes pages someone asked to update.

    Its edits speak each page's language; ``messages`` is the operator's.
    """

    def __init__(
        self,
        store: Store,
        *,
        worker_id: str | None = None,
        messages: Messages | None = None,
        stop_page: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sites: Callable[[str], APISite] = site_for_host,
        config: BotConfig | None = None,
        refreshes: bool = True,
    ) -> None:
        self.store = store
        self.config = config or BotConfig()
        #: Whether this worker also runs requested statistics updates (the scheduler,
        #: which has its own queue for them, turns this off).
        self.refreshes = refreshes
        self.worker_id = worker_id or process_id()
        self.messages = messages or Messages()
        self.stop_page = stop_page
        self.clock = clock
        self.sites = sites
        self.stopping = threading.Event()

    def run(self, interval: float = 2.0) -> None:
        """Work in rounds until ``stopping`` is set (SIGTERM sets it in the command)."""
        while not self.stopping.is_set():
            try:
                self.run_once()
            except ProgramsBotError as error:
                log.error("round failed: %s", error)
            except Exception:  # a long-running worker must outlive one bad round
                log.exception("round failed")
            self.stopping.wait(interval)

    def run_once(self) -> RoundResult:
        """One pass over every page with waiting joins, then the refresh requests."""
        applied = failed = waiting = 0
        for wiki, title in self.store.pending_pages():
            if self.stopping.is_set():
                break
            with page_lease(self.store, wiki, title, self.worker_id, self.clock(), LEASE) as held:
                if not held:
                    continue  # another worker has it
                result = self.apply_page(wiki, title)
            applied += result.applied
            failed += result.failed
            waiting += result.waiting
        refreshed = self.refresh_requested() if self.refreshes else 0
        return RoundResult(applied, failed, waiting, refreshed)

    def apply_page(self, wiki: str, title: str) -> RoundResult:
        """Write every waiting join and leave of one page, in one edit when possible."""
        requests = self.store.pending_joins(wiki, title)
        # Private joins (and leaves of them) never touch the page: the store is their record.
        private = [r for r in requests if r.private or self._leaves_private(r)]
        if private:
            self.store.finish_joins([r.id for r in private], APPLIED, self.clock())
        requests = [r for r in requests if r not in private]
        # A name that cannot be written fails its own request, not the page's others.
        unwritable = [r for r in requests if r.action == JOIN and not _writable(r)]
        for request in unwritable:
            reason = f"{request.username!r} cannot be written into a participant row"
            self.store.finish_joins([request.id], FAILED, self.clock(), reason=reason)
            log.warning("join of %r to [[%s]] failed: %s", request.username, title, reason)
        requests = [r for r in requests if r not in unwritable]
        if not requests:
            return RoundResult(applied=len(private), failed=len(unwritable))
        result = self._apply_requests(wiki, title, requests)
        return RoundResult(
            result.applied + len(private), result.failed + len(unwritable), result.waiting
        )

    def _apply_requests(
        self, wiki: str, title: str, requests: Sequence[JoinRequest]
    ) -> RoundResult:
        ids = [r.id for r in requests]
        try:
            site = self.sites(wiki)
            editor = Editor(site, stop_page=self.stop_page)
            result = editor.edit(title, lambda read: self._rows(read, requests)).check()
        except (UnknownWikiError, NotAProgramError, BadUsernameError) as error:
            # Nothing will change by waiting: the request fails, with the reason.
            self.store.finish_joins(ids, FAILED, self.clock(), reason=str(error))
            log.warning("joins to [[%s]] on %s failed: %s", title, wiki, error)
            return RoundResult(failed=len(ids))
        except (WikiAccessError, EditRefusedError) as error:
            # The wiki is down, the page says {{nobots}}, the stop page is set, or the page
            # kept changing: the joins stay recorded and are tried again in the next round.
            self.store.note_attempt(ids, str(error), self.clock())
            log.warning("joins to [[%s]] on %s wait: %s", title, wiki, error)
            return RoundResult(waiting=len(ids))
        # Killed before this line, the requests stay recorded: the next round finds their
        # rows on the page, adds none again and marks them applied.
        revid = result.revid if result.outcome is Outcome.SAVED else result.page.revid
        self.store.finish_joins(ids, APPLIED, self.clock(), revid=revid)
        log.info("%d request(s) to [[%s]] applied in revision %s", len(ids), title, revid)
        changes = result.data
        if changes is not None:
            auto = AutoEditor(
                site,
                self.config.wiki(wiki),
                changes.fmt,
                messages=Messages(changes.fmt.lang),
                stop_page=self.stop_page,
            )
            auto.joined(title, changes.added)
            auto.left(title, changes.removed)
        return RoundResult(applied=len(ids))

    def _rows(self, read: PageText, requests: Sequence[JoinRequest]) -> Change[_RowChanges]:
        """The page with the joins' rows added and the leaves' rows removed."""
        text = read.wikitext(NotAProgramError, "a program")
        fmt = detect_format(text)
        parse_program_page(text, fmt)
        joins = [r for r in requests if r.action == JOIN]
        leaves = [r for r in requests if r.action == LEAVE and self._flow_added(r, text, fmt)]
        new_text, added = add_rows(
            text, [(r.username, r.created_at.date().isoformat()) for r in joins], fmt
        )
        new_text, removed = remove_rows(new_text, [r.username for r in leaves], fmt)
        summary = join_summary(added, removed, Messages(fmt.lang))
        return Change(new_text, summary, _RowChanges(added, removed, fmt))

    def _leaves_private(self, request: JoinRequest) -> bool:
        """A leave whose join was private: there is no row to remove."""
        if request.action != LEAVE:
            return False
        joined = self.store.latest_join(
            request.wiki, request.title, request.username, states=[APPLIED]
        )
        return joined is not None and joined.action == JOIN and joined.private

    def _flow_added(self, leave: JoinRequest, text: str, fmt: PageFormat) -> bool:
        """Leaving removes only a row the Join flow added, never one an organizer wrote.

        The flow added it when the user's newest applied request before this leave is a
        join. It also did when the join this leave superseded has its row on the page,
        with that join's date: a worker wrote the row and was killed (or lost the race
        with the leave) before it could mark the join applied.
        """
        history = self.store.join_history(leave.wiki, leave.title, leave.username)
        for request in reversed([r for r in history if r.id < leave.id]):
            if request.state == APPLIED:
                return request.action == JOIN
            if request.state == SUPERSEDED and request.action == JOIN:
                joined = request.created_at.date().isoformat()
                name = normalize_title(leave.username)
                return any(
                    normalize_title(row.username) == name and row.joined == joined
                    for row in parse_program_page(text, fmt).rows
                )
        return False

    def refresh_requested(self) -> int:
        """Run the statistics updates people asked for; returns how many pages."""
        refresher = Refresher(
            self.store, messages=self.messages, stop_page=self.stop_page, config=self.config
        )
        done = 0
        for (wiki, title), ids in requested_pages(self.store).items():
            with page_lease(self.store, wiki, title, self.worker_id, self.clock(), LEASE) as held:
                if not held:
                    continue
                try:
                    refresher.refresh(pywikibot.Page(self.sites(wiki), title))
                    done += 1
                except (WikiAccessError, StopPageError) as error:
                    log.warning("refresh of [[%s]] waits: %s", title, error)
                    continue  # asked again in the next round
                except ProgramsBotError as error:
                    log.warning("refresh of [[%s]] failed: %s", title, error)
            self.store.finish_refresh_requests(ids, self.clock())
        return done
