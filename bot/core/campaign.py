"""Campaign pages: reading {{Campaign details}}, adding up programs, writing the bot's block.

Pure, like bot/wikitext.py and bot/report.py. A campaign page carries one
{{Campaign details}} (organizer-owned) and one bot-owned block from {{Campaign programs}}
to {{End of campaign programs}} inclusive: one {{Campaign program row}} per program, one
with ``program=total``, then any {{Campaign notice}} rows. Rendering replaces that block
(or inserts it right after {{Campaign details}}) and leaves every other byte alone.

Totals count each participant and each article once, however many of the campaign's
programs include them (shared/docs/metrics.md): participants are united by name, revisions
deduplicated by (wiki, revid), articles by (wiki, pageid), uploads by (wiki, file title).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import mwparserfromhell
from mwparserfromhell.nodes import Comment, Template, Text
from mwparserfromhell.wikicode import Wikicode

from bot.core.contributions import PageState, Revision, Upload, WikiRecords
from bot.core.dates import format_moment, parse_moment
from bot.core.errors import ProgramsBotError
from bot.core.messages import Messages
from bot.core.metrics import Counts, DeletedArticle, Outcomes, compute_outcomes
from bot.core.model import Notice, ProgramPage, Window
from bot.core.pageformat import ENGLISH, PageFormat, available_formats, normalize_title
from bot.core.render import notice_text

#: Canonical (English) template names; i18n/templates/<lang>.json translates them.
CAMPAIGN_DETAILS = "Campaign details"
CAMPAIGN_PROGRAMS = "Campaign programs"
CAMPAIGN_ROW = "Campaign program row"
CAMPAIGN_NOTICE = "Campaign notice"
CAMPAIGN_END = "End of campaign programs"

#: Figures of a {{Campaign program row}}, in the order they are written.
ROW_FIGURES = (
    "participants",
    "edits",
    "articles_edited",
    "articles_created",
    "bytes_added",
    "uploads",
)

#: The canonical parameters of each campaign template. bot/pageformat.py's _KNOWN_PARAMS
#: does not list them, so English names are recognised here (see _canonical_param).
CAMPAIGN_PARAMS: Mapping[str, frozenset[str]] = {
    CAMPAIGN_DETAILS: frozenset({"name", "start", "end", "description"}),
    CAMPAIGN_PROGRAMS: frozenset({"computed", "participants", "sentence"}),
    CAMPAIGN_ROW: frozenset({"program", *ROW_FIGURES}),
    CAMPAIGN_NOTICE: frozenset({"message"}),
    CAMPAIGN_END: frozenset(),
}

#: Templates that make up the bot-owned block.
BLOCK_PARTS = frozenset({CAMPAIGN_PROGRAMS, CAMPAIGN_ROW, CAMPAIGN_NOTICE, CAMPAIGN_END})

TOTAL = "total"


class NotACampaignError(ProgramsBotError):
    """The page does not use {{Campaign details}}."""


@dataclass(frozen=True)
class CampaignDetails:
    """The organizer-owned parameters of {{Campaign details}}, checked and typed.

    The dates are only shown and compared with the programs' dates: each program is
    counted in its own window.
    """

    name: str
    start: datetime | None
    end: datetime | None
    description: str

    @property
    def window(self) -> Window | None:
        if self.start is None or self.end is None or self.end < self.start:
            return None
        return Window(self.start, self.end)


@dataclass(frozen=True)
class CampaignPage:
    """What the bot read from a campaign page."""

    details: CampaignDetails
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class ProgramRecords:
    """One program of a campaign, as its last refresh counted it.

    ``participants`` are the names the program counts (with an account on a listed wiki);
    ``window`` is None when the program's dates are unusable (then it is not counted);
    ``refreshed`` is False when the bot has not written the program's figures yet.
    """

    title: str
    participants: tuple[str, ...]
    window: Window | None
    records: tuple[WikiRecords, ...] = ()
    refreshed: bool = True
    #: Participants who joined privately: counted, never named in any report row.
    private: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProgramOutcome:
    """One row of the campaign table; ``outcomes`` is None for a program not counted."""

    title: str
    outcomes: Outcomes | None


@dataclass(frozen=True)
class CampaignOutcomes:
    """Each program's own figures, and the campaign's deduplicated totals."""

    programs: tuple[ProgramOutcome, ...]
    participants: tuple[str, ...]
    total: Counts
    per_wiki: Mapping[str, Counts] = field(default_factory=dict)
    deleted_articles: tuple[DeletedArticle, ...] = ()
    notices: tuple[Notice, ...] = ()

    @property
    def counted_programs(self) -> int:
        return sum(1 for program in self.programs if program.outcomes is not None)


# -- reading ------------------------------------------------------------------------------


def _canonical_param(fmt: PageFormat, key: str, raw: str) -> str | None:
    """The canonical name of a parameter: the language's name, else the English one."""
    raw = raw.strip()
    found = fmt.canonical_param(key, raw)
    if found is None and raw in CAMPAIGN_PARAMS.get(key, frozenset()):
        found = raw
    return found


def _values(template: Template, key: str, fmt: PageFormat) -> tuple[dict[str, str], list[str]]:
    """Values by canonical name and the unknown names; as in MediaWiki, the last one wins."""
    values: dict[str, str] = {}
    unknown: list[str] = []
    for param in template.params:
        raw = str(param.name).strip()
        canonical = _canonical_param(fmt, key, raw)
        if canonical is None:
            unknown.append(raw)
        else:
            nodes = param.value.nodes
            values[canonical] = "".join(str(n) for n in nodes if not isinstance(n, Comment)).strip()
    return values, unknown


def _parse(text: str) -> Wikicode:
    return mwparserfromhell.parse(text, skip_style_tags=True)


def _top_templates(code: Wikicode, fmt: PageFormat) -> Iterator[tuple[int, str, Template]]:
    """Top-level templates only: nothing inside comments, nowiki or other templates."""
    for index, node in enumerate(code.nodes):
        if isinstance(node, Template):
            yield index, fmt.template_key(str(node.name)), node


def detect_campaign_format(text: str) -> PageFormat:
    """The language a campaign page is written in, told by its {{Campaign details}} name."""
    names = set()
    for node in _parse(text).nodes:
        if isinstance(node, Template):
            # Any namespace prefix goes: the local one (Vorlage:) is what tells the language.
            name = normalize_title(str(node.name))
            names.add(normalize_title(name.partition(":")[2]) if ":" in name else name)
    for fmt in available_formats()[1:]:
        local = fmt.name(CAMPAIGN_DETAILS)
        if local != CAMPAIGN_DETAILS and normalize_title(local) in names:
            return fmt
    return ENGLISH


def is_campaign_page(text: str) -> bool:
    """Whether the page uses {{Campaign details}} at its top level (for dispatching)."""
    fmt = detect_campaign_format(text)
    return any(key == CAMPAIGN_DETAILS for _, key, _ in _top_templates(_parse(text), fmt))


def parse_campaign_page(text: str, fmt: PageFormat | None = None) -> CampaignPage:
    """Read a campaign page; raises NotACampaignError when it has no {{Campaign details}}."""
    fmt = fmt or detect_campaign_format(text)
    code = _parse(text)
    found = [t for _, key, t in _top_templates(code, fmt) if key == CAMPAIGN_DETAILS]
    shown = "{{" + fmt.name(CAMPAIGN_DETAILS) + "}}"
    if not found:
        nested = any(
            fmt.template_key(str(t.name)) == CAMPAIGN_DETAILS
            for t in code.filter_templates(recursive=True)
        )
        if nested:
            raise NotACampaignError(
                f"{shown} is only found nested inside other markup; "
                "it must stand on its own in the page"
            )
        raise NotACampaignError(f"the page does not use {shown}")

    values, unknown = _values(found[0], CAMPAIGN_DETAILS, fmt)
    notices = [Notice("unknown-parameter", (name, shown)) for name in unknown]
    if len(found) > 1:
        notices.append(Notice("several-details", (shown,)))
    raw_start, raw_end = values.get("start", ""), values.get("end", "")
    start = parse_moment(raw_start, end_of_day=False) if raw_start else None
    end = parse_moment(raw_end, end_of_day=True) if raw_end else None
    for name, raw, parsed in (("start", raw_start, start), ("end", raw_end, end)):
        if raw and parsed is None:
            notices.append(Notice("campaign-bad-date", (fmt.param(CAMPAIGN_DETAILS, name), raw)))
    if start and end and end < start:
        notices.append(Notice("campaign-end-before-start", (raw_start, raw_end)))
    details = CampaignDetails(
        name=values.get("name", ""),
        start=start,
        end=end,
        description=values.get("description", ""),
    )
    return CampaignPage(details, tuple(notices))


def _title_key(title: str) -> str:
    """A title for comparison: link brackets, a leading colon and a label dropped,
    normalized as MediaWiki does, the namespace part compared case-insensitively."""
    title = title.strip()
    if title.startswith("[[") and title.endswith("]]"):
        title = title[2:-2].partition("|")[0]
    title = normalize_title(title.strip().lstrip(":"))
    prefix, colon, rest = title.partition(":")
    if colon and rest:
        return prefix.strip().lower() + ":" + normalize_title(rest)
    return title


def names_campaign(value: str, full_title: str, title_without_namespace: str) -> bool:
    """Whether a program's ``campaign=`` value names this campaign page.

    The value must be the campaign page's full title (``Wikipedia:Wiki Science 2026``) or
    its title without the namespace (``Wiki Science 2026``), as MediaWiki normalizes
    titles (underscores, spaces, first letter); ``[[...]]`` around it is allowed.
    Namespace aliases (``WP:``) are not resolved. An empty value names no campaign.
    """
    if not value.strip():
        return False
    wanted = _title_key(value)
    return wanted in {_title_key(full_title), _title_key(title_without_namespace)}


def counted_participants(program: ProgramPage) -> tuple[str, ...]:
    """The names a program's last refresh counted, as its page shows them.

    A row whose statistics the bot filled in (even with zeros) was counted; the bot
    empties the statistics of names with no account on any listed wiki, and a row added
    since the last refresh has none yet, which matches what the store remembers. The
    facilitators have no row: with ``count_facilitators`` they are taken as counted.
    """
    names = [row.username for row in program.rows if any(value for _, value in row.stats)]
    if program.details.count_facilitators:
        names += [name for name in program.details.facilitators if name not in names]
    return tuple(names)


# -- computing ----------------------------------------------------------------------------


def _counted_records(program: ProgramRecords, window: Window) -> list[WikiRecords]:
    """The program's records limited to what its own figures count: its participants,
    inside its window, pages in its scope (the filters of bot.metrics.compute_outcomes)."""
    who = set(program.participants)
    limited = []
    for records in program.records:
        revisions = tuple(
            rev
            for rev in records.revisions
            if rev.user in who
            and rev.timestamp in window
            and ((page := records.pages.get(rev.pageid)) is None or page.in_scope)
        )
        uploads = tuple(u for u in records.uploads if u.user in who and u.timestamp in window)
        limited.append(replace(records, revisions=revisions, uploads=uploads))
    return limited


def _merge(counted: Sequence[WikiRecords]) -> list[WikiRecords]:
    """One WikiRecords per wiki with every revision, page and upload once."""
    revisions: dict[str, dict[int, Revision]] = {}
    pages: dict[str, dict[int, PageState]] = {}
    uploads: dict[str, dict[str, Upload]] = {}
    for records in counted:
        wiki = records.wiki
        for rev in records.revisions:
            revisions.setdefault(wiki, {}).setdefault(rev.revid, rev)
        wiki_pages = pages.setdefault(wiki, {})
        for pageid, state in records.pages.items():
            known = wiki_pages.get(pageid)
            # Scope was applied per program above. Programs refreshed at different times
            # may disagree on deletion: a page one of them saw deleted stays flagged.
            deleted = state.deleted or (known is not None and known.deleted)
            first = known or state
            wiki_pages[pageid] = replace(first, deleted=deleted, in_scope=True)
        for upload in records.uploads:
            uploads.setdefault(wiki, {}).setdefault(upload.title, upload)
    return [
        WikiRecords(
            wiki,
            tuple(revisions.get(wiki, {}).values()),
            pages.get(wiki, {}),
            tuple(uploads.get(wiki, {}).values()),
        )
        for wiki in sorted({r.wiki for r in counted})
    ]


def campaign_outcomes(
    programs: Sequence[ProgramRecords], *, window: Window | None = None
) -> CampaignOutcomes:
    """Each program's figures (bot.core.metrics on its own records) and the campaign totals.

    Programs are listed by title. A program without usable dates is listed, not counted.
    ``window`` (the campaign's dates, if valid) only adds a notice for a program that
    runs outside it.
    """
    rows: list[ProgramOutcome] = []
    notices: list[Notice] = []
    participants: list[str] = []
    counted: list[WikiRecords] = []
    spans: list[Window] = []
    for program in sorted(programs, key=lambda p: p.title):
        if not program.refreshed:
            notices.append(Notice("campaign-program-not-refreshed", (program.title,)))
        if program.window is None:
            rows.append(ProgramOutcome(program.title, None))
            notices.append(Notice("campaign-program-no-dates", (program.title,)))
            continue
        own = program.window
        if window is not None and not (window.start <= own.start and own.end <= window.end):
            span = (format_moment(own.start), format_moment(own.end))
            notices.append(Notice("campaign-program-outside", (program.title, *span)))
        outcomes = compute_outcomes(program.participants, own, program.records)
        rows.append(ProgramOutcome(program.title, outcomes))
        participants += [name for name in outcomes.participants if name not in participants]
        counted += _counted_records(program, own)
        spans.append(own)
    if not spans:
        return CampaignOutcomes(tuple(rows), (), Counts(), {}, (), tuple(notices))
    # Everything left is already limited to its program's participants, window and scope;
    # compute_outcomes over the union adds it up with each revision, page and file once.
    everything = Window(min(s.start for s in spans), max(s.end for s in spans))
    total = compute_outcomes(participants, everything, _merge(counted))
    return CampaignOutcomes(
        tuple(rows),
        tuple(participants),
        total.total,
        total.per_wiki,
        total.deleted_articles,
        tuple(notices),
    )


# -- writing ------------------------------------------------------------------------------


def _call(key: str, params: Sequence[tuple[str, str]], fmt: PageFormat) -> str:
    """A template call in the page's language (names translated, values as given)."""
    written = "".join(f"|{fmt.param(key, name)}={value}" for name, value in params)
    return "{{" + fmt.name(key) + written + "}}"


def _figures(participants: int, counts: Counts) -> list[tuple[str, str]]:
    strings = counts.as_strings()
    return [("participants", str(participants))] + [(n, strings[n]) for n in ROW_FIGURES[1:]]


def campaign_sentence(outcomes: CampaignOutcomes, messages: Messages) -> str:
    """The campaign's outcome report in words, with {{PLURAL:}} left for the wiki."""
    if not outcomes.programs:
        return messages.text("campaign-sentence-none")
    total = outcomes.total
    parts = [
        messages.text(
            "campaign-sentence",
            outcomes.counted_programs,
            len(outcomes.participants),
            total.edits,
            total.articles_edited,
        )
    ]
    if total.articles_created:
        parts.append(messages.text("campaign-sentence-created", total.articles_created))
    if total.uploads:
        parts.append(messages.text("campaign-sentence-uploads", total.uploads))
    return " ".join(parts)


def render_campaign_block(
    outcomes: CampaignOutcomes,
    computed: str,
    messages: Messages,
    fmt: PageFormat = ENGLISH,
    notices: Sequence[Notice] = (),
) -> str:
    """The bot-owned block, from {{Campaign programs}} to {{End of campaign programs}}.

    ``notices`` are the campaign page's own (bad dates...); the programs' notices come
    from ``outcomes``.
    """
    head = [
        ("computed", computed),
        ("participants", str(len(outcomes.participants))),
        ("sentence", campaign_sentence(outcomes, messages)),
    ]
    lines = [_call(CAMPAIGN_PROGRAMS, head, fmt)]
    for program in outcomes.programs:
        figures: list[tuple[str, str]]
        if program.outcomes is None:
            figures = [(name, "") for name in ROW_FIGURES]
        else:
            figures = _figures(len(program.outcomes.participants), program.outcomes.total)
        lines.append(_call(CAMPAIGN_ROW, [("program", program.title), *figures], fmt))
    total = [("program", fmt.value(TOTAL)), *_figures(len(outcomes.participants), outcomes.total)]
    lines.append(_call(CAMPAIGN_ROW, total, fmt))
    for notice in (*notices, *outcomes.notices):
        lines.append(_call(CAMPAIGN_NOTICE, [("message", notice_text(notice, messages))], fmt))
    lines.append(_call(CAMPAIGN_END, [], fmt))
    return "\n".join(lines)


def _block_range(code: Wikicode, fmt: PageFormat) -> tuple[int, int] | None:
    """Node indexes (inclusive) of the bot-owned block, if the page has one.

    Without an end template the block is the run of block templates and whitespace
    after the start, so that organizer text after it is never swallowed.
    """
    nodes = code.nodes
    for index, key, _ in _top_templates(code, fmt):
        if key != CAMPAIGN_PROGRAMS:
            continue
        last = index
        for later in range(index + 1, len(nodes)):
            node = nodes[later]
            if isinstance(node, Template):
                later_key = fmt.template_key(str(node.name))
                if later_key == CAMPAIGN_END:
                    return index, later
                if later_key not in BLOCK_PARTS - {CAMPAIGN_PROGRAMS}:
                    break
                last = later
            elif not (isinstance(node, Text) and not node.value.strip()):
                break
        return index, last
    return None


def current_campaign_param(text: str, name: str, fmt: PageFormat | None = None) -> str | None:
    """A parameter of the page's {{Campaign programs}}, e.g. ``computed``; None if absent."""
    fmt = fmt or detect_campaign_format(text)
    for _, key, template in _top_templates(_parse(text), fmt):
        if key == CAMPAIGN_PROGRAMS:
            return _values(template, key, fmt)[0].get(name, "")
    return None


def render_campaign_page(text: str, block: str, fmt: PageFormat | None = None) -> str:
    """Put ``block`` into the page: in place of the existing block, else right after
    {{Campaign details}}. Every byte outside the block stays as it was; the same block
    gives back the same text."""
    fmt = fmt or detect_campaign_format(text)
    code = _parse(text)
    nodes = code.nodes
    # Splice the original string by offsets rather than re-serializing the parse tree.
    offsets = [0]
    for node in nodes:
        offsets.append(offsets[-1] + len(str(node)))
    found = _block_range(code, fmt)
    if found is not None:
        first, last = found
        start, end = offsets[first], offsets[last + 1]
        if text[start:end] == block:
            return text
        return text[:start] + block + text[end:]
    details = [i for i, key, _ in _top_templates(code, fmt) if key == CAMPAIGN_DETAILS]
    if not details:
        raise NotACampaignError(f"the page does not use {{{{{fmt.name(CAMPAIGN_DETAILS)}}}}}")
    at = offsets[details[0] + 1]
    return text[:at] + "\n\n" + block + text[at:]


def campaign_summary(outcomes: CampaignOutcomes, messages: Messages) -> str:
    """A descriptive edit summary for recent changes."""
    total = outcomes.total
    return messages.text(
        "summary-campaign",
        outcomes.counted_programs,
        len(outcomes.participants),
        total.edits,
        total.articles_edited,
        total.uploads,
    )
