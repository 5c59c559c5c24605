"""The store's base: the engine, the schema, and turning records into rows and back.

SQLite by default; MariaDB and PostgreSQL by URL. The schema comes from Alembic's
migrations (``bot/store/migrations``), applied when a Store opens a database: by one
process at a time, under a lock of the database itself, so that any number of processes
(the bot's, the API's workers) may open a fresh database at once.

Every engine keeps datetimes the same way only without a timezone, so the store writes
UTC without tzinfo and gives it back with tzinfo UTC. Lists of names are kept one per line
(names cannot contain a newline).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin, get_type_hints

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    Executable,
    Row,
    Select,
    Table,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import NullPool, StaticPool

from bot.core.errors import StoreError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance
    from alembic.config import Config

R = TypeVar("R", bound="DataclassInstance")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: How long a process waits for another one to finish migrating the same database.
MIGRATION_WAIT_SECONDS = 120
#: PostgreSQL's advisory locks are per database: one fixed key serves every store.
_PG_LOCK_KEY = 0x70726F6772616D73  # "programs"

log = logging.getLogger(__name__)


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def default_url(base_dir: Path) -> str:
    """The store's URL: ``PROGRAMS_BOT_DB`` or a SQLite file in ``base_dir``."""
    return os.environ.get("PROGRAMS_BOT_DB") or f"sqlite:///{base_dir / 'programs-bot.sqlite'}"


class Database:
    """The engine every concern of the store shares; safe to share between threads."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        options: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            # Several threads and processes write: wait for SQLite's lock, don't fail.
            options["connect_args"] = {"timeout": 30}
            if make_url(url).database in (None, "", ":memory:"):
                # One database in memory for every thread (a refresh remembers in a
                # thread of its own), not one each.
                options["poolclass"] = StaticPool
                options["connect_args"]["check_same_thread"] = False
        try:
            self.engine: Engine = create_engine(url, **options)
            if migrate:
                self.migrate()
        except SQLAlchemyError as error:
            raise StoreError(f"cannot open the store {self.shown_url(url)}: {error}") from error

    @staticmethod
    def shown_url(url: str) -> str:
        """``url`` fit for messages and logs: without its password."""
        try:
            return make_url(url).render_as_string(hide_password=True)
        except SQLAlchemyError:  # not a URL: nothing to hide
            return url

    def migrate(self) -> list[str]:
        """Bring the schema to the newest migration; the migrations applied, oldest first
        (none when it was there). One process at a time: the others wait for it, then find
        nothing left to do."""
        if not self.pending_migrations():
            return []
        try:
            with self._migration_lock() as connection:
                applied = _pending(connection)  # again: another process may have done it
                if applied:
                    from alembic import command

                    config = _alembic_config()
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
        except SQLAlchemyError as error:
            raise StoreError(
                f"cannot migrate the store {self.shown_url(str(self.engine.url))}: {error}"
            ) from error
        if applied:
            log.info("the store's schema: applied migrations %s", ", ".join(applied))
        return applied

    def pending_migrations(self) -> list[str]:
        """The migrations this database still lacks, oldest first (none: up to date)."""
        try:
            with self.engine.connect() as connection:
                return _pending(connection)
        except SQLAlchemyError as error:
            shown = self.shown_url(str(self.engine.url))
            raise StoreError(f"the store {shown} cannot be read: {error}") from error

    @contextmanager
    def _migration_lock(self) -> Iterator[Connection]:
        """A connection in a transaction, holding the database's migration lock."""
        dialect = self.engine.dialect.name
        if dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            with _sqlite_write_lock(self.engine) as connection:
                yield connection
        elif dialect == "postgresql":
            with self.engine.begin() as connection:
                # The lock ends with the transaction; lock_timeout bounds the wait for it.
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{MIGRATION_WAIT_SECONDS}s'")
                connection.execute(select(func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
                yield connection
        elif dialect in ("mysql", "mariadb"):
            with _mysql_named_lock(self.engine) as connection, connection.begin():
                yield connection
        else:  # an in-memory SQLite database: no other process can see it
            with self.engine.begin() as connection:
                yield connection

    def _record(self, record: type[R], query: Select[Any]) -> R | None:
        """The first row ``query`` finds, as a ``record``."""
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return from_row(record, row) if row is not None else None

    def _records(self, record: type[R], query: Select[Any]) -> list[R]:
        """Every row ``query`` finds, as ``record``s."""
        with self.engine.connect() as conn:
            return read(conn, record, query)

    def _write(self, statement: Executable) -> int:
        """Run one statement in a transaction of its own; returns how many rows it hit."""
        with self.engine.begin() as conn:
            return int(conn.execute(statement).rowcount)

    def _update_ids(
        self, table: Table, ids: Sequence[int], *where: ColumnElement[bool], **values: Any
    ) -> None:
        """Set ``values`` in the rows with these ids (that also match ``where``)."""
        if ids:
            self._write(update(table).where(table.c.id.in_(list(ids)), *where).values(**values))

    def _count_since(self, table: Table, since: datetime, **keys: str | None) -> int:
        """Rows of ``table`` created since ``since`` (for rate limits), matching the keys
        that are not None."""
        given = {name: value for name, value in keys.items() if value is not None}
        query = select(func.count()).where(
            table.c.created_at >= naive(since), *matching(table, **given)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


@cache
def newest_migration() -> str:
    """The newest migration's revision: migrations are named by their revision, in order
    (``0008_counted_revisions_packed.py`` is revision "0008", after "0007")."""
    return max(
        path.name[:4] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    )


def _pending(connection: Connection) -> list[str]:
    """The migrations the database behind ``connection`` lacks, oldest first."""
    # Every process opens the store: one at the newest migration is told by one query,
    # without importing Alembic and loading every migration (a tenth of a second).
    if inspect(connection).has_table("alembic_version"):
        versions = {
            row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))
        }
        if versions == {newest_migration()}:
            return []
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    current = MigrationContext.configure(connection).get_current_revision()
    missing = [script.revision for script in scripts.iterate_revisions("head", current or "base")]
    return list(reversed([revision for revision in missing if revision != current]))


@contextmanager
def _sqlite_write_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction that took SQLite's write lock first (BEGIN IMMEDIATE): other
    migrating processes wait at their BEGIN, then find the schema made.

    Python's sqlite3 runs DDL outside any transaction unless told otherwise, which let
    two processes create the same tables at once; this engine emits BEGIN itself (the
    recipe of SQLAlchemy's SQLite documentation), so the whole migration is one
    transaction that a killed process leaves undone.
    """
    locking = create_engine(
        engine.url, poolclass=NullPool, connect_args={"timeout": MIGRATION_WAIT_SECONDS}
    )

    @event.listens_for(locking, "connect")
    def _driver_begins_nothing(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(locking, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with locking.begin() as connection:
            yield connection
    finally:
        locking.dispose()


@contextmanager
def _mysql_named_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding MariaDB's named lock for this database (GET_LOCK): its DDL
    commits statement by statement, so the lock spans the connection, not a transaction.
    The server frees it when the connection ends, a killed process's too."""
    with engine.connect() as connection:
        database = connection.execute(select(func.database())).scalar()
        name = f"programs-bot migrations {database}"[:64]  # the server's limit
        got = connection.execute(select(func.get_lock(name, MIGRATION_WAIT_SECONDS))).scalar()
        connection.commit()
        if got != 1:
            raise StoreError(
                f"another process has been migrating the store for {MIGRATION_WAIT_SECONDS} s; "
                "try again when it is done"
            )
        try:
            yield connection
        finally:
            connection.execute(select(func.release_lock(name)))
            connection.commit()


def matching(table: Table, **keys: Any) -> list[ColumnElement[bool]]:
    """A where clause: each named column equals its value."""
    return [table.c[name] == value for name, value in keys.items()]


def select_where(table: Table, **keys: Any) -> Select[Any]:
    """The rows of ``table`` whose named columns equal these values."""
    return select(table).where(*matching(table, **keys))


def read(conn: Connection, record: type[R], query: Select[Any]) -> list[R]:
    """Every row ``query`` finds, as ``record``s (made by position: a refresh reads tens of
    thousands of rows, and building each by name costs more than reading it)."""
    result = conn.execute(query)
    keys = list(result.keys())
    places = [
        (keys.index(name), None if convert is _same else convert)
        for name, convert in _readers(record)
    ]
    found = []
    for row in result:
        found.append(
            record(*[row[i] if convert is None else convert(row[i]) for i, convert in places])
        )
    return found


def upsert(conn: Connection, table: Table, row: Mapping[str, Any], keys: Sequence[str]) -> None:
    """Update the row whose ``keys`` columns equal ``row``'s, or insert ``row``. When
    another process inserts the same row at the same moment, its values are as fresh as
    ours: keep them."""
    where = matching(table, **{name: row[name] for name in keys})
    values = {name: value for name, value in row.items() if name not in keys}
    if conn.execute(update(table).where(*where).values(**values)).rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(**row))
    except IntegrityError:
        pass


def new_id(result: CursorResult[Any]) -> int:
    """The id the database gave the row ``result`` inserted."""
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database returned no id for a new row")
    return int(key[0])


def naive(moment: datetime) -> datetime:
    """UTC without tzinfo: what every engine stores the same way."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def lines(value: str | None) -> tuple[str, ...]:
    """The names kept one per line."""
    return tuple(line for line in (value or "").split("\n") if line)


def column(value: Any) -> Any:
    """A record's value as the store keeps it."""
    if isinstance(value, datetime):
        return naive(value)
    if isinstance(value, frozenset):
        return "\n".join(sorted(value))
    if isinstance(value, tuple):
        return "\n".join(value)
    return value


def columns(record: DataclassInstance) -> dict[str, Any]:
    """Every field of ``record`` as the column of the same name keeps it."""
    return {field.name: column(getattr(record, field.name)) for field in fields(record)}


def from_row(record: type[R], row: Row[Any]) -> R:
    """A ``record`` made of the columns named like its fields (others are left out)."""
    return record(**{name: convert(getattr(row, name)) for name, convert in _readers(record)})


@cache
def _readers(record: type[DataclassInstance]) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """Each field of ``record`` and how to read it from its column, by the field's type."""
    hints = get_type_hints(record)
    return tuple((field.name, _reader(hints[field.name])) for field in fields(record))


def _reader(hint: Any) -> Callable[[Any], Any]:
    if hint is bool:
        return bool  # some drivers give 0 and 1
    if get_origin(hint) is tuple:
        return lines
    if get_origin(hint) is frozenset:
        return lambda value: frozenset(lines(value))
    if datetime in (hint, *get_args(hint)):
        return _aware
    return _same


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None else None


def _same(value: Any) -> Any:
    return value
