"""A grant report: the figures a Wikimedia Foundation grant report asks for, one row per
metric (docs/metrics.md#grant-report), from a program's or a campaign's report tables
(bot.core.exports) so that the command line and the Join API give the same rows.

Every value is a figure the report already has, each person and article once (a campaign's
tables are deduplicated already); what the bot cannot know is a missing value with its
reason, never a guess. A new figure is one more key of ``GRANT_METRICS`` and one more
entry of ``_values``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bot.core.messages import Messages, inert
from bot.core.wikibase import WIKIDATA_FIGURES

#: The rows, in order: people, then content (with a per-project breakdown), then the
#: figures behind them.
GRANT_METRICS = (
    "participants",
    "editors",
    "new_editors",
    "organizers",
    "content_contributions",
    "articles_created",
    "articles_improved",
    "files_uploaded",
    "file_usage",
    "edits",
    "bytes_added",
    "references_added",
)
#: Rows added when the program made any of these (on a Wikibase wiki).
WIKIDATA_METRICS = WIKIDATA_FIGURES
#: Why a value is missing: the bot does not track it at all; a program's full refresh has
#: not counted it yet (or retention lies in the future); campaigns do not add it up.
NOT_TRACKED = "not-tracked"
NOT_YET_KNOWN = "not-yet-known"
NOT_FOR_CAMPAIGNS = "not-for-campaigns"
MISSING = (NOT_TRACKED, NOT_YET_KNOWN, NOT_FOR_CAMPAIGNS)

Row = Mapping[str, Any]


@dataclass(frozen=True)
class GrantRow:
    """One metric: its value, or None with the reason in ``missing``; ``per_project`` (wiki
    host to value) where the forms ask per Wikimedia project."""

    key: str
    value: int | None
    missing: str | None = None
    per_project: Mapping[str, int] | None = None


@dataclass(frozen=True)
class GrantReport:
    """The rows of one program's or campaign's grant report, and its projects (wiki hosts)
    in the order of the breakdown columns."""

    campaign: bool
    projects: tuple[str, ...]
    rows: tuple[GrantRow, ...] = field(default_factory=tuple)

    def row(self, key: str) -> GrantRow:
        return next(row for row in self.rows if row.key == key)


@dataclass(frozen=True)
class _Content:
    """Distinct articles and files per wiki, from the articles and uploads tables."""

    created: dict[str, int]
    improved: dict[str, int]
    files: dict[str, int]

    def contributions(self) -> dict[str, int]:
        wikis = {*self.created, *self.improved, *self.files}
        return {w: self.created[w] + self.improved[w] + self.files[w] for w in sorted(wikis)}


def _content(tables: Mapping[str, Sequence[Row]], projects: Sequence[str]) -> _Content:
    created = dict.fromkeys(projects, 0)
    improved = dict.fromkeys(projects, 0)
    files = dict.fromkeys(projects, 0)
    for wiki in (r["wiki"] for t in ("articles", "uploads") for r in tables.get(t, ())):
        for counts in (created, improved, files):
            counts.setdefault(wiki, 0)
    for article in tables.get("articles", ()):
        (created if article["created"] else improved)[article["wiki"]] += 1
    for upload in tables.get("uploads", ()):
        files[upload["wiki"]] += 1
    return _Content(created, improved, files)


def _known(total: Row, name: str, campaign: bool) -> tuple[int | None, str | None]:
    """A program-level figure of the summary's total row (not yet known when absent)."""
    if campaign:
        return None, NOT_FOR_CAMPAIGNS
    value = total.get(name)
    return (value, None) if isinstance(value, int) else (None, NOT_YET_KNOWN)


def grant_report(tables: Mapping[str, Sequence[Row]]) -> GrantReport:
    """The grant report of a program's or a campaign's report tables (those of
    bot.core.exports.program_tables or campaign_tables, as computed or as stored)."""
    summary = tables["summary"]
    total = summary[-1]
    campaign = "program" in total
    listed = [] if campaign else [str(r["wiki"]) for r in summary[:-1]]
    content = _content(tables, listed)
    projects = tuple(listed) + tuple(sorted(w for w in content.contributions() if w not in listed))

    def ordered(counts: Mapping[str, int]) -> dict[str, int]:
        return {w: counts.get(w, 0) for w in projects}

    values: dict[str, Callable[[], GrantRow]] = {
        "participants": lambda: GrantRow("participants", int(total["participants"])),
        "editors": lambda: GrantRow("editors", *_editors(total)),
        "new_editors": lambda: GrantRow("new_editors", *_known(total, "new_editors", campaign)),
        "organizers": lambda: GrantRow("organizers", None, NOT_TRACKED),
        "content_contributions": lambda: GrantRow(
            "content_contributions",
            sum(content.contributions().values()),
            per_project=ordered(content.contributions()),
        ),
        "articles_created": lambda: GrantRow(
            "articles_created", sum(content.created.values()), per_project=ordered(content.created)
        ),
        "articles_improved": lambda: GrantRow(
            "articles_improved",
            sum(content.improved.values()),
            per_project=ordered(content.improved),
        ),
        "files_uploaded": lambda: GrantRow(
            "files_uploaded", sum(content.files.values()), per_project=ordered(content.files)
        ),
        "file_usage": lambda: GrantRow("file_usage", *_known(total, "file_usage", campaign)),
        "edits": lambda: GrantRow("edits", int(total["edits"])),
        "bytes_added": lambda: GrantRow("bytes_added", int(total["bytes_added"])),
    }
    keys = list(GRANT_METRICS)
    if any(total.get(figure) for figure in WIKIDATA_METRICS):
        keys += WIKIDATA_METRICS
    for figure in ("references_added", *WIKIDATA_METRICS):
        values[figure] = partial(_per_wiki_figure, figure, summary, campaign, ordered)
    return GrantReport(campaign, projects, tuple(values[key]() for key in keys))


def _per_wiki_figure(
    figure: str,
    summary: Sequence[Row],
    campaign: bool,
    ordered: Callable[[Mapping[str, int]], dict[str, int]],
) -> GrantRow:
    """A figure of the summary's total row, per project from a program's wiki rows (a
    stored report from before the figure existed: not yet known)."""
    value = summary[-1].get(figure)
    if not isinstance(value, int):
        return GrantRow(figure, None, NOT_YET_KNOWN)
    if campaign:
        return GrantRow(figure, value)
    per = {str(row["wiki"]): int(row.get(figure) or 0) for row in summary[:-1]}
    return GrantRow(figure, value, per_project=ordered(per))


def _editors(total: Row) -> tuple[int | None, str | None]:
    value = total.get("editors")
    return (value, None) if isinstance(value, int) else (None, NOT_YET_KNOWN)


def grant_json(report: GrantReport, messages: Messages) -> dict[str, Any]:
    """The report as JSON-ready data: each metric's key, label, value (null with
    ``missing`` when not known) and per-project values."""
    return {
        "format": "grant",
        "kind": "campaign" if report.campaign else "program",
        "projects": list(report.projects),
        "metrics": [
            {
                "key": row.key,
                "label": messages.text(f"grant-{row.key}"),
                "value": row.value,
                "missing": row.missing,
                "per_project": None if row.per_project is None else dict(row.per_project),
            }
            for row in report.rows
        ],
    }


def grant_wikitext(report: GrantReport, title: str, messages: Messages) -> str:
    """The report as a wikitable to paste into a report page: a row per metric, its total,
    and a column per project where the forms ask per project."""

    def cell(value: int | None, missing: str | None) -> str:
        return str(value) if value is not None else f"''{messages.text(f'grant-{missing}')}''"

    lines = [
        '{| class="wikitable"',
        f"|+ {messages.text('grant-caption', inert(title))}",
        "! "
        + " !! ".join(
            [messages.text("grant-metric"), messages.text("grant-total")]
            + [inert(p) for p in report.projects]
        ),
    ]
    for row in report.rows:
        cells = [messages.text(f"grant-{row.key}"), cell(row.value, row.missing)]
        per = row.per_project
        cells += [str(per[p]) if per is not None else "" for p in report.projects]
        lines += ["|-", "| " + " || ".join(cells)]
    lines.append("|}")
    return "\n".join(lines) + "\n"
