"""What the API last read of each program page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store import tables as t
from bot.store.database import Database, columns, select_where, upsert


@dataclass(frozen=True)
class ProgramSnapshot:
    """What the API last read of a program page, for answering while the wiki is down."""

    wiki: str
    title: str
    name: str
    registration: str
    start: datetime | None
    end: datetime | None
    participants: tuple[str, ...]
    fetched_at: datetime


class SnapshotStore(Database):
    """One snapshot a program page, replaced by each newer read."""

    def save_program(self, snapshot: ProgramSnapshot) -> None:
        """Keep what was last read of a program page (replacing the older snapshot)."""
        with self.engine.begin() as conn:
            upsert(conn, t.program_snapshots, columns(snapshot), ("wiki", "title"))

    def program(self, wiki: str, title: str) -> ProgramSnapshot | None:
        return self._record(
            ProgramSnapshot, select_where(t.program_snapshots, wiki=wiki, title=title)
        )
