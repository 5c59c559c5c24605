"""What earlier refreshes counted, kept in SQL so deleted articles are never dropped.

SQLite by default (a file beside user-config.py); any SQLAlchemy URL through the
``PROGRAMS_BOT_DB`` environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
    select,
)

from bot.records import PageState, Revision

metadata = MetaData()

revisions_table = Table(
    "counted_revisions",
    metadata,
    Column("program", String(255), primary_key=True),
    Column("wiki", String(255), primary_key=True),
    Column("revid", Integer, primary_key=True, autoincrement=False),
    Column("user", String(255), nullable=False),
    Column("pageid", Integer, nullable=False),
    Column("namespace", Integer, nullable=False),
    Column("title", String(255), nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("sizediff", Integer, nullable=False),
    Column("new", Boolean, nullable=False),
)

pages_table = Table(
    "counted_pages",
    metadata,
    Column("program", String(255), primary_key=True),
    Column("wiki", String(255), primary_key=True),
    Column("pageid", Integer, primary_key=True, autoincrement=False),
    Column("namespace", Integer, nullable=False),
    Column("title", String(255), nullable=False),
    Column("redirect", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("in_scope", Boolean, nullable=False),
)


def default_url(base_dir: Path) -> str:
    """The store's URL: ``PROGRAMS_BOT_DB`` or a SQLite file in ``base_dir``."""
    return os.environ.get("PROGRAMS_BOT_DB") or f"sqlite:///{base_dir / 'programs-bot.sqlite'}"


class Store:
    """Per program and wiki, the revisions and pages the last refresh counted."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)
        metadata.create_all(self.engine)

    def remembered(self, program: str, wiki: str) -> tuple[list[Revision], dict[int, PageState]]:
        """What the last refresh of ``program`` counted on ``wiki``."""
        with self.engine.connect() as conn:
            rev_rows = conn.execute(
                select(revisions_table).where(
                    revisions_table.c.program == program, revisions_table.c.wiki == wiki
                )
            ).all()
            page_rows = conn.execute(
                select(pages_table).where(
                    pages_table.c.program == program, pages_table.c.wiki == wiki
                )
            ).all()
        revisions = [
            Revision(
                r.revid,
                r.user,
                r.pageid,
                r.namespace,
                r.title,
                r.timestamp.replace(tzinfo=UTC),
                r.sizediff,
                r.new,
            )
            for r in rev_rows
        ]
        pages = {
            p.pageid: PageState(p.pageid, p.namespace, p.title, p.redirect, p.deleted, p.in_scope)
            for p in page_rows
        }
        return revisions, pages

    def remember(
        self,
        program: str,
        wiki: str,
        revisions: Iterable[Revision],
        pages: Mapping[int, PageState],
    ) -> None:
        """Replace what is remembered for ``program`` on ``wiki``, in one transaction."""
        rev_values = [
            {
                "program": program,
                "wiki": wiki,
                "revid": r.revid,
                "user": r.user,
                "pageid": r.pageid,
                "namespace": r.namespace,
                "title": r.title,
                "timestamp": _naive_utc(r.timestamp),
                "sizediff": r.sizediff,
                "new": r.new,
            }
            for r in revisions
        ]
        page_values = [
            {
                "program": program,
                "wiki": wiki,
                "pageid": p.pageid,
                "namespace": p.namespace,
                "title": p.title,
                "redirect": p.redirect,
                "deleted": p.deleted,
                "in_scope": p.in_scope,
            }
            for p in pages.values()
        ]
        with self.engine.begin() as conn:
            for table in (revisions_table, pages_table):
                conn.execute(delete(table).where(table.c.program == program, table.c.wiki == wiki))
            if rev_values:
                conn.execute(insert(revisions_table), rev_values)
            if page_values:
                conn.execute(insert(pages_table), page_values)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
