"""The SQL store: what refreshes counted, API tokens, joins, claims, refresh requests."""

from bot.store.records import (
    APPLIED,
    FAILED,
    JOIN,
    LEAVE,
    RECORDED,
    SUPERSEDED,
    ApiToken,
    FetchMark,
    JoinRequest,
    ProgramSnapshot,
    RefreshRequest,
    ScheduleEntry,
)
from bot.store.store import Store, StoreError, default_url

__all__ = [
    "APPLIED",
    "FAILED",
    "JOIN",
    "LEAVE",
    "RECORDED",
    "SUPERSEDED",
    "ApiToken",
    "FetchMark",
    "JoinRequest",
    "ProgramSnapshot",
    "RefreshRequest",
    "ScheduleEntry",
    "Store",
    "StoreError",
    "default_url",
]
