"""The store's records, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: Join request states: waiting to be written to the page, on the page, given up, or
#: replaced by a later request of the same user before it was applied.
RECORDED, APPLIED, FAILED, SUPERSEDED = "recorded", "applied", "failed", "superseded"
JOIN, LEAVE = "join", "leave"


@dataclass(frozen=True)
class ApiToken:
    """A Join API token (only its SHA-256 is kept) and who it identifies."""

    token_hash: str
    wiki: str
    username: str
    user_id: int
    blocked: bool
    registered: datetime | None
    editcount: int
    created_at: datetime
    expires_at: datetime


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


@dataclass(frozen=True)
class RefreshRequest:
    """Someone asked for a statistics update of a program now."""

    id: int
    wiki: str
    title: str
    username: str
    created_at: datetime
    done_at: datetime | None


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


@dataclass(frozen=True)
class FetchMark:
    """Up to when a wiki was fetched for a program, for which participants, window and
    scope (the fingerprint), and what the account check of that fetch found."""

    fetched_until: datetime
    fingerprint: str
    existing: frozenset[str] = frozenset()
    invalid: frozenset[str] = frozenset()
