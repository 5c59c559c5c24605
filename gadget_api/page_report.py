"""The report of a program as its page shows it (participant rows, outcome rows), as
JSON-ready data and as CSV: pure functions."""

from __future__ import annotations

import re
from typing import Any

from bot.core.dates import format_moment
from bot.core.exports import safe_cell, to_csv
from bot.core.pageformat import OUTCOME_FIELDS, ROW_STATS
from bot.core.program_page import current_outcomes_param, parse_program_page, read_outcome_rows
from gadget_api.programs import Program

#: The tables of a program's report: as the page has them, and from the bot's latest refresh.
PAGE_TABLES = ("participants", "outcomes")
LIVE_TABLES = ("summary", "participants-by-wiki", "articles", "uploads")
#: The tables of a campaign's report.
CAMPAIGN_TABLES = ("summary", "participants", "articles", "uploads")
PARTICIPANT_COLUMNS = ("username", "joined", *ROW_STATS)
OUTCOME_COLUMNS = ("wiki", *OUTCOME_FIELDS)
_INTEGER = re.compile(r"^-?\d+$")

__all__ = ["build_report", "figure", "safe_cell", "to_csv"]


def figure(value: str) -> int | None:
    """A figure as written: an integer, or None when empty or not a plain number."""
    value = value.strip().replace(",", "")
    return int(value) if _INTEGER.match(value) else None


def build_report(program: Program) -> dict[str, Any]:
    """Participant rows and per-wiki outcome rows, as the page has them now."""
    assert program.text is not None, "a report needs the page's text"
    page = parse_program_page(program.text)
    participants = [
        {
            "username": row.username,
            "joined": row.joined or None,
            **{name: figure(value) for name, value in row.stats},
        }
        for row in page.rows
    ]
    outcomes = [
        {"wiki": wiki, **{name: figure(fields.get(name, "")) for name in OUTCOME_FIELDS}}
        for wiki, fields in read_outcome_rows(program.text).items()
    ]
    return {
        "wiki": program.wiki,
        "title": program.title,
        "name": program.name,
        "start": format_moment(program.start) if program.start else None,
        "end": format_moment(program.end) if program.end else None,
        "computed": current_outcomes_param(program.text, "computed") or None,
        "revid": program.revid,
        "participants": participants,
        "outcomes": outcomes,
    }
