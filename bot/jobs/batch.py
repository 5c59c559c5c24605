"""Refreshing many pages in one run: programs first, then campaigns (whose totals come from
what the programs counted), each page on its own, one failure never stopping the others."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pywikibot
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.site import APISite

from bot.core.campaign_page import is_campaign_page
from bot.core.errors import ProgramsBotError
from bot.jobs.campaigns import refresh_campaign
from bot.jobs.environment import collector_paused
from bot.jobs.refresh import PageResult, Refresher
from bot.wiki.discovery import campaign_pages, program_pages
from bot.wiki.sites import RequestCounter


@dataclass(frozen=True)
class PageRun:
    """One page's refresh in a run: its result or its error, and what it cost."""

    title: str
    result: PageResult | None
    error: ProgramsBotError | None
    requests: int
    seconds: float


def pages_to_refresh(
    site: APISite,
    titles: Sequence[str],
    read: Callable[[pywikibot.Page], None] | None = None,
) -> tuple[list[pywikibot.Page], list[pywikibot.Page]]:
    """The programs and the campaigns among the named pages, or with no names every page
    of the wiki that uses {{Program details}} or {{Campaign details}}. ``read`` is called
    with each named page once its text is read, before it is parsed."""
    if not titles:
        return program_pages(site), campaign_pages(site)
    pages = [pywikibot.Page(site, title) for title in titles]
    campaigns = [page for page in pages if _is_campaign(page, read)]
    return [page for page in pages if page not in campaigns], campaigns


def _is_campaign(page: pywikibot.Page, read: Callable[[pywikibot.Page], None] | None) -> bool:
    """Whether a page named on the command line is a campaign page (else: a program)."""
    try:
        text = page.text
    except PywikibotError:
        return False  # the program's refresh reports what is wrong with the page
    if read is not None:
        read(page)
    # The parse is the page's refresh's too (the tree is kept for it): no collection
    # inside, as in the refresh.
    with collector_paused():
        return is_campaign_page(text)


def refresh_pages(
    refresher: Refresher,
    programs: Sequence[pywikibot.Page],
    campaigns: Sequence[pywikibot.Page],
    *,
    full: bool = False,
) -> Iterator[PageRun]:
    """Refresh the programs, then the campaigns, one page at a time."""
    for page in [*programs, *campaigns]:
        started = time.monotonic()
        result: PageResult | None = None
        error: ProgramsBotError | None = None
        with RequestCounter() as counter:
            try:
                if page in campaigns:
                    result = refresh_campaign(
                        page.site,
                        page.title(),
                        refresher.store,
                        simulate=refresher.simulate,
                        messages=refresher.messages,
                        stop_page=refresher.stop_page,
                    )
                else:
                    result = refresher.refresh(page, full=full)
            except ProgramsBotError as failure:
                error = failure
        yield PageRun(page.title(), result, error, counter.count, time.monotonic() - started)
