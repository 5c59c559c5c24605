"""One refresh of one program page: read, fetch, compute, render, save safely."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pywikibot
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.exceptions import IsRedirectPageError, NoPageError
from pywikibot.site import APISite

from bot.core.contributions import WikiRecords
from bot.core.dates import format_moment
from bot.core.errors import (
    ConflictError,
    EditRefusedError,
    NotAProgramError,
    UnknownWikiError,
    WikiAccessError,
)
from bot.core.extras import EXTRA_FIELDS, Extras, compute_extras
from bot.core.messages import Messages
from bot.core.metrics import Outcomes, compute_outcomes
from bot.core.model import Notice, ProgramDetails, ProgramPage
from bot.core.pageformat import PageFormat
from bot.core.render import edit_summary, page_update
from bot.core.settings import BotConfig
from bot.core.wikitext import (
    current_outcomes_param,
    detect_format,
    parse_program_page,
    render_program_page,
)
from bot.jobs.autoedits import AutoEditor
from bot.store import FetchMark, Store
from bot.wiki.edit import check_may_edit, check_stop_page, default_stop_page, save, show_diff
from bot.wiki.fetch import check_users, fetch_wiki
from bot.wiki.sites import host_of, site_for_host

log = logging.getLogger(__name__)

#: How often a refresh re-reads and re-applies after an edit conflict before giving up.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did to one page."""

    title: str
    old_text: str
    new_text: str
    saved_revid: int | None
    simulated: bool
    notices: tuple[Notice, ...]
    outcomes: Outcomes | None
    attempts: int
    #: The figures changed but the page was left for a later edit (the edit cadence).
    deferred: bool = False
    #: What the figures were computed from (for reports).
    records: tuple[WikiRecords, ...] = ()
    extras: Extras | None = None

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text


@dataclass(frozen=True)
class Computation:
    """Figures and notices for one program, and what to remember for the next refresh."""

    outcomes: Outcomes | None
    notices: tuple[Notice, ...]
    records: tuple[WikiRecords, ...]
    #: Per wiki: when its fetch started, for what, and what it found (for the next one).
    marks: tuple[tuple[str, FetchMark], ...] = ()
    #: The extra figures (full refreshes only; None: keep what the page has).
    extras: Extras | None = None


def fingerprint(users: Iterable[str], details: ProgramDetails) -> str:
    """What an incremental fetch depends on (the listed names, the window, the scope);
    when it changes, the next fetch is full."""
    parts = [*sorted(users), repr(details.window), repr(details.scope)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def participants_of(program: ProgramPage) -> list[str]:
    """Listed participants, then facilitators when the program counts them, each once."""
    names = [row.username for row in program.rows]
    if program.details.count_facilitators:
        names += [name for name in program.details.facilitators if name not in names]
    return names


class Refresher:
    """Refreshes program pages; one instance serves a whole run."""

    def __init__(
        self,
        store: Store,
        *,
        messages: Messages | None = None,
        stop_page: str | None = None,
        simulate: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        config: BotConfig | None = None,
    ) -> None:
        self.store = store
        self.config = config or BotConfig()
        self.messages = messages or Messages()
        self.stop_page = stop_page
        self.simulate = simulate
        self.clock = clock

    def compute(
        self,
        program: ProgramPage,
        key: str,
        *,
        full: bool = True,
        private: Iterable[str] = (),
    ) -> Computation:
        """Fetch every listed wiki and compute the figures (pure metrics at the end).

        With ``full`` False, a wiki fetched before for the same participants, window and
        scope is only asked what happened since (see fetch_wiki).
        """
        notices = list(program.notices)
        details = program.details
        if details.window is None:
            return Computation(None, tuple(notices), ())
        listed = participants_of(program)
        # Private participants count in the totals only: they have no row to write.
        listed += [name for name in private if name not in listed]
        exists_somewhere: set[str] = set()
        invalid: set[str] = set()
        records = []
        marks = []
        sites: dict[str, APISite] = {}
        for host in details.wikis:
            try:
                site = site_for_host(host)
                sites[host_of(site)] = site
            except UnknownWikiError as error:
                log.warning("%s", error)
                notices.append(Notice("unknown-wiki", (host,)))
                continue
            started = datetime.now(UTC)
            wiki = host_of(site)
            fprint = fingerprint(listed, details)
            mark = None if full else self.store.fetch_mark(key, wiki)
            since = None
            if mark is not None and mark.fingerprint == fprint:
                # Same names, window and scope as last time: the accounts found then
                # still hold (a new account is found by the next full recount).
                since, existing, bad = mark.fetched_until, mark.existing, mark.invalid
            else:
                users = check_users(site, listed)
                existing, bad = users.existing, users.invalid
            exists_somewhere |= existing
            invalid |= bad
            remembered, remembered_pages = self.store.remembered(key, wiki)
            records.append(
                fetch_wiki(
                    site,
                    existing,
                    details.window,
                    details.scope,
                    remembered,
                    remembered_pages,
                    since=since,
                    remembered_uploads=self.store.remembered_uploads(key, wiki) if since else (),
                )
            )
            marks.append((wiki, FetchMark(started, fprint, existing, bad)))
        if records:
            for name in participants_of(program):  # never name a private participant
                if name in invalid:
                    notices.append(Notice("invalid-user", (name,)))
                elif name not in exists_somewhere:
                    notices.append(Notice("unknown-user", (name,)))
            counted = [name for name in listed if name in exists_somewhere]
        else:
            counted = listed
        outcomes = compute_outcomes(counted, details.window, records)
        extras = None
        if full and sites:
            extras = compute_extras(
                sites,
                outcomes,
                records,
                details.window,
                datetime.now(UTC),
                pageview_urls={h: self.config.wiki(h).pageviews_url for h in sites},
            )
        return Computation(outcomes, tuple(notices), tuple(records), tuple(marks), extras)

    def refresh(
        self, page: pywikibot.Page, *, full: bool = True, edit: bool = True
    ) -> RefreshResult:
        """Refresh one program page, re-reading and re-applying on edit conflicts.

        ``full`` False fetches only what changed since the last refresh. ``edit`` False
        computes and remembers the figures (the live report) but leaves the page as it
        is: the scheduler's polite edit cadence.
        """
        site = page.site
        log.info("refreshing [[%s]] (%s)", page.title(), "full" if full else "incremental")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            page = pywikibot.Page(site, page.title())
            try:
                text = page.get()
            except (NoPageError, IsRedirectPageError) as error:
                raise NotAProgramError(f"[[{page.title()}]] is not a program: {error}") from error
            except PywikibotError as error:
                raise WikiAccessError(f"[[{page.title()}]] cannot be read: {error}") from error
            program = parse_program_page(text)
            check_may_edit(page)
            key = f"{host_of(site)}#{page.pageid}"
            private = self.store.private_participants(host_of(site), page.title())
            computation = self.compute(program, key, full=full, private=private)
            new_text = self._render(text, program, computation)
            result = RefreshResult(
                page.title(),
                text,
                new_text,
                None,
                self.simulate,
                computation.notices,
                computation.outcomes,
                attempt,
                records=computation.records,
                extras=computation.extras,
            )
            if not result.changed:
                self._remember(key, computation)
                return result
            if not edit:
                self._remember(key, computation)
                return replace(result, deferred=True)
            show_diff(text, new_text)
            if self.simulate:
                return result
            check_stop_page(site, self.stop_page or default_stop_page(site))
            summary = edit_summary(computation.outcomes, computation.notices, self.messages)
            log.info("saving [[%s]] against revision %s", page.title(), page.latest_revision_id)
            try:
                revid = save(page, new_text, summary)
            except ConflictError:
                log.warning("edit conflict on [[%s]]; reading it again", page.title())
                continue
            # Killed between the save and the store: the store keeps the last refresh's
            # records and marks, and the next refresh counts again from them (the same
            # figures, so no second edit).
            log.info("saved [[%s]] as revision %s", page.title(), revid)
            self._remember(key, computation)
            self._automatic_edits(site, page.title(), program, detect_format(text))
            return replace(result, saved_revid=revid)
        raise EditRefusedError(
            f"[[{page.title()}]] kept changing while the bot refreshed it "
            f"({MAX_ATTEMPTS} edit conflicts); try again later"
        )

    def _render(self, text: str, program: ProgramPage, computation: Computation) -> str:
        """The new text; the computed time changes only when something else does."""
        fmt = detect_format(text)
        old_computed = current_outcomes_param(text, "computed", fmt) or ""
        if computation.extras is not None:
            extras = computation.extras.as_params()
        else:  # an incremental refresh keeps the extra figures the page has
            extras = [
                (name, value)
                for name in EXTRA_FIELDS
                if (value := current_outcomes_param(text, name, fmt) or "")
            ]
        for computed in (old_computed, format_moment(self.clock())):
            update = page_update(
                program,
                computation.outcomes,
                computation.notices,
                computed,
                self.messages,
                fmt,
                extras,
            )
            new_text = render_program_page(text, update, fmt)
            if new_text == text:
                break
        return new_text

    def _automatic_edits(
        self, site: APISite, title: str, program: ProgramPage, fmt: PageFormat
    ) -> None:
        """Instructor markers and talk-page notices, where the wiki turned them on.

        Made after the bot saved the program page, not on every unchanged refresh, so
        a refresh that changes nothing reads no user or talk page either.
        """
        auto = AutoEditor(
            site,
            self.config.wiki(host_of(site)),
            fmt,
            messages=self.messages,
            stop_page=self.stop_page,
        )
        details = program.details
        auto.instructors(title, [details.organizer, *details.facilitators])
        auto.assignments(title, details.scope.articles)

    def _remember(self, key: str, computation: Computation) -> None:
        if self.simulate:
            return
        # One transaction: a refresh killed here leaves the last refresh's records and
        # marks, or these, never a mixture.
        self.store.remember_refresh(
            key,
            [(r.wiki, r.revisions, r.pages, r.uploads) for r in computation.records],
            computation.marks,
        )
        log.info("remembered what [[%s]] counted", key)
