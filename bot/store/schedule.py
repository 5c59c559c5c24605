"""The scheduler's view of every program and campaign page it knows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.store import tables as t
from bot.store.database import Database, column, matching, naive, select_where


@dataclass(frozen=True)
class ScheduleEntry:
    """What the scheduler knows of one program or campaign page."""

    wiki: str
    title: str
    kind: str
    phase: str
    next_due: datetime
    last_refreshed: datetime | None = None
    last_duration_ms: int | None = None
    last_requests: int | None = None
    last_error: str | None = None
    last_page_edit: datetime | None = None
    edit_pending: bool = False
    wikis: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()
    window_start: datetime | None = None
    window_end: datetime | None = None
    live_report: str | None = None
    live_at: datetime | None = None
    #: The program's key in the counted tables, when the change feed may update its figures.
    feed_key: str | None = None
    last_full: datetime | None = None


class ScheduleStore(Database):
    """When each known page is due, and what its last refresh found."""

    def add_to_schedule(self, wiki: str, title: str, kind: str, phase: str, due: datetime) -> bool:
        """Know a page from now on (due at ``due``); False if it was known already."""
        try:
            self._write(
                insert(t.schedule).values(
                    wiki=wiki,
                    title=title,
                    kind=kind,
                    phase=phase,
                    next_due=naive(due),
                    edit_pending=False,
                    wikis="",
                    participants="",
                )
            )
        except IntegrityError:
            return False
        return True

    def schedule_entries(self) -> list[ScheduleEntry]:
        """Every known page, the soonest due first."""
        return self._records(ScheduleEntry, select(t.schedule).order_by(t.schedule.c.next_due))

    def schedule_entry(self, wiki: str, title: str) -> ScheduleEntry | None:
        return self._record(ScheduleEntry, select_where(t.schedule, wiki=wiki, title=title))

    def due_entries(self, now: datetime, limit: int = 50) -> list[ScheduleEntry]:
        table = t.schedule
        return self._records(
            ScheduleEntry,
            select(table)
            .where(table.c.next_due <= naive(now))
            .order_by(table.c.next_due)
            .limit(limit),
        )

    def update_schedule(self, wiki: str, title: str, **values: Any) -> None:
        """Change some columns of a page's schedule entry (datetimes and tuples converted)."""
        table = t.schedule
        self._write(
            update(table)
            .where(*matching(table, wiki=wiki, title=title))
            .values({key: column(value) for key, value in values.items()})
        )

    def make_due(self, wiki: str, titles: Iterable[str], now: datetime) -> int:
        """Bring these pages forward to ``now`` (never later than they already were)."""
        table = t.schedule
        names = list(titles)
        if not names:
            return 0
        return self._write(
            update(table)
            .where(table.c.wiki == wiki, table.c.title.in_(names), table.c.next_due > naive(now))
            .values(next_due=naive(now))
        )
