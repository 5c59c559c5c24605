"""The report of a program as its page shows it (participant rows, outcome rows, goals), as
JSON-ready data and as CSV: pure functions."""

from __future__ import annotations

import re
from typing import Any

from bot.core.dates import format_moment
from bot.core.exports import safe_cell, to_csv
from bot.core.goals import progress
from bot.core.pageformat import OUTCOME_FIELDS, ROW_STATS
from bot.core.program_page import (
    current_outcomes_param,
    current_outcomes_params,
    parse_program_page,
    read_outcome_rows,
)
from bot.core.render import TOTAL
from gadget_api.programs import Program

#: The tables of a program's report: as the page has them, and from the bot's latest refresh.
PAGE_TABLES = ("participants", "outcomes")
LIVE_TABLES = ("summary", "participants-by-wiki", "articles", "uploads")
#: The tables of a campaign's report.
CAMPAIGN_TABLES = ("summary", "participants", "articles", "uploads")
PARTICIPANT_COLUMNS = ("username", "joined", *ROW_STATS)
OUTCOME_COLUMNS = ("wiki", *OUTCOME_FIELDS)
_INTEGER = re.compile(r"^-?\d+$")

__all__ = ["build_report", "figure", "goal_progress", "safe_cell", "to_csv"]


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


def goal_progress(program: Program) -> list[dict[str, Any]] | None:
    """The program's goals with what the figures reached, as the bot last wrote them on the
    page (the figures its own {{Program goal}} rows show): the participants and the
    program-level figures of {{Program outcomes}}, the others of its total row. ``reached``
    is None while the page has no such figure (before the bot's first run, pageviews
    without a pageview service). None when the page's text is not known (a snapshot)."""
    if program.goals is None or program.text is None:
        return None
    if not program.goals:
        return []
    text = program.text
    total = read_outcome_rows(text).get(TOTAL, {})
    block = current_outcomes_params(text) or {}

    def written(name: str) -> int | None:
        value = total.get(name) if name in OUTCOME_FIELDS else block.get(name)
        return figure(value or "")

    reached = {name: written(name) for name, _ in program.goals}
    return [
        {"figure": name, "target": target, "reached": value}
        for name, target, value in progress(program.goals, reached)
    ]
