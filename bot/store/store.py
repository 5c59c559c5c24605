"""The Store: every concern of the SQL store behind one object."""

from __future__ import annotations

from bot.store.claims import ClaimStore
from bot.store.counted import CountedStore
from bot.store.joins import JoinStore
from bot.store.refresh_requests import RefreshRequestStore
from bot.store.schedule import ScheduleStore
from bot.store.sessions import SessionStore
from bot.store.snapshots import SnapshotStore
from bot.store.tokens import TokenStore


class Store(
    CountedStore,
    TokenStore,
    JoinStore,
    ClaimStore,
    RefreshRequestStore,
    SnapshotStore,
    ScheduleStore,
    SessionStore,
):
    """Every table the project keeps, behind one object; safe to share between threads.

    ``Store(url, migrate=True)`` opens the database at ``url`` and brings its schema to
    the newest migration, one process at a time (``Database.migrate``); with
    ``migrate=False`` it only opens it (``pending_migrations`` tells what it lacks).
    """
