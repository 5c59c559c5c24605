"""New editors and retained editors (see shared metrics.md), and fetching what they need.

- **New editors**: participants whose account was registered from 14 days before the
  program's ``start`` to its ``end`` (both included). An account without a registration
  date (MediaWiki's accounts from before 2005) is old, never new.
- **Retained editors**: new editors with at least one edit on a listed wiki at or after
  ``end + 7 days`` (a second figure at ``end + 30 days``). Until that moment has passed the
  figure is not yet known: None, never 0 and never everyone.

The functions on records are pure; ``fetch_*`` ask a wiki, batching users the way
``bot.wiki.fetch`` does (never one request per user).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pywikibot.exceptions import Error as PywikibotError
from pywikibot.site import APISite

from bot.core.dates import format_moment
from bot.core.errors import WikiAccessError
from bot.core.model import Window
from bot.core.pageformat import normalize_title
from bot.wiki.sites import api_query, batch_limit, chunks, host_of

log = logging.getLogger(__name__)

#: How long before ``start`` an account may have been registered and still count as new.
NEW_EDITOR_LEAD = timedelta(days=14)
#: The retention delays after ``end``: the 7-day and the 30-day figure.
RETENTION_DELAYS = (timedelta(days=7), timedelta(days=30))


# -- pure ------------------------------------------------------------------------------


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
    program: the union of :func:`fetch_edited_since` over them).
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


# -- fetching --------------------------------------------------------------------------


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def fetch_registrations(site: APISite, users: Iterable[str]) -> dict[str, datetime | None]:
    """Each existing user's registration on ``site`` (None: too old to be recorded).

    One ``list=users&usprop=registration`` request per batch of ``batch_limit`` names.
    Missing and invalid names are left out; keys are the names as given.
    """
    found: dict[str, datetime | None] = {}
    for batch in chunks(list(dict.fromkeys(users)), batch_limit(site)):
        wanted = {normalize_title(name): name for name in batch}
        params = {"list": "users", "ususers": batch, "usprop": "registration"}
        for answer in api_query(site, params):
            for user in answer.get("users", []):
                if user.get("missing") or user.get("invalid") or "name" not in user:
                    continue
                name = normalize_title(str(user["name"]))
                registration = user.get("registration")
                found[wanted.get(name, name)] = _time(registration) if registration else None
    return found


def _query_page(site: APISite, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One ``action=query`` request: its ``query`` part and its continuation ({} at the end).

    Unlike ``bot.wikis.api_query`` this does not follow the continuation by itself.
    """
    request = {"action": "query", "formatversion": 2, "continue": "", **params}
    try:
        answer = site.simple_request(**request).submit()
    except PywikibotError as error:
        raise WikiAccessError(f"{host_of(site)}: {error}") from error
    return answer.get("query", {}), dict(answer.get("continue", {}))


def fetch_edited_since(site: APISite, users: Iterable[str], since: datetime) -> set[str]:
    """Who among ``users`` made at least one edit on ``site`` at or after ``since``.

    One ``list=usercontribs`` request per batch of users (``ucuser`` takes the batch,
    ``ucstart=since`` with ``ucdir=newer``, only timestamps, ``uclimit=max``); more only
    while a batch has users not seen yet. MediaWiki lists several users' contributions user
    by user, so instead of continuing through the rest of a busy user's edits, the next
    request asks again for only the users not seen yet: it finds at least one more or ends
    the batch. Users must be valid names (an invalid one fails the request: check them with
    ``bot.fetch.check_users`` first).
    """
    names = list(dict.fromkeys(users))
    seen: set[str] = set()
    requests = 0
    for batch in chunks(sorted(names), batch_limit(site)):
        wanted = {normalize_title(name): name for name in batch}
        base = {
            "list": "usercontribs",
            "ucstart": format_moment(since),
            "ucdir": "newer",
            "ucprop": "timestamp",
            "uclimit": "max",
        }
        pending = list(batch)
        params: dict[str, Any] = {**base, "ucuser": pending}
        while True:
            answer, continuation = _query_page(site, params)
            requests += 1
            found = {
                wanted.get(name, name)
                for name in (
                    normalize_title(str(row.get("user", "")))
                    for row in answer.get("usercontribs", [])
                )
            }
            seen |= found
            pending = [user for user in pending if user not in seen]
            if not continuation or not pending:
                break
            if found & set(batch):
                params = {**base, "ucuser": pending}
            else:
                # A page with no user of the batch (not expected): continue as asked.
                params = {**params, **continuation}
    log.info(
        "%s: %d of %d users edited since %s (%d requests)",
        host_of(site),
        len(seen),
        len(names),
        format_moment(since),
        requests,
    )
    return seen


def fetch_editor_figures(
    sites: Sequence[APISite],
    users: Sequence[str],
    window: Window,
    now: datetime,
    delays: Sequence[timedelta] = RETENTION_DELAYS,
) -> EditorFigures:
    """New and retained editors of a program over its listed wikis, in few requests.

    Registrations are asked on every wiki (the earliest counts). Contributions are asked
    only for new editors, only for delays whose moment has passed, latest delay first: an
    edit after ``end + 30 days`` is also after ``end + 7 days``, so the earlier delay asks
    only about those not yet found, and each wiki only about those no earlier wiki showed.
    """
    per_site = [fetch_registrations(site, users) for site in sites]
    registrations = earliest_registrations(per_site)
    new = new_editors(registrations, window)
    edited: dict[timedelta, set[str]] = {}
    found: set[str] = set()
    for delay in sorted(delays, reverse=True):
        if not new or not retention_known(window, delay, now):
            continue
        since = retention_moment(window, delay)
        for site, local in zip(sites, per_site, strict=True):
            ask = [user for user in sorted(new) if user in local and user not in found]
            if ask:
                found |= fetch_edited_since(site, ask, since)
        edited[delay] = set(found)
    return editor_figures(registrations, edited, window, now, delays)
