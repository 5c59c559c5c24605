"""What the last refresh of each program counted, and up to when it fetched each wiki."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, delete, insert

from bot.core.contributions import PageState, Revision, Upload
from bot.store import tables as t
from bot.store.database import Database, columns, matching, read, select_where, upsert

#: What a refresh counted on one wiki: the wiki, its revisions, pages and uploads.
Counted = tuple[str, Iterable[Revision], Mapping[int, PageState], Iterable[Upload]]


@dataclass(frozen=True)
class FetchMark:
    """Up to when a wiki was fetched for a program, for which participants, window and
    scope (the fingerprint), and what the account check of that fetch found."""

    fetched_until: datetime
    fingerprint: str
    existing: frozenset[str] = frozenset()
    invalid: frozenset[str] = frozenset()


class CountedStore(Database):
    """The revisions, pages and uploads a refresh counted, kept for the next one."""

    def remembered(self, program: str, wiki: str) -> tuple[list[Revision], dict[int, PageState]]:
        """What the last refresh of ``program`` counted on ``wiki``."""
        # One connection: both reads see the same refresh, never one half-replaced.
        with self.engine.connect() as conn:
            revisions = read(
                conn, Revision, select_where(t.counted_revisions, program=program, wiki=wiki)
            )
            pages = read(conn, PageState, select_where(t.counted_pages, program=program, wiki=wiki))
        return revisions, {page.pageid: page for page in pages}

    def remembered_uploads(self, program: str, wiki: str) -> list[Upload]:
        """The uploads the last refresh of ``program`` counted on ``wiki``."""
        return self._records(Upload, select_where(t.counted_uploads, program=program, wiki=wiki))

    def remember(
        self,
        program: str,
        wiki: str,
        revisions: Iterable[Revision],
        pages: Mapping[int, PageState],
        uploads: Iterable[Upload] = (),
    ) -> None:
        """Replace what is remembered for ``program`` on ``wiki``, in one transaction."""
        with self.engine.begin() as conn:
            _remember(conn, program, wiki, revisions, pages, uploads)

    def remember_refresh(
        self,
        program: str,
        counted: Iterable[Counted],
        marks: Iterable[tuple[str, FetchMark]],
    ) -> None:
        """What one refresh counted on each wiki and up to when it fetched each, in one
        transaction: a process killed while writing leaves either all of it or none, never
        one wiki's records or marks newer than another's."""
        with self.engine.begin() as conn:
            for wiki, revisions, pages, uploads in counted:
                _remember(conn, program, wiki, revisions, pages, uploads)
            for wiki, mark in marks:
                _set_fetch_mark(conn, program, wiki, mark)

    # -- incremental fetching ----------------------------------------------------------

    def fetch_mark(self, program: str, wiki: str) -> FetchMark | None:
        """Up to when ``wiki`` was fetched for ``program``, and for what."""
        return self._record(FetchMark, select_where(t.fetch_marks, program=program, wiki=wiki))

    def set_fetch_mark(self, program: str, wiki: str, mark: FetchMark) -> None:
        with self.engine.begin() as conn:
            _set_fetch_mark(conn, program, wiki, mark)

    def forget_fetch_marks(self, program: str) -> None:
        """Make the next refresh of ``program`` a full one."""
        self._write(delete(t.fetch_marks).where(t.fetch_marks.c.program == program))


def _remember(
    conn: Connection,
    program: str,
    wiki: str,
    revisions: Iterable[Revision],
    pages: Mapping[int, PageState],
    uploads: Iterable[Upload],
) -> None:
    """Replace what is remembered for ``program`` on ``wiki`` (in the caller's transaction)."""
    key = {"program": program, "wiki": wiki}
    # The title is the uploads' key: a file uploaded again (after a deletion) is one row.
    by_title = {upload.title: upload for upload in uploads}
    replaced: tuple[tuple[Table, Iterable[Revision | PageState | Upload]], ...] = (
        (t.counted_revisions, revisions),
        (t.counted_pages, pages.values()),
        (t.counted_uploads, by_title.values()),
    )
    for table, _ in replaced:
        conn.execute(delete(table).where(*matching(table, **key)))
    for table, records in replaced:
        rows = [{**key, **columns(record)} for record in records]
        if rows:
            conn.execute(insert(table), rows)


def _set_fetch_mark(conn: Connection, program: str, wiki: str, mark: FetchMark) -> None:
    upsert(
        conn,
        t.fetch_marks,
        {"program": program, "wiki": wiki, **columns(mark)},
        ("program", "wiki"),
    )
