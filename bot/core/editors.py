"""New editors and retained editors (see shared metrics.md).

- **New editors**: participants whose account was registered from 14 days before the
  program's ``start`` to its ``end`` (both included). An account without a registration
  date (MediaWiki's accounts from before 2005) is old, never new.
- **Retained editors**: new editors with at least one edit on a listed wiki at or after
  ``end + 7 days`` (a second figure at ``end + 30 days``). Until that moment has passed the
  figure is not yet known: None, never 0 and never everyone.

bot.wiki.fetch asks the wikis for the registrations and later edits these figures need.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.model import Window

#: How long before ``start`` an account may have been registered and still count as new.
NEW_EDITOR_LEAD = timedelta(days=14)
#: The retention delays after ``end``: the 7-day and the 30-day figure.
RETENTION_DELAYS = (timedelta(days=7), timedelta(days=30))


def is_new_editor(registration: datetime | None, window: Window) -> bool:
    """Registered from ``start - 14 days`` to ``end``, both included; None is an old account."""
    if registration is None:
        return False
    return window.start - NEW_EDITOR_LEAD <= registration <= window.end


def new_editors(registrations: Mapping[str, datetime | None], window: Window) -> frozenset[str]:
    """The users of ``registrations`` (name -> registration) who are new editors."""
    return frozenset(user for user, when in registrations.items() if is_new_editor(when, window))


def earliest_registrations(
    per_wiki: Iterable[Mapping[str, datetime | None]],
) -> dict[str, datetime | None]:
    """Each user's earliest registration over several wikis.

    An account is as old as its oldest local account: on a wiki farm with single sign-on
    an old editor's account is created on another wiki when they first visit it, so that
    wiki's date alone would make them look new. None (before 2005) is the oldest of all.
    """
    earliest: dict[str, datetime | None] = {}
    for registrations in per_wiki:
        for user, when in registrations.items():
            if user not in earliest:
                earliest[user] = when
                continue
            known = earliest[user]
            if known is None or when is None:
                earliest[user] = None
            else:
                earliest[user] = min(known, when)
    return earliest


def retention_moment(window: Window, delay: timedelta) -> datetime:
    """From when an edit counts for retention: ``end + delay``."""
    return window.end + delay


def retention_known(window: Window, delay: timedelta, now: datetime) -> bool:
    """Whether the retention moment has passed (strictly): only then is the figure shown."""
    return now > retention_moment(window, delay)


def retained_editors(
    new: Iterable[str],
    edited_since: Collection[str],
    window: Window,
    delay: timedelta,
    now: datetime,
) -> frozenset[str] | None:
    """The new editors who edited at or after ``end + delay``; None while not yet known.

    ``edited_since`` holds who edited a listed wiki at or after that moment (any wiki of the
    program: the union over them of what bot.wiki.fetch.fetch_edited_since found).
    """
    if not retention_known(window, delay, now):
        return None
    return frozenset(user for user in new if user in edited_since)


@dataclass(frozen=True)
class EditorFigures:
    """New editors, and those retained at each delay (None: not yet known)."""

    new: frozenset[str]
    retained: Mapping[timedelta, frozenset[str] | None]

    def count(self, delay: timedelta) -> int | None:
        """How many were retained at ``delay``; None while not yet known."""
        retained = self.retained.get(delay)
        return None if retained is None else len(retained)


def editor_figures(
    registrations: Mapping[str, datetime | None],
    edited_since: Mapping[timedelta, Collection[str]],
    window: Window,
    now: datetime,
    delays: Sequence[timedelta] = RETENTION_DELAYS,
) -> EditorFigures:
    """Both figures from registrations and, per delay, who edited since ``end + delay``."""
    new = new_editors(registrations, window)
    retained = {
        delay: retained_editors(new, edited_since.get(delay, ()), window, delay, now)
        for delay in delays
    }
    return EditorFigures(new, retained)
