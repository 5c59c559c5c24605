"""Fetching a program's records from one wiki with as few API requests as it allows.

Requests are batched across participants (``ucuser`` takes up to 500 names with high
limits) and bounded by the window; nothing here loops once per participant.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pywikibot.site import APISite

from bot.core.contributions import MAIN_NAMESPACE, PageState, Revision, Upload, WikiRecords
from bot.core.dates import format_moment
from bot.core.model import Scope, Window
from bot.core.pageformat import normalize_title
from bot.wiki.sites import api_query, batch_limit, chunks, host_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserCheck:
    """Which names have an account on a wiki, which are missing, and which are invalid."""

    existing: frozenset[str]
    missing: frozenset[str]
    invalid: frozenset[str]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_users(site: APISite, names: Sequence[str]) -> UserCheck:
    """Ask ``list=users`` about every name, in batches, before they go into ``ucuser``.

    One invalid name would fail a whole usercontribs batch (``baduser``).
    """
    existing, missing, invalid = set(), set(), set()
    for batch in chunks(list(names), batch_limit(site)):
        wanted = {normalize_title(name): name for name in batch}
        for answer in api_query(site, {"list": "users", "ususers": batch}):
            for user in answer.get("users", []):
                name = normalize_title(str(user.get("name", "")))
                original = wanted.get(name, name)
                if user.get("invalid"):
                    invalid.add(original)
                elif user.get("missing"):
                    missing.add(original)
                else:
                    existing.add(original)
    return UserCheck(frozenset(existing), frozenset(missing), frozenset(invalid))


def fetch_revisions(site: APISite, users: Iterable[str], window: Window) -> list[Revision]:
    """Every revision by these users inside the window, many users per request."""
    revisions = []
    for batch in chunks(sorted(users), batch_limit(site)):
        params = {
            "list": "usercontribs",
            "ucuser": batch,
            "ucstart": format_moment(window.start),
            "ucend": format_moment(window.end),
            "ucdir": "newer",
            "ucprop": "ids|title|timestamp|sizediff|flags",
            "uclimit": "max",
        }
        for answer in api_query(site, params):
            for row in answer.get("usercontribs", []):
                revisions.append(
                    Revision(
                        revid=int(row["revid"]),
                        user=normalize_title(row["user"]),
                        pageid=int(row["pageid"]),
                        namespace=int(row["ns"]),
                        title=str(row["title"]),
                        timestamp=_time(row["timestamp"]),
                        sizediff=int(row.get("sizediff", 0)),
                        new=bool(row.get("new", False)),
                    )
                )
    return revisions


def fetch_uploads(site: APISite, users: Iterable[str], window: Window) -> list[Upload]:
    """New files uploaded by these users in the window: one log query for the whole wiki.

    ``list=logevents`` takes a single ``leuser``, so the window's upload log is read once
    and filtered here rather than asked once per participant.
    """
    wanted = set(users)
    params = {
        "list": "logevents",
        "letype": "upload",
        "lestart": format_moment(window.start),
        "leend": format_moment(window.end),
        "ledir": "newer",
        "leprop": "user|title|timestamp|type",
        "lelimit": "max",
    }
    uploads = []
    for answer in api_query(site, params):
        for event in answer.get("logevents", []):
            user = normalize_title(str(event.get("user", "")))
            if event.get("action") == "upload" and user in wanted and "title" in event:
                uploads.append(Upload(user, str(event["title"]), _time(event["timestamp"])))
    return uploads


def _subcategories(site: APISite, categories: Sequence[str], depth: int) -> set[str]:
    """The categories and their subcategories down to ``depth`` levels (full titles)."""
    found = {f"Category:{name}" for name in categories}
    level = set(found)
    for _ in range(depth):
        below: set[str] = set()
        for title in sorted(level):
            params = {"list": "categorymembers", "cmtitle": title, "cmtype": "subcat"}
            for answer in api_query(site, {**params, "cmlimit": "max"}):
                below.update(str(m["title"]) for m in answer.get("categorymembers", []))
        level = below - found
        found |= below
        if not level:
            break
    return found


def _article_ids(site: APISite, titles: Sequence[str]) -> set[int]:
    ids: set[int] = set()
    for batch in chunks(list(titles), batch_limit(site)):
        for answer in api_query(site, {"prop": "info", "titles": batch, "redirects": 1}):
            ids.update(int(p["pageid"]) for p in answer.get("pages", []) if "pageid" in p)
    return ids


def fetch_pages(site: APISite, pageids: Iterable[int], scope: Scope) -> dict[int, PageState]:
    """The current state of pages (title, redirect, missing, in scope), in batches.

    Scope membership is asked in the same requests (``clcategories``, ``tltemplates``) so
    that whole categories are never enumerated.
    """
    ids = sorted(set(pageids))
    if not ids:
        return {}
    categories: list[str] = []
    if scope.categories:
        # Canonical English namespace names are accepted by every wiki's API.
        categories = sorted(_subcategories(site, scope.categories, scope.category_depth))
    templates = [f"Template:{name}" for name in scope.templates]
    article_ids = _article_ids(site, scope.articles) if scope.articles else set()
    limit = batch_limit(site)
    props = ["info"]
    extra: dict[str, Any] = {}
    if categories:
        props.append("categories")
        extra.update(clcategories=categories[:limit], cllimit="max")
        if len(categories) > limit:
            log.warning("scope has %d categories; only the first %d count", len(categories), limit)
    if templates:
        props.append("templates")
        extra.update(tltemplates=templates[:limit], tllimit="max")

    found: dict[int, dict[str, Any]] = {}
    for batch in chunks(ids, limit):
        for answer in api_query(site, {"prop": "|".join(props), "pageids": batch, **extra}):
            for page in answer.get("pages", []):
                merged = found.setdefault(int(page["pageid"]), {"hits": 0})
                merged.update(
                    {k: v for k, v in page.items() if k not in {"categories", "templates"}}
                )
                merged["hits"] += len(page.get("categories", [])) + len(page.get("templates", []))

    states = {}
    for pageid, page in found.items():
        in_scope = scope.is_everything or pageid in article_ids or page["hits"] > 0
        states[pageid] = PageState(
            pageid=pageid,
            namespace=int(page.get("ns", 0)),
            title=str(page.get("title", "")),
            redirect=bool(page.get("redirect", False)),
            deleted=bool(page.get("missing", False)),
            in_scope=in_scope,
        )
    return states


#: How far back an incremental fetch reaches before the last one: revisions can become
#: visible a little after their timestamp (replication lag, saves in the same second).
OVERLAP = timedelta(minutes=5)


def fetch_wiki(
    site: APISite,
    users: frozenset[str],
    window: Window,
    scope: Scope,
    remembered: Sequence[Revision] = (),
    remembered_pages: Mapping[int, PageState] | None = None,
    *,
    since: datetime | None = None,
    remembered_uploads: Sequence[Upload] = (),
) -> WikiRecords:
    """Everything one wiki contributes to a program's figures.

    Full (``since`` None): every revision of the window is fetched. ``remembered`` holds
    what an earlier refresh counted: revisions that vanished since, on pages that are now
    missing, were deleted with their page and keep counting, flagged; revisions that
    vanished from pages that still exist are dropped.

    Incremental (``since`` given): only what happened since then (with an overlap) is
    fetched and merged with what was remembered; page states are asked only for the new
    revisions' pages. A few requests, however large the program.
    """
    remembered_pages = dict(remembered_pages or {})
    if since is not None:
        return _fetch_since(
            site, users, window, scope, since, remembered, remembered_pages, remembered_uploads
        )
    revisions = fetch_revisions(site, users, window) if users else []
    seen = {rev.revid for rev in revisions}
    vanished = [
        rev
        for rev in remembered
        if rev.revid not in seen and rev.user in users and rev.timestamp in window
    ]
    wanted_ids = _wanted_pages(revisions, scope) | {rev.pageid for rev in vanished}
    pages = fetch_pages(site, wanted_ids, scope)
    for rev in vanished:
        state = pages.get(rev.pageid)
        known = remembered_pages.get(rev.pageid)
        if state is not None and state.deleted and known is not None:
            pages[rev.pageid] = PageState(
                rev.pageid, known.namespace, known.title, known.redirect, True, known.in_scope
            )
            revisions.append(rev)
    uploads = fetch_uploads(site, users, window) if users else []
    return _records(site, revisions, pages, uploads, users)


def _wanted_pages(revisions: Sequence[Revision], scope: Scope) -> set[int]:
    """Pages whose state the figures need: articles, and every page when scoped."""
    if not scope.is_everything:
        return {rev.pageid for rev in revisions}
    return {rev.pageid for rev in revisions if rev.namespace == MAIN_NAMESPACE}


def _fetch_since(
    site: APISite,
    users: frozenset[str],
    window: Window,
    scope: Scope,
    since: datetime,
    remembered: Sequence[Revision],
    remembered_pages: dict[int, PageState],
    remembered_uploads: Sequence[Upload],
) -> WikiRecords:
    recent = Window(max(window.start, since - OVERLAP), window.end)
    if recent.start > recent.end:
        recent = Window(window.end, window.end)
    new = fetch_revisions(site, users, recent) if users else []
    by_id = {rev.revid: rev for rev in remembered if rev.user in users and rev.timestamp in window}
    by_id.update({rev.revid: rev for rev in new})
    fresh = fetch_pages(site, _wanted_pages(new, scope), scope)
    pages = {**remembered_pages, **fresh}
    uploads = {u.title: u for u in remembered_uploads if u.user in users and u.timestamp in window}
    if users:
        uploads.update({u.title: u for u in fetch_uploads(site, users, recent)})
    revisions = sorted(by_id.values(), key=lambda rev: rev.revid)
    return _records(site, revisions, pages, list(uploads.values()), users)


def _records(
    site: APISite,
    revisions: Sequence[Revision],
    pages: Mapping[int, PageState],
    uploads: Sequence[Upload],
    users: frozenset[str],
) -> WikiRecords:
    log.info(
        "%s: %d revisions, %d pages, %d uploads",
        host_of(site),
        len(revisions),
        len(pages),
        len(uploads),
    )
    return WikiRecords(host_of(site), tuple(revisions), dict(pages), tuple(uploads), users)
