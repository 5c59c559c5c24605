"""The worker: writes recorded joins and leaves onto program pages, and runs requested
statistics updates. Several workers may run at once; they share work through the store.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pywikibot
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.exceptions import IsRedirectPageError, NoPageError
from pywikibot.site import APISite

from bot.core.errors import (
    ConflictError,
    EditRefusedError,
    NotAProgramError,
    ProgramsBotError,
    StopPageError,
    UnknownWikiError,
    WikiAccessError,
)
from bot.core.messages import Messages
from bot.core.pageformat import PageFormat, normalize_title
from bot.core.rows import BadUsernameError, add_rows, remove_rows, row_text
from bot.core.settings import BotConfig
from bot.core.wikitext import detect_format, parse_program_page
from bot.jobs.autoedits import AutoEditor
from bot.jobs.refresh import Refresher
from bot.store import APPLIED, FAILED, JOIN, LEAVE, SUPERSEDED, JoinRequest, Store
from bot.wiki.edit import check_may_edit, check_stop_page, default_stop_page, save
from bot.wiki.sites import site_for_host

log = logging.getLogger(__name__)

#: Re-reads after edit conflicts before a batch waits for the next round.
MAX_ATTEMPTS = 5
#: How many user links an edit summary names before "and N more".
SUMMARY_NAMES = 5
#: How long a worker may hold a page; renewed on each round.
LEASE = timedelta(minutes=2)


def process_id() -> str:
    """This process's worker id: ``host:pid:instance``, where the instance names the
    machine's boot and process namespace, so that another process of the same machine
    can tell that the holder of a lease no longer runs (see :func:`holder_is_dead`)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_instance()}"


def _instance() -> str:
    """The boot and pid namespace this process runs in; empty where /proc cannot tell."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return hashlib.sha256(f"{boot}\n{namespace}".encode()).hexdigest()[:12]


def holder_is_dead(holder: str) -> bool:
    """Whether the worker id ``holder`` names a process of this machine (same host, boot
    and pid namespace) that has ended: a worker killed and restarted takes its pages back
    at once instead of waiting for the lease to run out. Anything else (another machine,
    a test's name, a process that still runs, or a pid now used by another process)
    counts as alive, and the lease is waited for."""
    parts = holder.rsplit(":", 2)
    mine = _instance()
    if len(parts) != 3 or not mine or not parts[1].isdigit():
        return False
    host, pid_text, instance = parts
    if host != socket.gethostname() or instance != mine or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: a process of another user has that pid
        return False
    return False


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


def _writable(request: JoinRequest) -> bool:
    try:
        row_text(request.username, request.created_at.date().isoformat())
    except BadUsernameError:
        return False
    return True


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
        totals = RoundResult()
        for wiki, title in self.store.pending_pages():
            if self.stopping.is_set():
                break
            if not self.store.claim_page(
                wiki, title, self.worker_id, self.clock(), LEASE, dead=holder_is_dead
            ):
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
            for _attempt in range(MAX_ATTEMPTS):
                try:
                    revid, added, removed, fmt = self._edit(site, title, requests)
                except ConflictError:
                    log.info("edit conflict on [[%s]]; reading it again", title)
                    continue
                # Killed before this line, the requests stay recorded: the next round
                # finds their rows on the page, adds none again and marks them applied.
                self.store.finish_joins(ids, APPLIED, self.clock(), revid=revid)
                log.info("%d request(s) to [[%s]] applied in revision %s", len(ids), title, revid)
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
        leaves = [r for r in requests if r.action == LEAVE and self._flow_added(r, text, fmt)]
        new_text, added = add_rows(
            text, [(r.username, r.created_at.date().isoformat()) for r in joins], fmt
        )
        new_text, removed = remove_rows(new_text, [r.username for r in leaves], fmt)
        if new_text == text:
            return int(page.latest_revision_id), [], [], fmt  # already as asked
        check_stop_page(site, self.stop_page or default_stop_page(site))
        summary = join_summary(added, removed, self.messages)
        log.info("saving [[%s]]: %d row(s) added, %d removed", title, len(added), len(removed))
        revid = save(page, new_text, summary)
        log.info("saved [[%s]] as revision %s", title, revid)
        return revid, added, removed, fmt

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
        pending = self.store.pending_refresh_requests()
        pages: dict[tuple[str, str], list[int]] = {}
        for request in pending:
            pages.setdefault((request.wiki, request.title), []).append(request.id)
        refresher = Refresher(
            self.store, messages=self.messages, stop_page=self.stop_page, config=self.config
        )
        done = 0
        for (wiki, title), ids in pages.items():
            if not self.store.claim_page(
                wiki, title, self.worker_id, self.clock(), LEASE, dead=holder_is_dead
            ):
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
