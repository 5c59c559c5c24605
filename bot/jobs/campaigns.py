"""Refreshing a campaign page: find its programs, add up what they counted, save safely.

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
from pywikibot.exceptions import IsRedirectPageError, NoPageError
from pywikibot.site import APISite

from bot.core.campaign import (
    CAMPAIGN_DETAILS,
    CampaignOutcomes,
    NotACampaignError,
    ProgramRecords,
    campaign_outcomes,
    campaign_summary,
    counted_participants,
    current_campaign_param,
    detect_campaign_format,
    names_campaign,
    parse_campaign_page,
    render_campaign_block,
    render_campaign_page,
)
from bot.core.contributions import WikiRecords
from bot.core.dates import format_moment
from bot.core.errors import (
    ConflictError,
    EditRefusedError,
    NotAProgramError,
    UnknownWikiError,
    WikiAccessError,
)
from bot.core.messages import Messages
from bot.core.model import Notice
from bot.core.pageformat import ENGLISH, PageFormat, available_formats
from bot.core.wikitext import current_outcomes_param, parse_program_page
from bot.store import Store
from bot.wiki.edit import check_may_edit, check_stop_page, default_stop_page, save, show_diff
from bot.wiki.sites import host_of, site_for_host

log = logging.getLogger(__name__)

#: How often a refresh re-reads and re-applies after an edit conflict before giving up.
MAX_ATTEMPTS = 3
TEMPLATE_NAMESPACE = 10


@dataclass(frozen=True)
class CampaignResult:
    """What a refresh did to one campaign page."""

    title: str
    old_text: str
    new_text: str
    saved_revid: int | None
    simulated: bool
    notices: tuple[Notice, ...]
    outcomes: CampaignOutcomes
    attempts: int

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text


def _names_of(template: str) -> list[str]:
    """A template's name in every language the project knows (English first)."""
    names: list[str] = []
    for fmt in available_formats():
        name = fmt.name(template)
        if name not in names:
            names.append(name)
    return names


def _transcluding(site: APISite, names: Sequence[str], *, content: bool) -> list[pywikibot.Page]:
    """Pages using any of these templates, each once, template pages left out."""
    found: dict[str, pywikibot.Page] = {}
    for name in names:
        template = pywikibot.Page(site, name, ns=TEMPLATE_NAMESPACE)
        try:
            pages = list(site.page_embeddedin(template, filter_redirects=False, content=content))
        except PywikibotError as error:
            raise WikiAccessError(f"cannot list the pages using {name}: {error}") from error
        for page in pages:
            if page.namespace() != TEMPLATE_NAMESPACE:
                found.setdefault(page.title(), page)
    return [found[title] for title in sorted(found)]


def find_campaign_pages(site: APISite) -> list[pywikibot.Page]:
    """Every campaign page on ``site``: pages using {{Campaign details}} in any language
    (template pages left out), for ``refresh --all`` and the scheduler."""
    return _transcluding(site, _names_of(CAMPAIGN_DETAILS), content=False)


def find_campaign_programs(site: APISite, campaign_title: str) -> list[pywikibot.Page]:
    """Program pages on ``site`` whose {{Program details}} ``campaign=`` names the campaign.

    The value must be the campaign page's full title or its title without the namespace
    (see bot.campaign.names_campaign); a namespace alias the wiki knows (``Project:``) is
    resolved here. Pages come with their text, in batches; template pages (documentation
    examples) are left out, as in ``refresh --all``. Only programs on ``site`` are found.
    """
    campaign = pywikibot.Page(site, campaign_title)
    full, bare = campaign.title(), campaign.title(with_ns=False)
    programs = []
    for page in _transcluding(site, _names_of(ENGLISH.details), content=True):
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
    """The rule of bot.campaign.names_campaign, and a value whose namespace is written
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
    """The host the store files ``host`` under (as bot.jobs.refresh does), None if unknown."""
    try:
        return host_of(site_for_host(host))
    except UnknownWikiError:
        return None


def program_records(store: Store, host: str, page: pywikibot.Page) -> ProgramRecords:
    """A program as its last refresh counted it: names from its page, records from the
    store (key ``f"{host}#{pageid}"``, ``host`` being the program page's wiki).

    Private participants (kept in the store only) count like the others in the totals.
    """
    program = parse_program_page(page.text)
    key = f"{host}#{page.pageid}"
    records: list[WikiRecords] = []
    for listed in program.details.wikis:
        wiki = _wiki_host(listed)
        if wiki is None or any(r.wiki == wiki for r in records):
            continue
        revisions, pages = store.remembered(key, wiki)
        uploads = store.remembered_uploads(key, wiki)
        records.append(WikiRecords(wiki, tuple(revisions), pages, tuple(uploads)))
    named = counted_participants(program)
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
        block = render_campaign_block(outcomes, computed, messages, fmt, notices)
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
    """Refresh one campaign page, re-reading and re-applying on edit conflicts.

    Raises NotACampaignError (no {{Campaign details}}, missing page), EditRefusedError
    ({{nobots}}, the stop page, repeated conflicts) and WikiAccessError.
    """
    messages = messages or Messages()
    programs: list[ProgramRecords] | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        page = pywikibot.Page(site, title)
        try:
            text = page.get()
        except (NoPageError, IsRedirectPageError) as error:
            raise NotACampaignError(f"[[{page.title()}]] is not a campaign: {error}") from error
        except PywikibotError as error:
            raise WikiAccessError(f"[[{page.title()}]] cannot be read: {error}") from error
        fmt = detect_campaign_format(text)
        campaign = parse_campaign_page(text, fmt)
        check_may_edit(page)
        if programs is None:  # the programs do not change with the campaign page's text
            programs = gather_programs(site, page.title(), store)
        outcomes = campaign_outcomes(programs, window=campaign.details.window)
        new_text = _render(text, outcomes, campaign.notices, messages, fmt, clock())
        result = CampaignResult(
            page.title(),
            text,
            new_text,
            None,
            simulate,
            campaign.notices + outcomes.notices,
            outcomes,
            attempt,
        )
        if not result.changed:
            return result
        show_diff(text, new_text)
        if simulate:
            return result
        check_stop_page(site, stop_page or default_stop_page(site))
        try:
            revid = save(page, new_text, campaign_summary(outcomes, messages))
        except ConflictError:
            log.warning("edit conflict on [[%s]]; reading it again", page.title())
            continue
        return replace(result, saved_revid=revid)
    raise EditRefusedError(
        f"[[{title}]] kept changing while the bot refreshed it "
        f"({MAX_ATTEMPTS} edit conflicts); try again later"
    )
