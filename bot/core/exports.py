"""A program's report as tables (summary, participants, articles, uploads) and as CSV or
JSON, and the live report the Join API serves: pure functions over what a refresh computed
and fetched.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from bot.core.campaign import CampaignOutcomes, ProgramRecords
from bot.core.contributions import MAIN_NAMESPACE, WikiRecords
from bot.core.dates import format_moment
from bot.core.editors import RETENTION_DELAYS
from bot.core.extras import EXTRA_FIELDS, Extras
from bot.core.metrics import Outcomes, compute_outcomes, contributors
from bot.core.model import Window
from bot.core.pageformat import CONTENT_FIELDS, OUTCOME_FIELDS
from bot.core.references import added_by

TABLES = ("summary", "participants", "articles", "uploads")
#: A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Row = dict[str, Any]


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like strings get a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)  # our own integers: never a formula, and -5 stays a number
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row, cells made safe for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _retention(extras: Extras | None, user: str, index: int) -> str | None:
    if extras is None or extras.editors is None or user not in extras.editors.new:
        return None
    retained = extras.editors.retained.get(RETENTION_DELAYS[index])
    return "not yet known" if retained is None else ("yes" if user in retained else "no")


def program_tables(
    outcomes: Outcomes,
    records: Sequence[WikiRecords],
    window: Window,
    extras: Extras | None = None,
    hidden: Iterable[str] = (),
) -> dict[str, list[Row]]:
    """The four tables of a program's report (participants in the outcomes' order).

    ``hidden`` (private participants) count in the totals but appear in no row: not as
    participants, article editors or uploaders.
    """
    secret = set(hidden)
    wikis = [r.wiki for r in records]
    figures = (*OUTCOME_FIELDS, *CONTENT_FIELDS)
    summary: list[Row] = [
        {"wiki": wiki, **{f: getattr(c, f) for f in figures}}
        for wiki, c in outcomes.per_wiki.items()
    ]
    total: Row = {"wiki": "total", **{f: getattr(outcomes.total, f) for f in figures}}
    total["participants"] = len(outcomes.participants)
    total["editors"] = len(contributors(outcomes))
    if extras is not None:
        total.update(dict(zip(EXTRA_FIELDS, _extra_values(extras), strict=True)))
    summary.append(total)

    participants: list[Row] = []
    for user in outcomes.participants:
        if user in secret:
            continue
        row: Row = {"username": user}
        for wiki in wikis:
            counts = outcomes.per_user_wiki[(user, wiki)]
            row[f"{wiki} edits"] = counts.edits
            row[f"{wiki} articles edited"] = counts.articles_edited
            row[f"{wiki} articles created"] = counts.articles_created
        mine = outcomes.per_user[user]
        for figure in CONTENT_FIELDS:
            row[figure.replace("_", " ")] = getattr(mine, figure)
        new = extras is not None and extras.editors is not None and user in extras.editors.new
        row["new editor"] = new if extras is not None and extras.editors is not None else None
        row["retained after 7 days"] = _retention(extras, user, 0)
        row["retained after 30 days"] = _retention(extras, user, 1)
        participants.append(row)

    articles: dict[tuple[str, int], Row] = {}
    who = set(outcomes.participants)
    for wiki_records in records:
        for rev in sorted(wiki_records.revisions, key=lambda r: r.timestamp):
            page = wiki_records.pages.get(rev.pageid)
            if rev.user not in who or rev.timestamp not in window or page is None:
                continue
            if page.namespace != MAIN_NAMESPACE or page.redirect or not page.in_scope:
                continue
            row = articles.setdefault(
                (wiki_records.wiki, rev.pageid),
                {
                    "wiki": wiki_records.wiki,
                    "title": page.title,
                    "created": False,
                    "edits": 0,
                    "bytes_added": 0,
                    "references_added": 0,
                    "editors": [],
                    "deleted": page.deleted,
                    "pageviews": None
                    if extras is None
                    else extras.article_views.get((wiki_records.wiki, page.title)),
                },
            )
            row["created"] = row["created"] or rev.new
            row["edits"] += 1
            row["bytes_added"] += max(rev.sizediff, 0)
            row["references_added"] += added_by(rev.revid, wiki_records.references)
            if rev.user not in row["editors"] and rev.user not in secret:
                row["editors"].append(rev.user)
    article_rows = [
        {**row, "editors": "; ".join(row["editors"])}
        for row in sorted(articles.values(), key=lambda r: (r["wiki"], r["title"]))
    ]

    uploads = sorted(
        (
            {
                "wiki": r.wiki,
                "title": u.title,
                "user": "" if u.user in secret else u.user,
                "timestamp": format_moment(u.timestamp),
            }
            for r in records
            for u in r.uploads
            if u.user in who and u.timestamp in window
        ),
        key=lambda row: (row["wiki"], row["title"]),
    )
    unique_uploads = list({(u["wiki"], u["title"]): u for u in uploads}.values())
    return {
        "summary": summary,
        "participants": participants,
        "articles": article_rows,
        "uploads": unique_uploads,
    }


def _extra_values(extras: Extras) -> list[int | str | None]:
    def known(value: int | None) -> int | str:
        return "not yet known" if value is None else value

    return [
        extras.new_editors,
        known(extras.retained_7),
        known(extras.retained_30),
        extras.file_usage,
        extras.pageviews,
        extras.pageviews_created,
        extras.pageviews_improved,
    ]


def columns_of(rows: Sequence[Mapping[str, Any]], table: str) -> list[str]:
    """A table's columns in a stable order (every key any row has, first row first)."""
    defaults = {
        "summary": ["wiki", *OUTCOME_FIELDS, *CONTENT_FIELDS, "participants", *EXTRA_FIELDS],
        "articles": [
            "wiki",
            "title",
            "created",
            "edits",
            "bytes_added",
            "references_added",
            "editors",
            "deleted",
            "pageviews",
        ],
        "uploads": ["wiki", "title", "user", "timestamp"],
    }
    present = {key for row in rows for key in row}
    columns = [c for c in defaults.get(table, []) if c in present or not rows]
    for row in rows:
        columns += [key for key in row if key not in columns]
    return columns


def tables_as_json(tables: Mapping[str, Sequence[Mapping[str, Any]]], **about: Any) -> str:
    """All tables in one JSON document."""
    return json.dumps({**about, **tables}, ensure_ascii=False, indent=2, sort_keys=False)


def campaign_tables(
    outcomes: CampaignOutcomes, programs: Sequence[ProgramRecords]
) -> dict[str, list[Row]]:
    """A campaign's report: a row per program and the deduplicated total, each
    participant once (with their programs), each article and upload once. Private
    participants count in the figures and appear in no row."""
    secret = {name for program in programs for name in program.private}
    summary: list[Row] = [
        {
            "program": row.title,
            "participants": len(row.outcomes.participants) if row.outcomes else None,
            **{
                f: getattr(row.outcomes.total, f) if row.outcomes else None
                for f in (*OUTCOME_FIELDS, *CONTENT_FIELDS)
            },
        }
        for row in outcomes.programs
    ]
    summary.append(
        {
            "program": "total",
            "participants": len(outcomes.participants),
            # A participant of several programs is one editor if they edited in any.
            "editors": len(
                frozenset[str]().union(
                    *(contributors(p.outcomes) for p in outcomes.programs if p.outcomes)
                )
            ),
            **{f: getattr(outcomes.total, f) for f in (*OUTCOME_FIELDS, *CONTENT_FIELDS)},
        }
    )
    member: dict[str, list[str]] = {}
    articles: dict[tuple[str, str], Row] = {}
    uploads: dict[tuple[str, str], Row] = {}
    for program in programs:
        if program.window is None:
            continue
        own = compute_outcomes(program.participants, program.window, program.records)
        for name in own.participants:
            if name not in secret:
                member.setdefault(name, []).append(program.title)
        tables = program_tables(own, program.records, program.window, hidden=secret)
        for article in tables["articles"]:
            key = (article["wiki"], article["title"])
            if key in articles:
                merged = articles[key]
                merged["created"] = merged["created"] or article["created"]
                editors = merged["editors"].split("; ") + article["editors"].split("; ")
                merged["editors"] = "; ".join(dict.fromkeys(e for e in editors if e))
                merged["programs"] += "; " + program.title
            else:
                articles[key] = {**article, "programs": program.title}
                # Edits and bytes differ per program window; the campaign lists who and
                # where, the totals above count each revision once.
                for figure in ("edits", "bytes_added", "references_added"):
                    articles[key].pop(figure)
        for upload in tables["uploads"]:
            uploads.setdefault((upload["wiki"], upload["title"]), upload)
    participants = [
        {"username": name, "programs": "; ".join(titles)} for name, titles in member.items()
    ]
    return {
        "summary": summary,
        "participants": participants,
        "articles": [articles[key] for key in sorted(articles)],
        "uploads": [uploads[key] for key in sorted(uploads)],
    }


def live_report(
    outcomes: Outcomes | None,
    computed: datetime,
    hidden: Iterable[str] = (),
    tables: Mapping[str, object] | None = None,
) -> str:
    """The figures as JSON for the API's live report; ``hidden`` (private participants)
    count in the totals only."""

    def counts(value: object) -> dict[str, int]:
        return {f.name: getattr(value, f.name) for f in fields(value)}  # type: ignore[arg-type]

    secret = set(hidden)
    if outcomes is None:
        return json.dumps({"computed": format_moment(computed), "figures": None})
    return json.dumps(
        {
            "computed": format_moment(computed),
            "participants": len(outcomes.participants),
            "per_participant": {
                user: counts(c) for user, c in outcomes.per_user.items() if user not in secret
            },
            "per_wiki": {wiki: counts(c) for wiki, c in outcomes.per_wiki.items()},
            "total": counts(outcomes.total),
            "deleted_articles": [
                {"wiki": d.wiki, "title": d.title} for d in outcomes.deleted_articles
            ],
            # The report's tables (bot/exports.py), for the API's CSV and JSON exports.
            "tables": dict(tables or {}),
        },
        sort_keys=True,
    )
