"""The store's base: the engine, the schema, and turning records into rows and back.

SQLite by default; MariaDB and PostgreSQL by URL. The schema comes from Alembic's
migrations (``bot/store/migrations``), applied when a Store opens a database.

Every engine keeps datetimes the same way only without a timezone, so the store writes
UTC without tzinfo and gives it back with tzinfo UTC. Lists of names are kept one per line
(names cannot contain a newline).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin, get_type_hints

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
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
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.core.errors import StoreError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _alembic_config() -> Config:
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
        try:
            self.engine: Engine = create_engine(url, **options)
            if migrate:
                self.migrate()
        except SQLAlchemyError as error:
            raise StoreError(f"cannot open the store {url}: {error}") from error

    def migrate(self) -> None:
        """Bring the schema to the newest migration (a no-op when it is there)."""
        with self.engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def pending_migrations(self) -> list[str]:
        """The migrations this database still lacks, oldest first (none: up to date)."""
        scripts = ScriptDirectory.from_config(_alembic_config())
        try:
            with self.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError as error:
            raise StoreError(f"the store cannot be read: {error}") from error
        missing = [
            script.revision for script in scripts.iterate_revisions("head", current or "base")
        ]
        return list(reversed([revision for revision in missing if revision != current]))

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


def matching(table: Table, **keys: Any) -> list[ColumnElement[bool]]:
    """A where clause: each named column equals its value."""
    return [table.c[name] == value for name, value in keys.items()]


def select_where(table: Table, **keys: Any) -> Select[Any]:
    """The rows of ``table`` whose named columns equal these values."""
    return select(table).where(*matching(table, **keys))


def read(conn: Connection, record: type[R], query: Select[Any]) -> list[R]:
    """Every row ``query`` finds, as ``record``s."""
    return [from_row(record, row) for row in conn.execute(query)]


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
