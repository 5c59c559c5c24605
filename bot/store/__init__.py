"""The SQL store: what refreshes counted, API tokens, joins, claims, refresh requests,
program snapshots, the schedule and the bot's sealed Pywikibot session, one module a
concern, composed into ``Store``."""

from bot.core.errors import StoreError
from bot.store.counted import FetchMark
from bot.store.database import default_url
from bot.store.joins import APPLIED, FAILED, JOIN, LEAVE, RECORDED, SUPERSEDED, JoinRequest
from bot.store.refresh_requests import RefreshRequest
from bot.store.schedule import ScheduleEntry
from bot.store.snapshots import ProgramSnapshot
from bot.store.store import Store
from bot.store.tokens import ApiToken

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
