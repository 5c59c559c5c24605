"""Turning outcomes into what the bot writes: row statistics, the outcomes block, summaries."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.messages import Messages, nowiki
from bot.core.metrics import Counts, Outcomes
from bot.core.model import Notice, ProgramPage
from bot.core.pageformat import ENGLISH, OUTCOME_FIELDS, ROW_STATS, PageFormat
from bot.core.wikitext import PageUpdate

TOTAL = "total"


def notice_text(notice: Notice, messages: Messages) -> str:
    """A notice as wikitext; every value taken from a page is made inert."""
    return messages.text("notice-" + notice.key, *(nowiki(p) for p in notice.params))


def notice_plain(notice: Notice, messages: Messages) -> str:
    """A notice for the command line."""
    return messages.text("notice-" + notice.key, *notice.params)


def _template(key: str, params: Sequence[tuple[str, str]], fmt: PageFormat) -> str:
    """A template call in the page's language (names translated, values as given)."""
    written = "".join(f"|{fmt.param(key, name)}={value}" for name, value in params)
    return "{{" + fmt.name(key) + written + "}}"


def _figures(counts: Counts) -> list[tuple[str, str]]:
    strings = counts.as_strings()
    return [(name, strings[name]) for name in OUTCOME_FIELDS]


def outcome_sentence(outcomes: Outcomes, messages: Messages) -> str:
    """The outcome report in words, with {{PLURAL:}} left for the wiki to resolve."""
    parts = [messages.text("sentence-joined", len(outcomes.participants))]
    for wiki, counts in outcomes.per_wiki.items():
        if counts.articles_edited:
            parts.append(messages.text("sentence-wiki", counts.edits, counts.articles_edited, wiki))
        elif counts.edits:
            parts.append(messages.text("sentence-wiki-edits", counts.edits, wiki))
        if counts.articles_created:
            parts.append(messages.text("sentence-created", counts.articles_created, wiki))
        if counts.uploads:
            parts.append(messages.text("sentence-uploads", counts.uploads, wiki))
    return " ".join(parts)


def outcomes_block(
    outcomes: Outcomes | None,
    notices: Sequence[Notice],
    computed: str,
    messages: Messages,
    fmt: PageFormat = ENGLISH,
    extras: Sequence[tuple[str, str]] = (),
) -> str:
    """The bot-owned block, from {{Program outcomes}} to {{End of program outcomes}}."""
    if outcomes is None:
        head = [("computed", computed), ("sentence", messages.text("sentence-not-computed"))]
        lines = [_template(fmt.outcomes, head, fmt)]
    else:
        head = [
            ("computed", computed),
            ("participants", str(len(outcomes.participants))),
            *extras,
            ("sentence", outcome_sentence(outcomes, messages)),
        ]
        lines = [_template(fmt.outcomes, head, fmt)]
        for wiki, counts in outcomes.per_wiki.items():
            lines.append(_template(fmt.outcomes_row, [("wiki", wiki), *_figures(counts)], fmt))
        total = [("wiki", fmt.value(TOTAL)), *_figures(outcomes.total)]
        lines.append(_template(fmt.outcomes_row, total, fmt))
        for article in outcomes.deleted_articles:
            where = [("wiki", article.wiki), ("title", article.title)]
            lines.append(_template(fmt.deleted_article, where, fmt))
    for notice in notices:
        message = [("message", notice_text(notice, messages))]
        lines.append(_template(fmt.notice, message, fmt))
    lines.append(_template(fmt.outcomes_end, [], fmt))
    return "\n".join(lines)


def page_update(
    page: ProgramPage,
    outcomes: Outcomes | None,
    notices: Sequence[Notice],
    computed: str,
    messages: Messages,
    fmt: PageFormat = ENGLISH,
    extras: Sequence[tuple[str, str]] = (),
) -> PageUpdate:
    """Everything the bot writes on the page for these outcomes.

    Rows of users who are not counted (unknown names) get empty statistics; when no
    figures could be computed at all, rows are left as they are.
    """
    row_stats: dict[int, dict[str, str]] = {}
    if outcomes is not None:
        for row in page.rows:
            counts = outcomes.per_user.get(row.username)
            strings = counts.as_strings() if counts else {}
            row_stats[row.position] = {name: strings.get(name, "") for name in ROW_STATS}
    block = outcomes_block(outcomes, notices, computed, messages, fmt, extras)
    return PageUpdate(row_stats, block)


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
