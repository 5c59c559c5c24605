"""One refresh of one program page: count it, render the figures into the page, and save
through the edit loop (re-counting on an edit conflict, since the organizer may have
changed the rows)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pywikibot
from pywikibot.site import APISite

from bot.core.contributions import WikiRecords
from bot.core.dates import format_moment
from bot.core.errors import NotAProgramError
from bot.core.extras import EXTRA_FIELDS, Extras
from bot.core.messages import Messages
from bot.core.metrics import Outcomes
from bot.core.model import Notice, ProgramPage
from bot.core.pageformat import PageFormat
from bot.core.program_page import (
    current_outcomes_params,
    detect_format,
    parse_program_page,
    render_program_page,
)
from bot.core.render import edit_summary, outcomes_block, page_update, program_label
from bot.core.settings import BotConfig
from bot.core.titles import program_key
from bot.jobs.autoedits import AutoEditor
from bot.jobs.count import Computation, ProgramCounter
from bot.jobs.environment import collector_paused
from bot.store import Store
from bot.wiki.edit import Change, Editor, EditResult, Outcome, PageText
from bot.wiki.sites import host_of

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class PageResult:
    """What a refresh did to one page (a program's or a campaign's)."""

    title: str
    old_text: str
    new_text: str
    saved_revid: int | None
    simulated: bool
    notices: tuple[Notice, ...]
    attempts: int

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text

    @staticmethod
    def edited(result: EditResult[Any], simulated: bool) -> dict[str, Any]:
        """The fields an edit's result gives."""
        return {
            "title": result.page.title,
            "old_text": result.page.text,
            "new_text": result.new_text,
            "saved_revid": result.revid,
            "simulated": simulated,
            "attempts": result.attempts,
        }


@dataclass(frozen=True, kw_only=True)
class RefreshResult(PageResult):
    """What a refresh did to one program page, and what it computed."""

    outcomes: Outcomes | None
    #: The figures changed but the page was left for a later edit (the edit cadence).
    deferred: bool = False
    #: What the figures were computed from (for reports).
    records: tuple[WikiRecords, ...] = ()
    extras: Extras | None = None
    #: The program as read from the page.
    program: ProgramPage | None = None
    #: The program's key in the store's counted tables.
    key: str = ""
    #: Participants counted in the totals only, never to be named.
    private: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Counted:
    """What the transform worked out, handed back through the edit loop."""

    program: ProgramPage
    key: str
    computation: Computation
    fmt: PageFormat


class Refresher:
    """Refreshes program pages; one instance serves a whole run.

    Each page is written in its own language (its sentences, notices and edit summary, and
    those of the automatic edits it leads to); ``messages`` is the language of what the
    command line tells the operator.
    """

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
        self.counter = ProgramCounter(store, self.config)
        self.messages = messages or Messages()
        self.stop_page = stop_page
        self.simulate = simulate
        self.clock = clock

    def refresh(
        self, page: pywikibot.Page, *, full: bool = True, edit: bool = True
    ) -> RefreshResult:
        """Refresh one program page.

        ``full`` False fetches only what changed since the last refresh. ``edit`` False
        computes and remembers the figures (the live report) but leaves the page as it
        is: the scheduler's polite edit cadence. Raises NotAProgramError, EditRefusedError
        ({{nobots}}, repeated conflicts), StopPageError and WikiAccessError.
        """
        site = page.site
        host = host_of(site)
        log.info("refreshing [[%s]] (%s)", page.title(), "full" if full else "incremental")

        # What a save's attempt counted is remembered while the wiki answers the save.
        remembering: list[tuple[_Counted, Future[None]]] = []

        def remember_beside(counted: _Counted) -> None:
            remembering.append((counted, beside.submit(self._remember, counted)))

        def transform(read: PageText) -> Change[_Counted]:
            for _, future in remembering:
                future.result()  # a recount after a conflict starts from what that remembered
            text = read.wikitext(NotAProgramError, "a program")
            key = program_key(host, read.pageid or 0)
            if not full:
                self.counter.read_ahead(key)  # the wikis answer while the page is parsed
            program = parse_program_page(text)
            private = self.store.private_participants(host, read.title)
            computation = self.counter.count(program, key, full=full, private=private, home=host)
            fmt = detect_format(text)
            label = program_label(program, read.title)
            new_text = self._render(text, program, label, computation, fmt)
            summary = edit_summary(computation.outcomes, computation.notices, Messages(fmt.lang))
            counted = _Counted(program, key, computation, fmt)
            return Change(
                new_text,
                summary,
                counted,
                hold=not edit,
                beside_save=partial(remember_beside, counted),
            )

        editor = Editor(site, stop_page=self.stop_page, simulate=self.simulate)
        with collector_paused(), ThreadPoolExecutor(1, "remember") as beside:
            outcome = editor.edit(page.title(), transform, page=page)
            for _, future in remembering:
                future.result()
        result = outcome.check()
        counted = result.data
        assert counted is not None  # the transform always answers
        if not self.simulate and not any(done is counted for done, _ in remembering):
            # Nothing saved (no change, or held): remembered now. Killed before or while
            # remembering, the store keeps the last refresh's records and marks, and the
            # next refresh counts again from them (the same figures).
            self._remember(counted)
        if result.outcome is Outcome.SAVED:
            self._automatic_edits(site, result.page.title, counted.program, counted.fmt)
        computation = counted.computation
        return RefreshResult(
            **PageResult.edited(result, self.simulate),
            notices=computation.notices,
            outcomes=computation.outcomes,
            deferred=result.outcome is Outcome.HELD,
            records=computation.records,
            extras=computation.extras,
            program=counted.program,
            key=counted.key,
            private=computation.private,
        )

    def read_ahead(self, page: pywikibot.Page) -> None:
        """Send the first requests of the page's incremental count now, before the page is
        parsed (see ProgramCounter.read_ahead). Only for a page whose text has been read:
        its id is known then; asking whether a page was read would cost a request."""
        self.counter.read_ahead(program_key(host_of(page.site), page.pageid))

    def _remember(self, counted: _Counted) -> None:
        self.counter.remember(counted.key, counted.computation)

    def _render(
        self,
        text: str,
        program: ProgramPage,
        label: str,
        computation: Computation,
        fmt: PageFormat,
    ) -> str:
        """The new text; the computed time changes only when something else does."""
        written = current_outcomes_params(text, fmt) or {}
        old_computed = written.get("computed", "")
        if computation.extras is not None:
            extras = computation.extras.as_params()
        else:  # an incremental refresh keeps the extra figures the page has
            extras = [(name, value) for name in EXTRA_FIELDS if (value := written.get(name, ""))]

        def block(computed: str) -> str:
            return outcomes_block(
                computation.outcomes,
                computation.notices,
                computed,
                Messages(fmt.lang),
                fmt,
                extras,
                program=label,
                names=computation.names,
                sourced=computation.sourced,
                window=program.details.window,
                goals=program.details.goals,
            )

        # One render: with the new time, unless the old time would leave the page as it is.
        new_block = block(format_moment(self.clock()))
        update = page_update(
            program, computation.outcomes, new_block, unchanged_block=block(old_computed)
        )
        return render_program_page(text, update, fmt)

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
            messages=Messages(fmt.lang),
            stop_page=self.stop_page,
        )
        details = program.details
        auto.instructors(title, [details.organizer, *details.facilitators])
        auto.assignments(title, details.scope.articles)


def requested_pages(store: Store) -> dict[tuple[str, str], list[int]]:
    """The statistics updates people asked for through the Join API, by page (wiki,
    title): the ids of the requests each refresh answers."""
    pages: dict[tuple[str, str], list[int]] = {}
    for request in store.pending_refresh_requests():
        pages.setdefault((request.wiki, request.title), []).append(request.id)
    return pages
