"""Refreshing a campaign page: find its programs, add up what they counted, save it through
the edit loop.

The figures come from the store, which keeps what each program's last refresh counted
(revisions, page states and uploads per program and wiki, and who joined privately), so
nothing is fetched again. Programs are found with one ``embeddedin`` generator per name of
{{Program details}} that loads their text in the same batched requests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pywikibot
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.site import APISite

from bot.core.campaign import CampaignOutcomes, ProgramRecords, campaign_outcomes
from bot.core.campaign_page import (
    current_campaign_param,
    detect_campaign_format,
    parse_campaign_page,
    render_campaign_page,
)
from bot.core.contributions import WikiRecords
from bot.core.dates import format_moment
from bot.core.errors import NotACampaignError, NotAProgramError, UnknownWikiError
from bot.core.messages import Messages
from bot.core.model import Notice
from bot.core.pageformat import PageFormat
from bot.core.program_page import current_outcomes_param, parse_program_page
from bot.core.render import campaign_block, campaign_summary
from bot.core.revision_table import revision_ids
from bot.core.titles import names_campaign, program_key
from bot.jobs.refresh import PageResult
from bot.store import Store
from bot.wiki.discovery import program_pages
from bot.wiki.edit import Change, Editor, PageText
from bot.wiki.sites import host_of, site_for_host

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class CampaignResult(PageResult):
    """What a refresh did to one campaign page, and what it added up."""

    outcomes: CampaignOutcomes
    #: The campaign's programs as their last refreshes counted them (for the reports).
    programs: tuple[ProgramRecords, ...] = ()


def find_campaign_programs(site: APISite, campaign_title: str) -> list[pywikibot.Page]:
    """Program pages on ``site`` whose {{Program details}} ``campaign=`` names the campaign.

    The value must be the campaign page's full title or its title without the namespace
    (see bot.core.titles.names_campaign); a namespace alias the wiki knows (``Project:``)
    is resolved here. Pages come with their text, in batches; template pages
    (documentation examples) are left out. Only programs on ``site`` are found.
    """
    campaign = pywikibot.Page(site, campaign_title)
    full, bare = campaign.title(), campaign.title(with_ns=False)
    programs = []
    for page in program_pages(site, content=True):
        if page.title() == full:
            continue  # a campaign never counts itself
        try:
            program = parse_program_page(page.text)
        except NotAProgramError:
            continue  # {{Program details}} only nested in other markup
        if _names(site, program.details.campaign, full, bare):
            programs.append(page)
    return programs


def _names(site: APISite, value: str, full: str, bare: str) -> bool:
    """The rule of bot.core.titles.names_campaign, and a value whose namespace is written
    with an alias (``Project:``) that the wiki resolves to the campaign's full title."""
    if names_campaign(value, full, bare):
        return True
    cleaned = value.strip().removeprefix("[[").removesuffix("]]").partition("|")[0].strip()
    if ":" not in cleaned:
        return False
    try:
        # Parsing a title uses the namespaces Pywikibot already has: no request.
        return bool(pywikibot.Page(site, cleaned).title() == full)
    except (PywikibotError, ValueError):
        return False


def _wiki_host(host: str) -> str | None:
    """The host the store files ``host`` under (as a program's count does), None if unknown."""
    try:
        return host_of(site_for_host(host))
    except UnknownWikiError:
        return None


def program_records(store: Store, host: str, page: pywikibot.Page) -> ProgramRecords:
    """A program as its last refresh counted it: names from its page, records from the
    store (``host`` being the program page's wiki).

    Private participants (kept in the store only) count like the others in the totals.
    """
    program = parse_program_page(page.text)
    key = program_key(host, page.pageid)
    records: list[WikiRecords] = []
    for listed in program.details.wikis:
        wiki = _wiki_host(listed)
        if wiki is None or any(r.wiki == wiki for r in records):
            continue
        kept = store.remembered(key, wiki)
        known = store.references_of_revisions(wiki, revision_ids(kept.revisions), kept.references)
        records.append(replace(kept, references=known))
    named = program.counted
    private = [n for n in store.private_participants(host, page.title()) if n not in named]
    return ProgramRecords(
        title=page.title(),
        participants=(*named, *private),
        window=program.details.window,
        records=tuple(records),
        refreshed=bool(current_outcomes_param(page.text, "computed")),
        private=tuple(private),
    )


def gather_programs(site: APISite, campaign_title: str, store: Store) -> list[ProgramRecords]:
    """Every program of the campaign with what its last refresh counted."""
    host = host_of(site)
    programs = [
        program_records(store, host, page) for page in find_campaign_programs(site, campaign_title)
    ]
    log.info("[[%s]]: %d programs", campaign_title, len(programs))
    return programs


def _render(
    text: str,
    outcomes: CampaignOutcomes,
    notices: Sequence[Notice],
    messages: Messages,
    fmt: PageFormat,
    now: datetime,
) -> str:
    """The new text; the computed time changes only when something else does."""
    old_computed = current_campaign_param(text, "computed", fmt) or ""
    for computed in (old_computed, format_moment(now)):
        block = campaign_block(outcomes, computed, messages, fmt, notices)
        new_text = render_campaign_page(text, block, fmt)
        if new_text == text:
            break
    return new_text


def refresh_campaign(
    site: APISite,
    title: str,
    store: Store,
    *,
    simulate: bool = False,
    messages: Messages | None = None,
    stop_page: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CampaignResult:
    """Refresh one campaign page, in its own language: its sentence, notices and summary
    follow the language of its {{Campaign details}} (``messages``, the operator's, writes
    nothing on it).

    Raises NotACampaignError (no {{Campaign details}}, missing page), EditRefusedError
    ({{nobots}}, repeated conflicts), StopPageError and WikiAccessError.
    """
    programs: list[ProgramRecords] | None = None

    def transform(read: PageText) -> Change[tuple[Sequence[Notice], CampaignOutcomes]]:
        nonlocal programs
        text = read.wikitext(NotACampaignError, "a campaign")
        fmt = detect_campaign_format(text)
        campaign = parse_campaign_page(text, fmt)
        if programs is None:  # the programs do not change with the campaign page's text
            programs = gather_programs(site, read.title, store)
        outcomes = campaign_outcomes(programs, window=campaign.details.window)
        page_messages = Messages(fmt.lang)
        new_text = _render(text, outcomes, campaign.notices, page_messages, fmt, clock())
        summary = campaign_summary(outcomes, page_messages)
        return Change(new_text, summary, (campaign.notices + outcomes.notices, outcomes))

    editor = Editor(site, stop_page=stop_page, simulate=simulate)
    result = editor.edit(title, transform).check()
    assert result.data is not None  # the transform always answers
    notices, outcomes = result.data
    return CampaignResult(
        **PageResult.edited(result, simulate),
        notices=tuple(notices),
        outcomes=outcomes,
        programs=tuple(programs or ()),
    )
