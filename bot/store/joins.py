"""Joins and leaves, from the moment the API accepts them until they are on the page."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.errors import StoreError
from bot.store import tables as t
from bot.store.database import Database, matching, naive, new_id, select_where

#: Join request states: waiting to be written to the page, on the page, given up, or
#: replaced by a later request of the same user before it was applied.
RECORDED, APPLIED, FAILED, SUPERSEDED = "recorded", "applied", "failed", "superseded"
JOIN, LEAVE = "join", "leave"


@dataclass(frozen=True)
class JoinRequest:
    """A join or leave, from the moment the API accepted it until it is on the page."""

    id: int
    wiki: str
    title: str
    username: str
    action: str
    state: str
    reason: str | None
    attempts: int
    revid: int | None
    created_at: datetime
    updated_at: datetime
    private: bool = False


def _pending_key(wiki: str, title: str, username: str) -> str:
    return hashlib.sha256(f"{wiki}\n{title}\n{username}".encode()).hexdigest()


class JoinStore(Database):
    """Join and leave requests and their states."""

    def record_join(
        self,
        wiki: str,
        title: str,
        username: str,
        action: str,
        now: datetime,
        *,
        private: bool = False,
    ) -> tuple[JoinRequest, bool]:
        """Record a join or leave; returns it and whether it is new.

        Asking again for what is already waiting or done answers with the existing
        request (joining twice is harmless). A waiting request of the opposite kind is
        superseded. Two simultaneous identical requests make one row: the second insert
        hits the unique pending key and reads the first.
        """
        table = t.join_requests
        key = _pending_key(wiki, title, username)
        for _ in range(3):
            latest = self.latest_join(wiki, title, username)
            if latest and latest.action == action and latest.state in (RECORDED, APPLIED):
                return latest, False
            try:
                with self.engine.begin() as conn:
                    if latest and latest.state == RECORDED:
                        conn.execute(
                            update(table)
                            .where(table.c.id == latest.id, table.c.state == RECORDED)
                            .values(state=SUPERSEDED, pending_key=None, updated_at=naive(now))
                        )
                    request_id = new_id(
                        conn.execute(
                            insert(table).values(
                                wiki=wiki,
                                title=title,
                                username=username,
                                action=action,
                                private=private,
                                state=RECORDED,
                                attempts=0,
                                created_at=naive(now),
                                updated_at=naive(now),
                                pending_key=key,
                            )
                        )
                    )
            except IntegrityError:
                continue  # someone recorded the same request at the same moment: read it
            request = self.join_request(request_id)
            assert request is not None
            return request, True
        raise StoreError(f"could not record the {action} of {username} on {title}")

    def join_request(self, request_id: int) -> JoinRequest | None:
        return self._record(JoinRequest, select_where(t.join_requests, id=request_id))

    def latest_join(
        self, wiki: str, title: str, username: str, *, states: Sequence[str] = ()
    ) -> JoinRequest | None:
        """The newest join or leave of this user on this page (in ``states`` if given)."""
        table = t.join_requests
        query = select_where(table, wiki=wiki, title=title, username=username).where(
            table.c.state != SUPERSEDED
        )
        if states:
            query = query.where(table.c.state.in_(states))
        return self._record(JoinRequest, query.order_by(table.c.id.desc()).limit(1))

    def join_history(self, wiki: str, title: str, username: str) -> list[JoinRequest]:
        """Every join and leave of this user on this page, superseded ones too, oldest
        first."""
        table = t.join_requests
        return self._records(
            JoinRequest,
            select_where(table, wiki=wiki, title=title, username=username).order_by(table.c.id),
        )

    def private_participants(self, wiki: str, title: str) -> list[str]:
        """Users who joined this page privately and have not left: kept here only."""
        table = t.join_requests
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.username, table.c.action, table.c.private)
                .where(*matching(table, wiki=wiki, title=title, state=APPLIED))
                .order_by(table.c.id)
            ).all()
        latest: dict[str, tuple[str, bool]] = {}
        for row in rows:
            latest[row.username] = (row.action, bool(row.private))
        return sorted(
            name for name, (action, private) in latest.items() if action == JOIN and private
        )

    def pending_pages(self) -> list[tuple[str, str]]:
        """Pages with joins or leaves waiting, oldest first."""
        table = t.join_requests
        query = (
            select(table.c.wiki, table.c.title, func.min(table.c.id).label("first"))
            .where(table.c.state == RECORDED)
            .group_by(table.c.wiki, table.c.title)
            .order_by("first")
        )
        with self.engine.connect() as conn:
            return [(row.wiki, row.title) for row in conn.execute(query)]

    def pending_joins(self, wiki: str, title: str) -> list[JoinRequest]:
        """Waiting joins and leaves of one page, in the order they were made."""
        table = t.join_requests
        return self._records(
            JoinRequest,
            select_where(table, wiki=wiki, title=title, state=RECORDED).order_by(table.c.id),
        )

    def finish_joins(
        self,
        ids: Sequence[int],
        state: str,
        now: datetime,
        *,
        revid: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Mark waiting requests as applied or failed (never touches finished ones)."""
        self._update_waiting(
            ids, state=state, revid=revid, reason=reason, pending_key=None, updated_at=naive(now)
        )

    def note_attempt(self, ids: Sequence[int], reason: str, now: datetime) -> None:
        """A try to apply these requests failed for a passing reason; they keep waiting."""
        attempts = t.join_requests.c.attempts + 1
        self._update_waiting(ids, attempts=attempts, reason=reason, updated_at=naive(now))

    def count_join_requests(
        self, since: datetime, *, wiki: str | None = None, username: str | None = None
    ) -> int:
        """Join and leave requests made since ``since`` (for rate limits)."""
        return self._count_since(t.join_requests, since, wiki=wiki, username=username)

    def _update_waiting(self, ids: Sequence[int], **values: object) -> None:
        """Change these requests, those of them still waiting only."""
        table = t.join_requests
        self._update_ids(table, ids, table.c.state == RECORDED, **values)
