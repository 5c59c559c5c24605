"""The worker: writes recorded joins and leaves onto program pages, and runs requested
statistics updates. Several workers may run at once; they share work through the store.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pywikibot
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.exceptions import IsRedirectPageError, NoPageError
from pywikibot.site import APISite

from bot.autoedits import AutoEditor
from bot.botconfig import BotConfig
from bot.errors import (
    ConflictError,
    EditRefusedError,
    NotAProgramError,
    ProgramsBotError,
    StopPageError,
    UnknownWikiError,
    WikiAccessError,
)
from bot.messages import Messages
from bot.pageformat import PageFormat
from bot.refresh import Refresher
from bot.rows import BadUsernameError, add_rows, remove_rows
from bot.store import APPLIED, FAILED, JOIN, LEAVE, JoinRequest, Store
from bot.wikis import site_for_host
from bot.wikitext import detect_format, parse_program_page
from bot.writer import check_may_edit, check_stop_page, default_stop_page, save

log = logging.getLogger(__name__)

#: Re-reads after edit conflicts before a batch waits for the next round.
MAX_ATTEMPTS = 5
#: How many user links an edit summary names before "and N more".
SUMMARY_NAMES = 5
#: How long a worker may hold a page; renewed on each round.
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class RoundResult:
    """What one round of the worker did."""

    applied: int = 0
    failed: int = 0
    waiting: int = 0
    refreshed: int = 0


def _links(names: Sequence[str], messages: Messages) -> str:
    links = [f"[[User:{name}|{name}]]" for name in names]
    if len(links) <= SUMMARY_NAMES:
        return ", ".join(links)
    return messages.text(
        "summary-more", ", ".join(links[:SUMMARY_NAMES]), len(links) - SUMMARY_NAMES
    )


def join_summary(added: Sequence[str], removed: Sequence[str], messages: Messages) -> str:
    """The edit summary naming who joined and who left."""
    parts = []
    if added:
        parts.append(messages.text("summary-join", _links(added, messages)))
    if removed:
        parts.append(messages.text("summary-leave", _links(removed, messages)))
    return "; ".join(parts)


class Worker:
    """Applies waiting joins page by page, and refreshes pages someone asked to update."""

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
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
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
            self.stopping.wait(interval)

    def run_once(self) -> RoundResult:
        """One pass over every page with waiting joins, then the refresh requests."""
        totals = RoundResult()
        for wiki, title in self.store.pending_pages():
            if self.stopping.is_set():
                break
            if not self.store.claim_page(wiki, title, self.worker_id, self.clock(), LEASE):
                continue  # another worker has it
            try:
                result = self.apply_page(wiki, title)
            finally:
                self.store.release_page(wiki, title, self.worker_id)
            totals = RoundResult(
                totals.applied + result.applied,
                totals.failed + result.failed,
                totals.waiting + result.waiting,
            )
        refreshed = self.refresh_requested() if self.refreshes else 0
        return RoundResult(totals.applied, totals.failed, totals.waiting, refreshed)

    def apply_page(self, wiki: str, title: str) -> RoundResult:
        """Write every waiting join and leave of one page, in one edit when possible."""
        requests = self.store.pending_joins(wiki, title)
        # Private joins (and leaves of them) never touch the page: the store is their record.
        private = [r for r in requests if r.private or self._leaves_private(r)]
        if private:
            self.store.finish_joins([r.id for r in private], APPLIED, self.clock())
        requests = [r for r in requests if r not in private]
        ids = [r.id for r in requests]
        if not requests:
            return RoundResult(applied=len(private))
        try:
            site = self.sites(wiki)
            for _attempt in range(MAX_ATTEMPTS):
                try:
                    revid, added, removed, fmt = self._edit(site, title, requests)
                except ConflictError:
                    log.info("edit conflict on [[%s]]; reading it again", title)
                    continue
                self.store.finish_joins(ids, APPLIED, self.clock(), revid=revid)
                auto = AutoEditor(
                    site,
                    self.config.wiki(wiki),
                    fmt,
                    messages=self.messages,
                    stop_page=self.stop_page,
                )
                auto.joined(title, added)
                auto.left(title, removed)
                return RoundResult(applied=len(ids))
            raise WikiAccessError(f"{MAX_ATTEMPTS} edit conflicts in a row")
        except (UnknownWikiError, NotAProgramError, BadUsernameError) as error:
            # Nothing will change by waiting: the request fails, with the reason.
            self.store.finish_joins(ids, FAILED, self.clock(), reason=str(error))
            log.warning("joins to [[%s]] on %s failed: %s", title, wiki, error)
            return RoundResult(failed=len(ids))
        except (WikiAccessError, EditRefusedError, StopPageError) as error:
            # The wiki is down, the page says {{nobots}}, or the stop page is set: the
            # joins stay recorded and are tried again in the next round.
            self.store.note_attempt(ids, str(error), self.clock())
            log.warning("joins to [[%s]] on %s wait: %s", title, wiki, error)
            return RoundResult(waiting=len(ids))

    def _edit(
        self, site: APISite, title: str, requests: Sequence[JoinRequest]
    ) -> tuple[int, list[str], list[str], PageFormat]:
        """Read the page, add and remove rows, save against the revision read.

        Returns the revision that has the rows, who was added, who removed, and the
        page's language.
        """
        page = pywikibot.Page(site, title)
        try:
            text = page.get()
        except (NoPageError, IsRedirectPageError) as error:
            raise NotAProgramError(f"[[{title}]] is not a program: {error}") from error
        except PywikibotError as error:
            raise WikiAccessError(f"[[{title}]] cannot be read: {error}") from error
        fmt = detect_format(text)
        parse_program_page(text, fmt)
        check_may_edit(page)
        joins = [r for r in requests if r.action == JOIN]
        leaves = [r for r in requests if r.action == LEAVE and self._flow_added(r)]
        new_text, added = add_rows(
            text, [(r.username, r.created_at.date().isoformat()) for r in joins], fmt
        )
        new_text, removed = remove_rows(new_text, [r.username for r in leaves], fmt)
        if new_text == text:
            return int(page.latest_revision_id), [], [], fmt  # already as asked
        check_stop_page(site, self.stop_page or default_stop_page(site))
        summary = join_summary(added, removed, self.messages)
        return save(page, new_text, summary), added, removed, fmt

    def _leaves_private(self, request: JoinRequest) -> bool:
        """A leave whose join was private: there is no row to remove."""
        if request.action != LEAVE:
            return False
        joined = self.store.latest_join(
            request.wiki, request.title, request.username, states=[APPLIED]
        )
        return joined is not None and joined.action == JOIN and joined.private

    def _flow_added(self, leave: JoinRequest) -> bool:
        """Leaving removes only a row the Join flow added, never one an organizer wrote."""
        applied = self.store.latest_join(leave.wiki, leave.title, leave.username, states=[APPLIED])
        return applied is not None and applied.action == JOIN

    def refresh_requested(self) -> int:
        """Run the statistics updates people asked for; returns how many pages."""
        pending = self.store.pending_refresh_requests()
        pages: dict[tuple[str, str], list[int]] = {}
        for request in pending:
            pages.setdefault((request.wiki, request.title), []).append(request.id)
        refresher = Refresher(
            self.store, messages=self.messages, stop_page=self.stop_page, config=self.config
        )
        done = 0
        for (wiki, title), ids in pages.items():
            if not self.store.claim_page(wiki, title, self.worker_id, self.clock(), LEASE):
                continue
            try:
                refresher.refresh(pywikibot.Page(self.sites(wiki), title))
                done += 1
            except (WikiAccessError, StopPageError) as error:
                log.warning("refresh of [[%s]] waits: %s", title, error)
                continue  # asked again in the next round
            except ProgramsBotError as error:
                log.warning("refresh of [[%s]] failed: %s", title, error)
            finally:
                self.store.release_page(wiki, title, self.worker_id)
            self.store.finish_refresh_requests(ids, self.clock())
        return done
