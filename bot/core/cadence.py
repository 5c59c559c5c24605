"""When to refresh a program and when to edit its page: pure rules of the scheduler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.model import Window

#: Phases of a program: not started, running, recently ended, waiting for its retention
#: figures, and final (refreshed rarely).
UPCOMING, RUNNING, ENDED, RETENTION, FINAL = "upcoming", "running", "ended", "retention", "final"
#: Retention is known 30 days after the end (metrics.md); until then a program keeps
#: being refreshed daily.
RETENTION_DAYS = 30
#: A program stays "recently ended" this long, refreshed hourly.
RECENT_DAYS = 7


@dataclass(frozen=True)
class Cadence:
    """How often each phase is refreshed, and how often a page may be edited."""

    running: timedelta = timedelta(minutes=5)
    upcoming: timedelta = timedelta(hours=1)
    ended: timedelta = timedelta(hours=1)
    retention: timedelta = timedelta(days=1)
    final: timedelta = timedelta(days=7)
    #: At most one statistics edit per page this often while numbers change.
    edit_interval: timedelta = timedelta(minutes=10)
    #: A full recount (deleted pages, moves) at least this often; incremental otherwise.
    full_every: timedelta = timedelta(hours=6)

    def interval(self, phase: str) -> timedelta:
        return {
            RUNNING: self.running,
            UPCOMING: self.upcoming,
            ENDED: self.ended,
            RETENTION: self.retention,
            FINAL: self.final,
        }[phase]


def phase_of(window: Window | None, now: datetime) -> str:
    """The program's phase at ``now`` (a program without a usable window is final)."""
    if window is None:
        return FINAL
    if now < window.start:
        return UPCOMING
    if now <= window.end:
        return RUNNING
    if now <= window.end + timedelta(days=RECENT_DAYS):
        return ENDED
    if now <= window.end + timedelta(days=RETENTION_DAYS + 1):
        return RETENTION
    return FINAL


def next_due(phase: str, now: datetime, cadence: Cadence, window: Window | None) -> datetime:
    """The next regular refresh, never later than the moment the phase changes."""
    due = now + cadence.interval(phase)
    if window is not None:
        for edge in (
            window.start,
            window.end,
            window.end + timedelta(days=RECENT_DAYS),
            window.end + timedelta(days=RETENTION_DAYS + 1),
        ):
            if now < edge < due:
                due = edge + timedelta(seconds=1)
    return due


def may_edit(last_edit: datetime | None, now: datetime, cadence: Cadence, manual: bool) -> bool:
    """Whether the page may get a statistics edit now (always, when someone asked)."""
    return manual or last_edit is None or now - last_edit >= cadence.edit_interval
