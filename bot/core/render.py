"""What the bot writes in words and templates: the outcome sentences, the bot-owned blocks
of program and campaign pages, notices, and the edit summaries recent changes show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from bot.core.activity import activity_bars
from bot.core.campaign import CampaignOutcomes
from bot.core.goals import progress
from bot.core.messages import Messages, inert, nowiki
from bot.core.metrics import Counts, Outcomes
from bot.core.model import Notice, ProgramPage, Window
from bot.core.pageformat import (
    CAMPAIGN_ROW_FIGURES,
    CONTENT_FIELDS,
    ENGLISH,
    OUTCOME_FIELDS,
    ROW_STATS,
    PageFormat,
)
from bot.core.program_page import PageUpdate
from bot.core.wikibase import WIKIDATA_FIGURES
from bot.core.wikinames import SpokenName, WikiName, spoken, wiki_name
from bot.core.wikitext import template_call

#: How the total row names itself (a value the format translates).
TOTAL = "total"
#: How many user links an edit summary names before "and N more".
SUMMARY_NAMES = 5


def notice_text(notice: Notice, messages: Messages) -> str:
    """A notice as wikitext; every value taken from a page is made inert."""
    return messages.text("notice-" + notice.key, *(nowiki(p) for p in notice.params))


def notice_plain(notice: Notice, messages: Messages) -> str:
    """A notice for the command line."""
    return messages.text("notice-" + notice.key, *notice.params)


# -- program pages ------------------------------------------------------------------------


def _figures(counts: Counts) -> list[tuple[str, str]]:
    strings = counts.as_strings()
    return [(name, strings[name]) for name in OUTCOME_FIELDS]


def content_figures(counts: Counts, goals: Sequence[tuple[str, int]] = ()) -> list[tuple[str, str]]:
    """The references added, and the Wikidata figures when the program made any or has a
    goal for one (so that readers of the page find the goal's figure, even at zero)."""
    strings = counts.as_strings()
    wikidata = [(name, strings[name]) for name in WIKIDATA_FIGURES]
    wanted = any(value != "0" for _, value in wikidata)
    wanted = wanted or any(figure in WIKIDATA_FIGURES for figure, _ in goals)
    return [("references_added", strings["references_added"]), *(wikidata if wanted else [])]


def program_label(page: ProgramPage, title: str) -> str:
    """What the sentence calls the program: its name, else its page's title."""
    return page.details.name.strip() or title


def _listed(items: Sequence[str], messages: Messages) -> str:
    """``a, b and c`` in the messages' language."""
    head = items[0]
    for item in items[1:-1]:
        head = messages.text("list-comma", head, item)
    return messages.text("list", head, items[-1]) if len(items) > 1 else head


def _spoken_names(
    wikis: Sequence[str], names: Mapping[str, WikiName], messages: Messages
) -> dict[str, SpokenName]:
    return {wiki: spoken(names.get(wiki) or wiki_name(wiki), messages) for wiki in wikis}


def outcome_sentence(
    outcomes: Outcomes,
    messages: Messages,
    program: str,
    names: Mapping[str, WikiName] | None = None,
) -> str:
    """The outcome report in words, naming the program and each wiki as people do, with
    {{PLURAL:}} left for the wiki to resolve.

    ``names`` says what each wiki (by host) is called; a wiki missing there is named from
    its host alone (bot.core.wikinames).
    """
    said = _spoken_names(list(outcomes.per_wiki), names or {}, messages)
    edits, created, uploads = [], [], []
    for wiki, counts in outcomes.per_wiki.items():
        name = said[wiki]
        if counts.articles_edited:
            edits.append(
                messages.text(
                    "clause-edits-articles",
                    counts.edits,
                    counts.articles_edited,
                    name.name,
                    name.place,
                )
            )
        elif counts.edits:
            edits.append(messages.text("clause-edits", counts.edits, name.name, name.place))
        if counts.articles_created:
            created.append(
                messages.text("clause-created", counts.articles_created, name.name, name.place)
            )
        if counts.uploads:
            uploads.append(messages.text("clause-uploads", counts.uploads, name.name, name.place))
    parts = [messages.text("sentence-joined", len(outcomes.participants), inert(program))]
    if edits:
        parts.append(messages.text("sentence-edits", _listed(edits, messages)))
    if created and uploads:
        parts.append(
            messages.text(
                "sentence-created-uploads",
                _listed(created, messages),
                _listed(uploads, messages),
            )
        )
    elif created:
        parts.append(messages.text("sentence-created", _listed(created, messages)))
    elif uploads:
        parts.append(messages.text("sentence-uploads", _listed(uploads, messages)))
    return " ".join(parts)


def _notice_lines(
    key: str, notices: Sequence[Notice], messages: Messages, fmt: PageFormat
) -> list[str]:
    return [template_call(key, [("message", notice_text(n, messages))], fmt) for n in notices]


def outcomes_block(
    outcomes: Outcomes | None,
    notices: Sequence[Notice],
    computed: str,
    messages: Messages,
    fmt: PageFormat = ENGLISH,
    extras: Sequence[tuple[str, str]] = (),
    *,
    program: str,
    names: Mapping[str, WikiName] | None = None,
    sourced: Sequence[tuple[str, str]] = (),
    window: Window | None = None,
    goals: Sequence[tuple[str, int]] = (),
) -> str:
    """The bot-owned block, from {{Program outcomes}} to {{End of program outcomes}}.

    ``sourced``: participants without a row of their own (from an Event Registration or a
    hashtag), as (source, name): each gets a row of the block with their figures. With the
    ``window``, the block draws the program's activity (bot.core.activity); each of the
    ``goals`` gets a row with how far the figures (these and ``extras``) have come.

    ``program`` is what the sentence calls the program (program_label); ``names`` what
    each wiki is called, by host. Each wiki's row keeps its host in ``wiki`` (the key
    the page format and readers of the page use) and shows its name in ``wiki_name``.
    """
    if outcomes is None:
        head = [("computed", computed), ("sentence", messages.text("sentence-not-computed"))]
        lines = [template_call(fmt.outcomes, head, fmt)]
    else:
        head = [
            ("computed", computed),
            ("participants", str(len(outcomes.participants))),
            *content_figures(outcomes.total, goals),
            *extras,
            ("sentence", outcome_sentence(outcomes, messages, program, names)),
        ]
        lines = [template_call(fmt.outcomes, head, fmt)]
        said = _spoken_names(list(outcomes.per_wiki), names or {}, messages)
        for wiki, counts in outcomes.per_wiki.items():
            where = [("wiki", wiki), ("wiki_name", said[wiki].name)]
            lines.append(template_call(fmt.outcomes_row, [*where, *_figures(counts)], fmt))
        total = [("wiki", fmt.value(TOTAL)), *_figures(outcomes.total)]
        lines.append(template_call(fmt.outcomes_row, total, fmt))
        reached: dict[str, int | None] = {"participants": len(outcomes.participants)}
        reached.update({k: int(v) for k, v in _figures(outcomes.total)})
        reached.update({k: getattr(outcomes.total, k) for k in CONTENT_FIELDS})
        reached.update({k: int(v) for k, v in extras if v.isdigit()})
        for figure, target, value in progress(tuple(goals), reached):
            done = [("reached", str(value))] if value is not None else []
            call = [("goal", figure), ("target", str(target)), *done]
            lines.append(template_call(fmt.goal, call, fmt))
        for source, name in sourced:
            found = outcomes.per_user.get(name)
            strings = found.as_strings() if found else {}
            figures = [(stat, strings.get(stat, "")) for stat in ROW_STATS]
            who = [("source", source), ("username", inert(name))]
            lines.append(template_call(fmt.source_participant, [*who, *figures], fmt))
        for article in outcomes.deleted_articles:
            where = [("wiki", article.wiki), ("title", article.title)]
            lines.append(template_call(fmt.deleted_article, where, fmt))
        if window is not None:
            lines += _activity_lines(outcomes.per_day, window, fmt)
    lines += _notice_lines(fmt.notice, notices, messages, fmt)
    lines.append(template_call(fmt.outcomes_end, [], fmt))
    return "\n".join(lines)


def _activity_lines(
    per_day: Mapping[date, tuple[int, int]], window: Window, fmt: PageFormat, columns: int = 8
) -> list[str]:
    """The activity chart: a header, then a bar per day or week (scaled to the busiest);
    ``columns``: the table's width (a campaign's table has 7)."""
    period, bars = activity_bars(per_day, window)
    if not bars:
        return []
    top = str(max(bar.edits for bar in bars))
    width = [("columns", str(columns))] if columns != 8 else []
    lines = [template_call(fmt.activity, [("period", period), ("max", top), *width], fmt)]
    for bar in bars:
        figures = [("edits", str(bar.edits)), ("articles", str(bar.articles)), ("max", top)]
        figures += width
        lines.append(
            template_call(fmt.activity_row, [("start", bar.start.isoformat()), *figures], fmt)
        )
    return lines


def page_update(
    page: ProgramPage,
    outcomes: Outcomes | None,
    block: str,
    *,
    unchanged_block: str | None = None,
) -> PageUpdate:
    """Everything the bot writes on the page: the rows' statistics and the outcomes block.

    Rows of users who are not counted (unknown names) get empty statistics; when no
    figures could be computed at all, rows are left as they are. ``unchanged_block`` is
    the block with the page's own computed time (PageUpdate.unchanged_block).
    """
    row_stats: dict[int, dict[str, str]] = {}
    if outcomes is not None:
        for row in page.rows:
            counts = outcomes.per_user.get(row.username)
            strings = counts.as_strings() if counts else {}
            row_stats[row.position] = {name: strings.get(name, "") for name in ROW_STATS}
    return PageUpdate(row_stats, block, unchanged_block)


def edit_summary(outcomes: Outcomes | None, notices: Sequence[Notice], messages: Messages) -> str:
    """A descriptive edit summary for recent changes."""
    if outcomes is None:
        return messages.text("summary-notices", len(notices))
    total = outcomes.total
    return messages.text(
        "summary-refresh",
        len(outcomes.participants),
        total.edits,
        total.articles_edited,
        total.uploads,
    )


# -- campaign pages -----------------------------------------------------------------------


def _campaign_figures(participants: int, counts: Counts) -> list[tuple[str, str]]:
    strings = counts.as_strings()
    return [("participants", str(participants))] + [
        (name, strings[name]) for name in CAMPAIGN_ROW_FIGURES[1:]
    ]


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


def campaign_block(
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
    lines = [template_call(fmt.campaign_programs, head, fmt)]
    for program in outcomes.programs:
        figures: list[tuple[str, str]]
        if program.outcomes is None:
            figures = [(name, "") for name in CAMPAIGN_ROW_FIGURES]
        else:
            figures = _campaign_figures(len(program.outcomes.participants), program.outcomes.total)
        lines.append(template_call(fmt.campaign_row, [("program", program.title), *figures], fmt))
    total = [
        ("program", fmt.value(TOTAL)),
        *_campaign_figures(len(outcomes.participants), outcomes.total),
    ]
    lines.append(template_call(fmt.campaign_row, total, fmt))
    if outcomes.window is not None:
        lines += _activity_lines(outcomes.per_day, outcomes.window, fmt, columns=7)
    lines += _notice_lines(fmt.campaign_notice, (*notices, *outcomes.notices), messages, fmt)
    lines.append(template_call(fmt.campaign_end, [], fmt))
    return "\n".join(lines)


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


# -- joins ----------------------------------------------------------------------------------


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
