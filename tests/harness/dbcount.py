"""Independent counts straight from a wiki's own SQLite tables.

Tests and the sandbox check the bot's figures against these; they share no code with
the bot's fetching or metrics, only the definitions in shared/docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from .wiki import LocalWiki


@dataclass(frozen=True)
class DbCounts:
    """One participant's (or a group's) figures on one wiki, from the database."""

    edits: int
    mainspace_edits: int
    articles_edited: int
    articles_created: int
    bytes_added: int
    uploads: int


#: The figures counted here, in the order reports show them.
DB_FIGURES = tuple(f.name for f in fields(DbCounts))


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def db_counts(wiki: LocalWiki, users: Sequence[str], start: datetime, end: datetime) -> DbCounts:
    """Figures for ``users`` together on ``wiki`` between ``start`` and ``end`` inclusive."""
    marks = ",".join("?" for _ in users)
    window = (_ts(start), _ts(end))
    base = f"""
        FROM revision r
        JOIN actor a ON a.actor_id = r.rev_actor
        JOIN page p ON p.page_id = r.rev_page
        WHERE a.actor_name IN ({marks}) AND r.rev_timestamp BETWEEN ? AND ?
    """
    params = (*users, *window)

    def one(select: str, extra: str = "") -> int:
        row = wiki.sql(f"SELECT {select} {base} {extra}", params)[0]
        return int(row[0] or 0)

    return DbCounts(
        edits=one("COUNT(*)"),
        mainspace_edits=one("COUNT(*)", "AND p.page_namespace = 0"),
        articles_edited=one(
            "COUNT(DISTINCT p.page_id)", "AND p.page_namespace = 0 AND p.page_is_redirect = 0"
        ),
        articles_created=one(
            "COUNT(DISTINCT p.page_id)",
            "AND p.page_namespace = 0 AND p.page_is_redirect = 0 AND r.rev_parent_id = 0",
        ),
        bytes_added=int(
            wiki.sql(
                f"""SELECT SUM(MAX(r.rev_len - COALESCE(parent.rev_len, 0), 0))
                FROM revision r
                JOIN actor a ON a.actor_id = r.rev_actor
                JOIN page p ON p.page_id = r.rev_page
                LEFT JOIN revision parent ON parent.rev_id = r.rev_parent_id
                WHERE a.actor_name IN ({marks}) AND r.rev_timestamp BETWEEN ? AND ?
                AND p.page_namespace = 0""",
                params,
            )[0][0]
            or 0
        ),
        uploads=int(
            wiki.sql(
                f"""SELECT COUNT(DISTINCT l.log_title) FROM logging l
                JOIN actor a ON a.actor_id = l.log_actor
                WHERE l.log_type = 'upload' AND l.log_action = 'upload'
                AND a.actor_name IN ({marks}) AND l.log_timestamp BETWEEN ? AND ?""",
                params,
            )[0][0]
            or 0
        ),
    )
