"""What the last refresh of each program counted, and up to when it fetched each wiki."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select
from sqlalchemy.exc import IntegrityError

from bot.core.contributions import PageState, Revision, Upload, WikiRecords
from bot.core.model import Window
from bot.core.references import RevisionReferences
from bot.core.revision_table import RevisionTable
from bot.store import tables as t
from bot.store.database import (
    Database,
    columns,
    from_row,
    matching,
    read,
    select_where,
    upsert,
)
from bot.store.revision_packs import Pack, cut, pack, unpack_kept


@dataclass(frozen=True)
class FetchMark:
    """Up to when a wiki was fetched for a program, for which participants, window and
    scope (the fingerprint), and what the account check of that fetch found."""

    fetched_until: datetime
    fingerprint: str
    existing: frozenset[str] = frozenset()
    invalid: frozenset[str] = frozenset()
    #: Listed names whose account was looked up in the rename log: "old\tnew" (new is
    #: empty for an account never renamed).
    renamed: tuple[str, ...] = ()
    #: From when the program's hashtag edits on the wiki are known (its recent changes
    #: reached back to then at the first count); None: no hashtags.
    complete_from: datetime | None = None
    #: The hashtags the program counted then (their edits are remembered with the others).
    hashtags: tuple[str, ...] = ()
    #: The program's window then (None in marks written before it was kept): what the next
    #: incremental fetch asks before the program page is parsed (bot.wiki.fetch.EarlyRead).
    window_start: datetime | None = None
    window_end: datetime | None = None

    @property
    def window(self) -> Window | None:
        if self.window_start is None or self.window_end is None:
            return None
        return Window(self.window_start, self.window_end)

    @property
    def renames(self) -> dict[str, str]:
        """The rename log's findings: listed name -> its account's name now ("" if never
        renamed)."""
        return dict(tuple(line.split("\t", 1)) for line in self.renamed if "\t" in line)  # type: ignore[misc]

    @staticmethod
    def rename_lines(renames: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(f"{old}\t{new}" for old, new in sorted(renames.items()))


class CountedStore(Database):
    """The revisions, pages and uploads a refresh counted, kept for the next one."""

    def remembered(self, program: str, wiki: str) -> WikiRecords:
        """What the last refresh of ``program`` counted on ``wiki``: its revisions, pages
        and uploads, and what the store knew then of the revisions' texts and of their
        parents' (as they were kept with the revisions)."""
        packs = t.counted_revision_packs
        query = select(packs.c.revisions).where(*matching(packs, program=program, wiki=wiki))
        parts: list[RevisionTable] = []
        texts: dict[int, RevisionReferences] = {}
        # One connection: the reads see the same refresh, never one half-replaced.
        with self.engine.connect() as conn:
            for (data,) in conn.execute(query.order_by(packs.c.pack)):
                part, known = unpack_kept(bytes(data))
                parts.append(part)
                texts.update(known)
            pages = read(conn, PageState, select_where(t.counted_pages, program=program, wiki=wiki))
            uploads = read(
                conn, Upload, select_where(t.counted_uploads, program=program, wiki=wiki)
            )
        return WikiRecords(
            wiki,
            RevisionTable.joined(parts),
            {page.pageid: page for page in pages},
            tuple(uploads),
            references=texts,
        )

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
        records = WikiRecords(wiki, tuple(revisions), pages, tuple(uploads))
        with self.engine.begin() as conn:
            _remember(conn, program, records)

    def remember_refresh(
        self,
        program: str,
        counted: Iterable[WikiRecords],
        marks: Iterable[tuple[str, FetchMark]],
        previous: Mapping[str, WikiRecords] | None = None,
    ) -> None:
        """What one refresh counted on each wiki (with what it knows of the texts) and up
        to when it fetched each, in one transaction: a process killed while writing leaves
        either all of it or none, never one wiki's records or marks newer than another's.

        ``previous``: per wiki, what the refresh read from the store before counting
        (``remembered``); only the difference is written then (a recount that changes
        nothing writes no record).
        """
        counted = list(counted)
        marks = list(marks)
        try:
            with self.engine.begin() as conn:
                for records in counted:
                    before = (previous or {}).get(records.wiki)
                    if before is None:
                        _remember(conn, program, records)
                    else:
                        _remember_difference(conn, program, records, before)
                for wiki, mark in marks:
                    _set_fetch_mark(conn, program, wiki, mark)
        except IntegrityError:
            # The store changed since it was read (not expected: a page is refreshed under
            # its lease): write everything instead of the difference.
            if previous is None:
                raise
            self.remember_refresh(program, counted, marks)

    def programs_remembering(
        self, wiki: str, pageids: Iterable[int], titles: Iterable[str]
    ) -> dict[str, set[int]]:
        """The programs whose last count on ``wiki`` included one of these pages (by id or
        title), with the ids of those pages."""
        table = t.counted_pages
        found: dict[str, set[int]] = {}
        with self.engine.connect() as conn:
            for column, values in ((table.c.pageid, list(pageids)), (table.c.title, list(titles))):
                for start in range(0, len(values), 500):
                    query = select(table.c.program, table.c.pageid).where(
                        table.c.wiki == wiki, column.in_(values[start : start + 500])
                    )
                    for program, pageid in conn.execute(query):
                        found.setdefault(str(program), set()).add(int(pageid))
        return found

    # -- what revision texts hold ------------------------------------------------------

    def revision_references(
        self, wiki: str, revids: Iterable[int]
    ) -> dict[int, RevisionReferences]:
        """What the store knows of these revisions' texts on ``wiki`` (any program's)."""
        table = t.revision_references
        wanted = sorted(set(revids))
        found: dict[int, RevisionReferences] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                query = select(table.c.revid, table.c.parentid, table.c.refs).where(
                    table.c.wiki == wiki, table.c.revid.in_(wanted[start : start + 500])
                )
                for revid, parentid, refs in conn.execute(query):
                    found[int(revid)] = RevisionReferences(
                        int(parentid), None if refs is None else int(refs)
                    )
        return found

    def revision_references_of(
        self, wiki: str, revids: Iterable[int]
    ) -> dict[int, RevisionReferences]:
        """What the store knows of these revisions' texts and of their parents' texts."""
        known = self.revision_references(wiki, revids)
        parents = {ref.parentid for ref in known.values() if ref.parentid} - known.keys()
        known.update(self.revision_references(wiki, parents))
        return known

    def references_of_revisions(
        self,
        wiki: str,
        revids: Iterable[int],
        counted: Mapping[int, RevisionReferences],
    ) -> dict[int, RevisionReferences]:
        """What the store knows of the texts of the revisions ``revids`` and of their
        parents, given what it knows of the texts a program counted last time
        (``counted``, read before): only the revisions that lacks are looked up."""
        revids = list(revids)
        known = {revid: counted[revid] for revid in revids if revid in counted}
        parents = {ref.parentid for ref in known.values() if ref.parentid in counted}
        known.update({parent: counted[parent] for parent in parents})
        new = [revid for revid in revids if revid not in known]
        if new:
            known.update(self.revision_references_of(wiki, new))
        return known

    def has_live_pages(self, program: str, wiki: str) -> bool:
        """Whether the last count of ``program`` on ``wiki`` knew a page that still existed
        (only then can page states be used again)."""
        table = t.counted_pages
        query = (
            select(table.c.pageid)
            .where(table.c.program == program, table.c.wiki == wiki, table.c.deleted.is_(False))
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def remember_revision_references(
        self, wiki: str, known: Mapping[int, RevisionReferences]
    ) -> None:
        """Keep what these revisions' texts hold. They were read because the store lacked
        them; a row another process wrote meanwhile says the same (a revision's text never
        changes), so a batch that meets one is written row by row, with the same values."""
        table = t.revision_references
        rows = [
            {"wiki": wiki, "revid": revid, "parentid": ref.parentid, "refs": ref.references}
            for revid, ref in known.items()
        ]
        for start in range(0, len(rows), 500):
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(table), rows[start : start + 500])
            except IntegrityError:
                with self.engine.begin() as conn:
                    for row in rows[start : start + 500]:
                        upsert(conn, table, row, ("wiki", "revid"))

    # -- incremental fetching ----------------------------------------------------------

    def fetch_mark(self, program: str, wiki: str) -> FetchMark | None:
        """Up to when ``wiki`` was fetched for ``program``, and for what."""
        return self._record(FetchMark, select_where(t.fetch_marks, program=program, wiki=wiki))

    def fetch_marks(self, program: str) -> dict[str, FetchMark]:
        """Every wiki's fetch mark of ``program``, by wiki."""
        table = t.fetch_marks
        with self.engine.connect() as conn:
            rows = conn.execute(select_where(table, program=program)).all()
        return {str(row.wiki): from_row(FetchMark, row) for row in rows}

    def set_fetch_mark(self, program: str, wiki: str, mark: FetchMark) -> None:
        with self.engine.begin() as conn:
            _set_fetch_mark(conn, program, wiki, mark)

    def forget_fetch_marks(self, program: str) -> None:
        """Make the next refresh of ``program`` a full one."""
        self._write(delete(t.fetch_marks).where(t.fetch_marks.c.program == program))


def _remember(conn: Connection, program: str, records: WikiRecords) -> None:
    """Replace what is remembered for ``program`` on the records' wiki (in the caller's
    transaction)."""
    key = {"program": program, "wiki": records.wiki}
    # The title is the uploads' key: a file uploaded again (after a deletion) is one row.
    by_title = {upload.title: upload for upload in records.uploads}
    replaced: tuple[tuple[Table, Iterable[PageState | Upload]], ...] = (
        (t.counted_pages, records.pages.values()),
        (t.counted_uploads, by_title.values()),
    )
    for table, _ in replaced:
        conn.execute(delete(table).where(*matching(table, **key)))
    for table, rows in replaced:
        values = [{**key, **columns(record)} for record in rows]
        if values:
            conn.execute(insert(table), values)
    _write_packs(conn, key, [], cut(records.revisions, records.references))


def _remember_difference(
    conn: Connection, program: str, now: WikiRecords, before: WikiRecords
) -> None:
    """Write only what differs from ``before`` (what the store held when it was read)."""
    key = {"program": program, "wiki": now.wiki}
    tables: tuple[tuple[Table, str, dict[Any, Any], dict[Any, Any]], ...] = (
        (t.counted_pages, "pageid", dict(before.pages), dict(now.pages)),
        (
            t.counted_uploads,
            "title",
            {u.title: u for u in before.uploads},
            {u.title: u for u in now.uploads},
        ),
    )
    for table, column, old, new in tables:
        gone = [k for k, record in old.items() if new.get(k) != record]
        added = [record for k, record in new.items() if old.get(k) != record]
        for batch in range(0, len(gone), 500):
            conn.execute(
                delete(table).where(
                    *matching(table, **key), table.c[column].in_(gone[batch : batch + 500])
                )
            )
        if added:
            conn.execute(insert(table), [{**key, **columns(record)} for record in added])
    _write_packs(
        conn,
        key,
        cut(before.revisions, before.references),
        cut(now.revisions, now.references),
    )


def _write_packs(
    conn: Connection, key: Mapping[str, str], old: Sequence[Pack], new: Sequence[Pack]
) -> None:
    """Write the packs of ``new`` that differ from ``old`` (what the store holds; none:
    every pack is written), and drop the packs beyond ``new``'s last."""
    table = t.counted_revision_packs
    changed = [n for n, part in enumerate(new) if n >= len(old) or old[n] != part]
    if not old:
        conn.execute(delete(table).where(*matching(table, **key)))
    else:
        dropped = [*changed, *range(len(new), len(old))]
        for batch in range(0, len(dropped), 500):
            conn.execute(
                delete(table).where(
                    *matching(table, **key), table.c.pack.in_(dropped[batch : batch + 500])
                )
            )
    if changed:
        rows = [{**key, "pack": n, "revisions": pack(*new[n])} for n in changed]
        conn.execute(insert(table), rows)


def _set_fetch_mark(conn: Connection, program: str, wiki: str, mark: FetchMark) -> None:
    upsert(
        conn,
        t.fetch_marks,
        {"program": program, "wiki": wiki, **columns(mark)},
        ("program", "wiki"),
    )
