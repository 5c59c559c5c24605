"""Requests for a statistics update of a program now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from bot.store import tables as t
from bot.store.database import Database, naive, new_id


@dataclass(frozen=True)
class RefreshRequest:
    """Someone asked for a statistics update of a program now."""

    id: int
    wiki: str
    title: str
    username: str
    created_at: datetime
    done_at: datetime | None


class RefreshRequestStore(Database):
    """Refresh requests, from the API until a worker has refreshed the program."""

    def add_refresh_request(
        self, wiki: str, title: str, username: str, now: datetime
    ) -> RefreshRequest:
        table = t.refresh_requests
        with self.engine.begin() as conn:
            request_id = new_id(
                conn.execute(
                    insert(table).values(
                        wiki=wiki, title=title, username=username, created_at=naive(now)
                    )
                )
            )
        return RefreshRequest(request_id, wiki, title, username, now, None)

    def count_refresh_requests(
        self,
        since: datetime,
        *,
        wiki: str | None = None,
        title: str | None = None,
        username: str | None = None,
    ) -> int:
        """Refresh requests made since ``since``, by a user and/or for a page."""
        return self._count_since(
            t.refresh_requests, since, wiki=wiki, title=title, username=username
        )

    def pending_refresh_requests(self) -> list[RefreshRequest]:
        table = t.refresh_requests
        return self._records(
            RefreshRequest, select(table).where(table.c.done_at.is_(None)).order_by(table.c.id)
        )

    def finish_refresh_requests(self, ids: Sequence[int], now: datetime) -> None:
        self._update_ids(t.refresh_requests, ids, done_at=naive(now))
