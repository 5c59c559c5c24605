"""A program's report as written on its page, as JSON-ready data and as CSV: pure functions."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

from bot.dates import format_moment
from bot.pageformat import OUTCOME_FIELDS, ROW_STATS
from bot.wikitext import current_outcomes_param, parse_program_page, read_outcome_rows
from gadget_api.programs import Program

PARTICIPANT_COLUMNS = ("username", "joined", *ROW_STATS)
OUTCOME_COLUMNS = ("wiki", *OUTCOME_FIELDS)
_INTEGER = re.compile(r"^-?\d+$")
#: A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like strings get a leading quote."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)  # our own integers: never a formula, and -5 stays a number
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row, cells made safe for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(column)) for column in columns])
    return out.getvalue()


def csv_filename(program: Program, table: str) -> tuple[str, str]:
    """An ASCII fallback name and the full UTF-8 name for Content-Disposition."""
    base = f"{program.title}-{table}".replace(" ", "_")
    for bad in '/\\:*?"<>|':
        base = base.replace(bad, "-")
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", base)[:150] + ".csv"
    return ascii_name, base[:150] + ".csv"
