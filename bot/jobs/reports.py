"""A program's or a campaign's full report, as the tables of bot.core.exports."""

from __future__ import annotations

import pywikibot
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.site import APISite

from bot.core.campaign import campaign_outcomes
from bot.core.campaign_page import is_campaign_page
from bot.core.errors import NotAProgramError
from bot.core.exports import Row, campaign_tables, program_tables
from bot.core.program_page import parse_program_page
from bot.core.settings import BotConfig
from bot.core.titles import program_key
from bot.jobs.campaigns import gather_programs
from bot.jobs.count import ProgramCounter
from bot.store import Store
from bot.wiki.sites import host_of


def report_tables(
    site: APISite, title: str, store: Store, config: BotConfig | None = None
) -> tuple[str, dict[str, list[Row]]]:
    """The page's title as the wiki normalizes it, and its report's tables: a campaign's
    from what its programs' refreshes counted, a program's counted afresh (in full)."""
    page = pywikibot.Page(site, title)
    try:
        text = page.get()
    except PywikibotError as error:
        raise NotAProgramError(f"[[{title}]] cannot be read: {error}") from error
    if is_campaign_page(text):
        programs = gather_programs(site, page.title(), store)
        return page.title(), campaign_tables(campaign_outcomes(programs), programs)
    program = parse_program_page(text)
    host = host_of(site)
    private = store.private_participants(host, page.title())
    counter = ProgramCounter(store, config)
    computation = counter.count(program, program_key(host, page.pageid), private=private, home=host)
    if computation.outcomes is None or program.details.window is None:
        raise NotAProgramError(f"[[{page.title()}]] has no usable dates; see its notices")
    tables = program_tables(
        computation.outcomes,
        computation.records,
        program.details.window,
        computation.extras,
        hidden=computation.private,
    )
    return page.title(), tables
