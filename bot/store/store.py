"""The SQL store shared by the bot, the Join API and the workers.

SQLite by default; MariaDB and PostgreSQL by URL. The schema comes from Alembic's
migrations (``bot/store/migrations``), applied when a Store opens a database.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Row,
    Table,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.core.contributions import PageState, Revision, Upload
from bot.core.errors import ProgramsBotError
from bot.store import tables as t
from bot.store.records import (
    APPLIED,
    RECORDED,
    SUPERSEDED,
    ApiToken,
    FetchMark,
    JoinRequest,
    ProgramSnapshot,
    RefreshRequest,
    ScheduleEntry,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: What a refresh counted on one wiki: the wiki, its revisions, pages and uploads.
Counted = tuple[str, Iterable[Revision], Mapping[int, PageState], Iterable[Upload]]
_EPOCH = datetime(1970, 1, 1)


class StoreError(ProgramsBotError):
    """The database could not be used."""


def default_url(base_dir: Path) -> str:
    """The store's URL: ``PROGRAMS_BOT_DB`` or a SQLite file in ``base_dir``."""
    return os.environ.get("PROGRAMS_BOT_DB") or f"sqlite:///{base_dir / 'programs-bot.sqlite'}"


def _naive(moment: datetime) -> datetime:
    """UTC without tzinfo: what every engine stores the same way."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None else None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _pending_key(wiki: str, title: str, username: str) -> str:
    return hashlib.sha256(f"{wiki}\n{title}\n{username}".encode()).hexdigest()


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database returned no id for a new row")
    return int(key[0])


def _join(row: Row[Any]) -> JoinRequest:
    return JoinRequest(
        id=row.id,
        wiki=row.wiki,
        title=row.title,
        username=row.username,
        action=row.action,
        state=row.state,
        reason=row.reason,
        attempts=row.attempts,
        revid=row.revid,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
        private=bool(row.private),
    )


class Store:
    """Every table the project keeps, behind one object; safe to share between threads."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        options: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            # Several threads and processes write: wait for SQLite's lock, don't fail.
            options["connect_args"] = {"timeout": 30}
        try:
            self.engine: Engine = create_engine(url, **options)
            if migrate:
                self.migrate()
        except SQLAlchemyError as error:
            raise StoreError(f"cannot open the store {url}: {error}") from error

    def migrate(self) -> None:
        """Bring the schema to the newest migration (a no-op when it is there)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    # -- what refreshes counted --------------------------------------------------------

    def remembered(self, program: str, wiki: str) -> tuple[list[Revision], dict[int, PageState]]:
        """What the last refresh of ``program`` counted on ``wiki``."""
        revs, pages = t.counted_revisions, t.counted_pages
        with self.engine.connect() as conn:
            rev_rows = conn.execute(
                select(revs).where(revs.c.program == program, revs.c.wiki == wiki)
            ).all()
            page_rows = conn.execute(
                select(pages).where(pages.c.program == program, pages.c.wiki == wiki)
            ).all()
        revisions = [
            Revision(
                r.revid,
                r.user,
                r.pageid,
                r.namespace,
                r.title,
                _utc(r.timestamp),
                r.sizediff,
                r.new,
            )
            for r in rev_rows
        ]
        states = {
            p.pageid: PageState(p.pageid, p.namespace, p.title, p.redirect, p.deleted, p.in_scope)
            for p in page_rows
        }
        return revisions, states

    def remembered_uploads(self, program: str, wiki: str) -> list[Upload]:
        """The uploads the last refresh of ``program`` counted on ``wiki``."""
        table = t.counted_uploads
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.program == program, table.c.wiki == wiki)
            ).all()
        return [Upload(r.user, r.title, _utc(r.timestamp)) for r in rows]

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
        table = t.fetch_marks
        with self.engine.connect() as conn:
            row = conn.execute(
                select(table).where(table.c.program == program, table.c.wiki == wiki)
            ).first()
        if row is None:
            return None
        return FetchMark(
            _utc(row.fetched_until),
            row.fingerprint,
            frozenset(_lines(row.existing)),
            frozenset(_lines(row.invalid)),
        )

    def set_fetch_mark(self, program: str, wiki: str, mark: FetchMark) -> None:
        with self.engine.begin() as conn:
            _set_fetch_mark(conn, program, wiki, mark)

    def forget_fetch_marks(self, program: str) -> None:
        """Make the next refresh of ``program`` a full one."""
        with self.engine.begin() as conn:
            conn.execute(delete(t.fetch_marks).where(t.fetch_marks.c.program == program))

    # -- API tokens ----------------------------------------------------------------------

    def add_token(self, token: ApiToken) -> None:
        """Keep a new token (its hash) and the identity it stands for."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.api_tokens).values(
                    token_hash=token.token_hash,
                    wiki=token.wiki,
                    username=token.username,
                    user_id=token.user_id,
                    blocked=token.blocked,
                    registered=_naive(token.registered) if token.registered else None,
                    editcount=token.editcount,
                    created_at=_naive(token.created_at),
                    expires_at=_naive(token.expires_at),
                )
            )

    def find_token(self, token_hash: str, now: datetime) -> ApiToken | None:
        """The token with this hash, unless it is unknown or expired."""
        table = t.api_tokens
        with self.engine.connect() as conn:
            row = conn.execute(
                select(table).where(
                    table.c.token_hash == token_hash, table.c.expires_at > _naive(now)
                )
            ).first()
        if row is None:
            return None
        return ApiToken(
            token_hash=row.token_hash,
            wiki=row.wiki,
            username=row.username,
            user_id=row.user_id,
            blocked=bool(row.blocked),
            registered=_aware(row.registered),
            editcount=row.editcount,
            created_at=_utc(row.created_at),
            expires_at=_utc(row.expires_at),
        )

    def revoke_token(self, token_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash))

    def purge_expired_tokens(self, now: datetime) -> int:
        """Forget expired tokens; returns how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(t.api_tokens).where(t.api_tokens.c.expires_at <= _naive(now))
            )
        return int(result.rowcount)

    # -- joins and leaves ----------------------------------------------------------------

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
                            .values(state=SUPERSEDED, pending_key=None, updated_at=_naive(now))
                        )
                    new_id = _new_id(
                        conn.execute(
                            insert(table).values(
                                wiki=wiki,
                                title=title,
                                username=username,
                                action=action,
                                private=private,
                                state=RECORDED,
                                attempts=0,
                                created_at=_naive(now),
                                updated_at=_naive(now),
                                pending_key=key,
                            )
                        )
                    )
            except IntegrityError:
                continue  # someone recorded the same request at the same moment: read it
            request = self.join_request(new_id)
            assert request is not None
            return request, True
        raise StoreError(f"could not record the {action} of {username} on {title}")

    def join_request(self, request_id: int) -> JoinRequest | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.join_requests).where(t.join_requests.c.id == request_id)
            ).first()
        return _join(row) if row else None

    def latest_join(
        self, wiki: str, title: str, username: str, *, states: Sequence[str] = ()
    ) -> JoinRequest | None:
        """The newest join or leave of this user on this page (in ``states`` if given)."""
        table = t.join_requests
        query = select(table).where(
            table.c.wiki == wiki,
            table.c.title == title,
            table.c.username == username,
            table.c.state != SUPERSEDED,
        )
        if states:
            query = query.where(table.c.state.in_(states))
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(table.c.id.desc()).limit(1)).first()
        return _join(row) if row else None

    def join_history(self, wiki: str, title: str, username: str) -> list[JoinRequest]:
        """Every join and leave of this user on this page, superseded ones too, oldest
        first."""
        table = t.join_requests
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table)
                .where(table.c.wiki == wiki, table.c.title == title, table.c.username == username)
                .order_by(table.c.id)
            ).all()
        return [_join(row) for row in rows]

    def private_participants(self, wiki: str, title: str) -> list[str]:
        """Users who joined this page privately and have not left: kept here only."""
        table = t.join_requests
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.username, table.c.action, table.c.private)
                .where(
                    table.c.wiki == wiki,
                    table.c.title == title,
                    table.c.state == APPLIED,
                )
                .order_by(table.c.id)
            ).all()
        latest: dict[str, tuple[str, bool]] = {}
        for row in rows:
            latest[row.username] = (row.action, bool(row.private))
        return sorted(
            name for name, (action, private) in latest.items() if action == "join" and private
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
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table)
                .where(table.c.wiki == wiki, table.c.title == title, table.c.state == RECORDED)
                .order_by(table.c.id)
            ).all()
        return [_join(row) for row in rows]

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
        if not ids:
            return
        table = t.join_requests
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.id.in_(list(ids)), table.c.state == RECORDED)
                .values(
                    state=state,
                    revid=revid,
                    reason=reason,
                    pending_key=None,
                    updated_at=_naive(now),
                )
            )

    def note_attempt(self, ids: Sequence[int], reason: str, now: datetime) -> None:
        """A try to apply these requests failed for a passing reason; they keep waiting."""
        if not ids:
            return
        table = t.join_requests
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.id.in_(list(ids)), table.c.state == RECORDED)
                .values(attempts=table.c.attempts + 1, reason=reason, updated_at=_naive(now))
            )

    def count_join_requests(
        self, since: datetime, *, wiki: str | None = None, username: str | None = None
    ) -> int:
        """Join and leave requests made since ``since`` (for rate limits)."""
        table = t.join_requests
        query = select(func.count()).where(table.c.created_at >= _naive(since))
        if wiki is not None:
            query = query.where(table.c.wiki == wiki)
        if username is not None:
            query = query.where(table.c.username == username)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # -- serializing work on a page between workers ------------------------------------

    def claim_page(
        self,
        wiki: str,
        title: str,
        worker: str,
        now: datetime,
        lease: timedelta,
        *,
        dead: Callable[[str], bool] | None = None,
    ) -> bool:
        """Take the page for ``worker`` until ``now + lease``, unless another holds it.

        A lease, not a held transaction: a worker killed mid-edit frees the page when the
        lease runs out, or at once when ``dead(holder)`` says the holder no longer runs
        (a process of this machine that was killed and restarted).
        """
        table = t.page_claims
        until = _naive(now + lease)
        where = (table.c.wiki == wiki, table.c.title == title)
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(table)
                .where(*where, (table.c.lease_until < _naive(now)) | (table.c.worker == worker))
                .values(worker=worker, lease_until=until)
            ).rowcount
            holder = None
            if not taken and dead is not None:
                holder = conn.execute(select(table.c.worker).where(*where)).scalar_one_or_none()
            if holder is not None and dead is not None and dead(holder):
                # Only the dead holder's claim is taken over: if another worker took it
                # meanwhile, this matches nothing.
                taken = conn.execute(
                    update(table)
                    .where(*where, table.c.worker == holder)
                    .values(worker=worker, lease_until=until)
                ).rowcount
        if taken:
            return True
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(table).values(wiki=wiki, title=title, worker=worker, lease_until=until)
                )
        except IntegrityError:
            return False
        return True

    def release_page(self, wiki: str, title: str, worker: str) -> None:
        table = t.page_claims
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.wiki == wiki, table.c.title == title, table.c.worker == worker)
                .values(lease_until=_EPOCH)
            )

    # -- refresh requests ----------------------------------------------------------------

    def add_refresh_request(
        self, wiki: str, title: str, username: str, now: datetime
    ) -> RefreshRequest:
        table = t.refresh_requests
        with self.engine.begin() as conn:
            new_id = _new_id(
                conn.execute(
                    insert(table).values(
                        wiki=wiki, title=title, username=username, created_at=_naive(now)
                    )
                )
            )
        return RefreshRequest(int(new_id), wiki, title, username, now, None)

    def count_refresh_requests(
        self,
        since: datetime,
        *,
        wiki: str | None = None,
        title: str | None = None,
        username: str | None = None,
    ) -> int:
        """Refresh requests made since ``since``, by a user and/or for a page."""
        table = t.refresh_requests
        query = select(func.count()).where(table.c.created_at >= _naive(since))
        for column, value in (
            (table.c.wiki, wiki),
            (table.c.title, title),
            (table.c.username, username),
        ):
            if value is not None:
                query = query.where(column == value)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def pending_refresh_requests(self) -> list[RefreshRequest]:
        table = t.refresh_requests
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.done_at.is_(None)).order_by(table.c.id)
            ).all()
        return [
            RefreshRequest(r.id, r.wiki, r.title, r.username, _utc(r.created_at), None)
            for r in rows
        ]

    def finish_refresh_requests(self, ids: Sequence[int], now: datetime) -> None:
        if not ids:
            return
        table = t.refresh_requests
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id.in_(list(ids))).values(done_at=_naive(now)))

    # -- program snapshots ---------------------------------------------------------------

    def save_program(self, snapshot: ProgramSnapshot) -> None:
        """Keep what was last read of a program page (replacing the older snapshot)."""
        table = t.program_snapshots
        values = {
            "name": snapshot.name,
            "registration": snapshot.registration,
            "start": _naive(snapshot.start) if snapshot.start else None,
            "end": _naive(snapshot.end) if snapshot.end else None,
            "participants": "\n".join(snapshot.participants),
            "fetched_at": _naive(snapshot.fetched_at),
        }
        with self.engine.begin() as conn:
            _upsert(conn, table, {"wiki": snapshot.wiki, "title": snapshot.title}, values)

    def program(self, wiki: str, title: str) -> ProgramSnapshot | None:
        table = t.program_snapshots
        with self.engine.connect() as conn:
            row = conn.execute(
                select(table).where(table.c.wiki == wiki, table.c.title == title)
            ).first()
        if row is None:
            return None
        return ProgramSnapshot(
            wiki=row.wiki,
            title=row.title,
            name=row.name,
            registration=row.registration,
            start=_aware(row.start),
            end=_aware(row.end),
            participants=_lines(row.participants),
            fetched_at=_utc(row.fetched_at),
        )

    # -- the scheduler -------------------------------------------------------------------

    def add_to_schedule(self, wiki: str, title: str, kind: str, phase: str, due: datetime) -> bool:
        """Know a page from now on (due at ``due``); False if it was known already."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.schedule).values(
                        wiki=wiki,
                        title=title,
                        kind=kind,
                        phase=phase,
                        next_due=_naive(due),
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
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.schedule).order_by(t.schedule.c.next_due)).all()
        return [_entry(row) for row in rows]

    def schedule_entry(self, wiki: str, title: str) -> ScheduleEntry | None:
        table = t.schedule
        with self.engine.connect() as conn:
            row = conn.execute(
                select(table).where(table.c.wiki == wiki, table.c.title == title)
            ).first()
        return _entry(row) if row else None

    def due_entries(self, now: datetime, limit: int = 50) -> list[ScheduleEntry]:
        table = t.schedule
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table)
                .where(table.c.next_due <= _naive(now))
                .order_by(table.c.next_due)
                .limit(limit)
            ).all()
        return [_entry(row) for row in rows]

    def update_schedule(self, wiki: str, title: str, **values: Any) -> None:
        """Change some columns of a page's schedule entry (datetimes and tuples converted)."""
        converted: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, datetime):
                value = _naive(value)
            elif isinstance(value, tuple):
                value = "\n".join(value)
            converted[key] = value
        table = t.schedule
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.wiki == wiki, table.c.title == title)
                .values(**converted)
            )

    def make_due(self, wiki: str, titles: Iterable[str], now: datetime) -> int:
        """Bring these pages forward to ``now`` (never later than they already were)."""
        table = t.schedule
        names = list(titles)
        if not names:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(
                update(table)
                .where(
                    table.c.wiki == wiki,
                    table.c.title.in_(names),
                    table.c.next_due > _naive(now),
                )
                .values(next_due=_naive(now))
            )
        return int(result.rowcount)


def _remember(
    conn: Connection,
    program: str,
    wiki: str,
    revisions: Iterable[Revision],
    pages: Mapping[int, PageState],
    uploads: Iterable[Upload],
) -> None:
    """Replace what is remembered for ``program`` on ``wiki`` (in the caller's transaction)."""
    rev_values = [
        {
            "program": program,
            "wiki": wiki,
            "revid": r.revid,
            "user": r.user,
            "pageid": r.pageid,
            "namespace": r.namespace,
            "title": r.title,
            "timestamp": _naive(r.timestamp),
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
    upload_values = list(
        {
            u.title: {
                "program": program,
                "wiki": wiki,
                "title": u.title,
                "user": u.user,
                "timestamp": _naive(u.timestamp),
            }
            for u in uploads
        }.values()
    )
    for table in (t.counted_revisions, t.counted_pages, t.counted_uploads):
        conn.execute(delete(table).where(table.c.program == program, table.c.wiki == wiki))
    if rev_values:
        conn.execute(insert(t.counted_revisions), rev_values)
    if page_values:
        conn.execute(insert(t.counted_pages), page_values)
    if upload_values:
        conn.execute(insert(t.counted_uploads), upload_values)


def _set_fetch_mark(conn: Connection, program: str, wiki: str, mark: FetchMark) -> None:
    values = {
        "fetched_until": _naive(mark.fetched_until),
        "fingerprint": mark.fingerprint,
        "existing": "\n".join(sorted(mark.existing)),
        "invalid": "\n".join(sorted(mark.invalid)),
    }
    _upsert(conn, t.fetch_marks, {"program": program, "wiki": wiki}, values)


def _upsert(
    conn: Connection, table: Table, keys: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """Update the row with these keys, or insert it. When another process inserts the
    same row at the same moment, its values are as fresh as ours: keep them."""
    where = [table.c[name] == value for name, value in keys.items()]
    if conn.execute(update(table).where(*where).values(**values)).rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(**keys, **values))
    except IntegrityError:
        pass


def _lines(value: str | None) -> tuple[str, ...]:
    return tuple(line for line in (value or "").split("\n") if line)


def _entry(row: Row[Any]) -> ScheduleEntry:
    return ScheduleEntry(
        wiki=row.wiki,
        title=row.title,
        kind=row.kind,
        phase=row.phase,
        next_due=_utc(row.next_due),
        last_refreshed=_aware(row.last_refreshed),
        last_duration_ms=row.last_duration_ms,
        last_requests=row.last_requests,
        last_error=row.last_error,
        last_page_edit=_aware(row.last_page_edit),
        edit_pending=bool(row.edit_pending),
        wikis=_lines(row.wikis),
        participants=_lines(row.participants),
        window_start=_aware(row.window_start),
        window_end=_aware(row.window_end),
        live_report=row.live_report,
        live_at=_aware(row.live_at),
    )
