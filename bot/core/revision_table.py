"""Many revisions held as columns, one tuple per field of :class:`Revision`.

A refresh reads back every revision its program counted (tens of thousands) and looks at
each once or twice; building a Revision object for each cost more than reading them from
the store. A table keeps the fields as the store gives them, hands out rows (plain tuples
in Revision's field order) to the loops that look at every revision, and builds a
Revision only when one is asked for: it is a Sequence[Revision] like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, compress
from typing import Any, Final, overload

from bot.core.contributions import Revision

#: A revision as a row: its fields in Revision's order.
Row = tuple[int, str, int, int, str, datetime, int, bool, str]
#: Where each field is in a row.
REVID: Final = 0
USER: Final = 1
PAGEID: Final = 2
NAMESPACE: Final = 3
TITLE: Final = 4
TIMESTAMP: Final = 5
SIZEDIFF: Final = 6
NEW: Final = 7
WIKIBASE: Final = 8
_WIDTH = 9


@dataclass(frozen=True, slots=True, eq=False)
class RevisionTable(Sequence[Revision]):
    """Revisions as nine equally long columns (tuples), in Revision's field order."""

    columns: tuple[tuple[Any, ...], ...] = ((),) * _WIDTH

    def __post_init__(self) -> None:
        if len(self.columns) != _WIDTH or len({len(c) for c in self.columns}) != 1:
            raise ValueError("a revision table needs nine columns of one length")

    @classmethod
    def from_rows(cls, rows: Iterable[Row]) -> RevisionTable:
        columns = tuple(zip(*rows, strict=True))
        return cls(columns) if columns else cls()

    @classmethod
    def from_revisions(cls, revisions: Iterable[Revision]) -> RevisionTable:
        if isinstance(revisions, RevisionTable):
            return revisions
        return cls.from_rows(map(row_of, revisions))

    @classmethod
    def joined(cls, tables: Sequence[RevisionTable]) -> RevisionTable:
        """The tables one after the other."""
        if len(tables) == 1:
            return tables[0]
        return cls(
            tuple(tuple(chain.from_iterable(t.columns[n] for t in tables)) for n in range(_WIDTH))
        )

    @property
    def revids(self) -> tuple[int, ...]:
        return self.columns[REVID]

    def column(self, field: int) -> tuple[Any, ...]:
        """One field of every revision (``USER``, ``TIMESTAMP``, ...)."""
        return self.columns[field]

    def kept(self, keep: Sequence[bool]) -> RevisionTable:
        """The revisions whose ``keep`` is true, in their order."""
        if all(keep):
            return self
        return RevisionTable(tuple(tuple(compress(column, keep)) for column in self.columns))

    def with_rows(self, rows: Iterable[Row]) -> RevisionTable:
        """These revisions added (one with an id the table holds replaces it), in
        revision-id order."""
        added = sorted(rows, key=lambda row: row[REVID])
        if not added:
            return self
        if not self or self.columns[REVID][-1] < added[0][REVID]:
            extra = tuple(zip(*added, strict=True))
            return RevisionTable(tuple(a + b for a, b in zip(self.columns, extra, strict=True)))
        by_id = {row[REVID]: row for row in self.rows()}
        by_id.update((row[REVID], row) for row in added)
        return RevisionTable.from_rows(sorted(by_id.values(), key=lambda row: row[REVID]))

    def moved(self, moves: dict[int, tuple[int, str]]) -> RevisionTable:
        """The revisions at these positions on pages now at (namespace, title)."""
        if not moves:
            return self
        namespaces, titles = list(self.columns[NAMESPACE]), list(self.columns[TITLE])
        for at, (namespace, title) in moves.items():
            namespaces[at], titles[at] = namespace, title
        columns = list(self.columns)
        columns[NAMESPACE], columns[TITLE] = tuple(namespaces), tuple(titles)
        return RevisionTable(tuple(columns))

    def rows(self) -> Iterator[Row]:
        return zip(*self.columns, strict=True)

    def renamed(self, users: dict[str, str]) -> RevisionTable:
        """The same revisions with these authors' names replaced (old -> new)."""
        names = tuple(users.get(user, user) for user in self.columns[USER])
        return RevisionTable((*self.columns[:USER], names, *self.columns[USER + 1 :]))

    def __len__(self) -> int:
        return len(self.columns[REVID])

    @overload
    def __getitem__(self, index: int) -> Revision: ...

    @overload
    def __getitem__(self, index: slice) -> RevisionTable: ...

    def __getitem__(self, index: int | slice) -> Revision | RevisionTable:
        if isinstance(index, slice):
            return RevisionTable(tuple(column[index] for column in self.columns))
        return Revision(*(column[index] for column in self.columns))

    def __iter__(self) -> Iterator[Revision]:
        return map(Revision, *self.columns)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RevisionTable):
            return self.columns == other.columns
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RevisionTable({list(self)!r})"


def row_of(rev: Revision) -> Row:
    return (
        rev.revid,
        rev.user,
        rev.pageid,
        rev.namespace,
        rev.title,
        rev.timestamp,
        rev.sizediff,
        rev.new,
        rev.wikibase,
    )


def revision_rows(revisions: Iterable[Revision]) -> Iterator[Row]:
    """Each revision as a row (a table's rows as it holds them)."""
    if isinstance(revisions, RevisionTable):
        return revisions.rows()
    return map(row_of, revisions)


def revision_ids(revisions: Iterable[Revision]) -> Iterable[int]:
    if isinstance(revisions, RevisionTable):
        return revisions.revids
    return (rev.revid for rev in revisions)
