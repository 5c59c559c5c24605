"""Fetching what a program's figures need from one wiki, with as few requests as it allows.

Requests are batched across participants (``ucuser`` takes up to 500 names with high
limits) and bounded by the window; nothing here loops once per participant. The requests
themselves are built and read in bot.wiki.queries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pywikibot.site import APISite

from bot.core.changes import PageChanges, RecentChange, page_changes
from bot.core.contributions import MAIN_NAMESPACE, PageState, Revision, Upload, WikiRecords
from bot.core.dates import format_moment
from bot.core.editors import (
    RETENTION_DELAYS,
    EditorFigures,
    earliest_registrations,
    editor_figures,
    new_editors,
    retention_known,
    retention_moment,
)
from bot.core.errors import InvalidNameError
from bot.core.extras import count_file_usage
from bot.core.model import Scope, Window
from bot.core.references import RevisionReferences
from bot.core.renames import MAX_CHAIN, follow_chain
from bot.core.revision_table import (
    NAMESPACE,
    PAGEID,
    REVID,
    TIMESTAMP,
    TITLE,
    USER,
    RevisionTable,
    revision_rows,
    row_of,
)
from bot.wiki import queries
from bot.wiki.queries import Params, UserCheck
from bot.wiki.sites import batch_limit, chunks, host_of, query_once, run_query

log = logging.getLogger(__name__)

#: How far back an incremental fetch reaches before the last one: revisions can become
#: visible a little after their timestamp (replication lag, saves in the same second).
OVERLAP = timedelta(minutes=5)

#: How long a save may take to become visible after its timestamp: a page state read at
#: a moment may miss a change stamped this much before it.
SAVE_LAG = timedelta(seconds=10)


#: What an earlier count remembered of a wiki: its revisions and page states (see fetch_wiki).
Recall = Callable[[], tuple[Sequence[Revision], Mapping[int, PageState]]]


# -- accounts -------------------------------------------------------------------------------


def check_users(site: APISite, names: Sequence[str]) -> UserCheck:
    """Ask ``list=users`` about every name, in batches, before they go into ``ucuser``.

    One invalid name would fail a whole usercontribs batch (``baduser``). The same
    requests bring the accounts' registrations (for new editors), so they are never asked
    a second time.
    """
    existing: set[str] = set()
    missing: set[str] = set()
    invalid: set[str] = set()
    registrations: dict[str, datetime | None] = {}
    for batch in chunks(list(names), batch_limit(site)):
        asked = queries.as_asked(batch)
        for answer in run_query(site, queries.users_request(batch, registration=True)):
            check = queries.read_user_check(answer, asked)
            existing |= check.existing
            missing |= check.missing
            invalid |= check.invalid
            registrations.update(queries.read_registrations(answer, asked))
    return UserCheck(frozenset(existing), frozenset(missing), frozenset(invalid), registrations)


def fetch_renames(site: APISite, names: Iterable[str]) -> dict[str, str]:
    """Where each of ``names`` was renamed to on ``site``, following chains (A -> B -> C
    gives C); "" for a name never renamed. One small request per name and step: only names
    whose account is missing are asked, which is rare."""
    renamed_to: dict[str, str] = {}
    found = {}
    for name in names:
        step = name
        for _ in range(MAX_CHAIN):
            if step in renamed_to:
                break
            answer, _ = query_once(site, queries.rename_log_request(step))
            renamed_to[step] = queries.read_renamed_to(answer, step)
            if not renamed_to[step]:
                break
            step = renamed_to[step]
        found[name] = follow_chain(name, renamed_to)
    return found


def fetch_registrations(site: APISite, users: Iterable[str]) -> dict[str, datetime | None]:
    """Each existing user's registration on ``site`` (None: too old to be recorded).

    One ``list=users&usprop=registration`` request per batch of ``batch_limit`` names.
    Missing and invalid names are left out; keys are the names as given.
    """
    found: dict[str, datetime | None] = {}
    for batch in chunks(list(dict.fromkeys(users)), batch_limit(site)):
        asked = queries.as_asked(batch)
        for answer in run_query(site, queries.users_request(batch, registration=True)):
            found.update(queries.read_registrations(answer, asked))
    return found


# -- contributions and uploads ----------------------------------------------------------------


def fetch_edited_since(site: APISite, users: Iterable[str], since: datetime) -> set[str]:
    """Who among ``users`` made at least one edit on ``site`` at or after ``since``.

    One ``list=usercontribs`` request per batch of users (timestamps only, ``uclimit=max``);
    more only while a batch has users not seen yet. MediaWiki lists several users'
    contributions user by user, so instead of continuing through the rest of a busy user's
    edits, the next request asks again for only the users not seen yet: it finds at least
    one more or ends the batch. Users must be valid names (an invalid one fails the
    request: check them with :func:`check_users` first).
    """
    names = list(dict.fromkeys(users))
    seen: set[str] = set()
    requests = 0
    for batch in chunks(sorted(names), batch_limit(site)):
        asked = queries.as_asked(batch)
        pending = list(batch)
        params: dict[str, Any] = queries.edited_since_request(pending, since)
        while True:
            answer, continuation = query_once(site, params)
            requests += 1
            found = queries.read_editors(answer, asked)
            seen |= found
            pending = [user for user in pending if user not in seen]
            if not continuation or not pending:
                break
            if found & set(batch):
                params = queries.edited_since_request(pending, since)
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
    *,
    known: Sequence[Mapping[str, datetime | None]] | None = None,
) -> EditorFigures:
    """New and retained editors of a program over its listed wikis, in few requests.

    Registrations are asked on every wiki (the earliest counts), unless ``known`` gives
    them per site already (the account check brings them). Contributions are asked
    only for new editors, only for delays whose moment has passed, latest delay first: an
    edit after ``end + 30 days`` is also after ``end + 7 days``, so the earlier delay asks
    only about those not yet found, and each wiki only about those no earlier wiki showed.
    """
    if known is not None:
        wanted = set(users)
        per_site = [{u: r for u, r in regs.items() if u in wanted} for regs in known]
    else:
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


# -- pages ------------------------------------------------------------------------------------


def _subcategories(site: APISite, categories: Sequence[str], depth: int) -> set[str]:
    """The categories and their subcategories down to ``depth`` levels (full titles)."""
    found = {f"Category:{name}" for name in categories}
    level = set(found)
    for _ in range(depth):
        below: set[str] = set()
        for title in sorted(level):
            for answer in run_query(site, queries.subcategories_request(title)):
                below |= queries.read_members(answer)
        level = below - found
        found |= below
        if not level:
            break
    return found


def _article_ids(site: APISite, titles: Sequence[str]) -> set[int]:
    ids: set[int] = set()
    for batch in chunks(list(titles), batch_limit(site)):
        for answer in run_query(site, queries.page_ids_request(batch)):
            ids |= queries.read_page_ids(answer)
    return ids


def fetch_pages(site: APISite, pageids: Iterable[int], scope: Scope) -> dict[int, PageState]:
    """The current state of pages (title, redirect, missing, in scope), in batches."""
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
    if len(categories) > limit:
        log.warning("scope has %d categories; only the first %d count", len(categories), limit)

    found: dict[int, dict[str, Any]] = {}
    for batch in chunks(ids, limit):
        params = queries.page_states_request(batch, categories[:limit], templates[:limit])
        for answer in run_query(site, params):
            queries.merge_page_states(found, answer)

    return {
        pageid: PageState(
            pageid=pageid,
            namespace=int(page.get("ns", 0)),
            title=str(page.get("title", "")),
            redirect=bool(page.get("redirect", False)),
            deleted=bool(page.get("missing", False)),
            in_scope=scope.is_everything or pageid in article_ids or page["hits"] > 0,
        )
        for pageid, page in found.items()
    }


def fetch_histories(site: APISite, titles: Iterable[str]) -> tuple[list[Revision], dict[int, int]]:
    """Every visible revision of these pages (a page's history comes one page a request,
    5,000 revisions at a time): for the few pages whose history an undeletion, a revision
    deletion or a merge changed. With each revision's parent (by revision id, 0: none)."""
    revisions: list[Revision] = []
    parents: dict[int, int] = {}
    for title in sorted(set(titles)):
        size = 0
        for answer in run_query(site, queries.history_request(title)):
            found, size = queries.read_history(answer, size)
            revisions += found
            parents.update(queries.read_history_parents(answer))
    return revisions, parents


def fetch_revision_references(
    site: APISite,
    revids: Iterable[int],
    known: Mapping[int, RevisionReferences],
    parents: Mapping[int, int] | None = None,
) -> dict[int, RevisionReferences]:
    """What the texts of ``revids`` and of their parents hold, for those ``known`` lacks:
    as many texts a request as the API allows (its result-size limit splits a batch into
    continuations). The parents ``parents`` names (as the contributions gave them) are
    read in the same pass; the others, named by the texts read, in a second one. Only
    what was read is returned."""
    asked = set(revids)
    parents = parents or {}
    wanted = asked - known.keys()
    wanted |= {parent for r in wanted if (parent := parents.get(r, 0))} - known.keys()
    found = _read_texts(site, wanted)
    have = {**known, **found}
    later = {have[r].parentid for r in asked if r in have and have[r].parentid}
    found.update(_read_texts(site, later - have.keys()))
    if found:
        log.info("%s: read the texts of %d revisions", host_of(site), len(found))
    return found


def _read_texts(site: APISite, revids: Iterable[int]) -> dict[int, RevisionReferences]:
    found: dict[int, RevisionReferences] = {}
    for batch in chunks(sorted(revids), batch_limit(site)):
        for answer in run_query(site, queries.revision_texts_request(batch)):
            found.update(queries.read_revision_texts(answer))
    return found


def fetch_revision_pages(site: APISite, revids: Iterable[int]) -> dict[int, PageState]:
    """The page of each revision, with its state now (by revision id), in batches."""
    ids = sorted(set(revids))
    found: dict[int, PageState] = {}
    for batch in chunks(ids, batch_limit(site)):
        for answer in run_query(site, queries.revision_pages_request(batch)):
            for revid, page in queries.read_revision_pages(answer).items():
                found[revid] = PageState(
                    pageid=int(page.get("pageid", 0)),
                    namespace=int(page.get("ns", 0)),
                    title=str(page.get("title", "")),
                    redirect=bool(page.get("redirect", False)),
                    deleted=bool(page.get("missing", False)),
                )
    return found


def fetch_file_usage(site: APISite, file_titles: Iterable[str]) -> dict[str, set[str]]:
    """For each file title (``File:X.png``), the main-namespace pages of ``site`` using it.

    MediaWiki records a page's use of a file by the file's name (``imagelinks``), whether
    the file lives on the same wiki or on a shared repository such as Commons; so each
    listed wiki is asked about the files by title, wherever they were uploaded. Every given
    title is in the answer (an unused file maps to an empty set), under the title as given.
    """
    titles = list(dict.fromkeys(file_titles))
    usage: dict[str, set[str]] = {title: set() for title in titles}
    for batch in chunks(titles, batch_limit(site)):
        given = {title: title for title in batch}
        for answer in run_query(site, queries.file_usage_request(batch)):
            queries.read_file_usage(answer, given, usage)
    log.info(
        "%s: %d of %d files used on %d main-namespace pages",
        host_of(site),
        sum(1 for pages in usage.values() if pages),
        len(titles),
        count_file_usage({host_of(site): usage}),
    )
    return usage


# -- one program on one wiki ------------------------------------------------------------------


#: How old the store's page states may be for the recent changes since then to tell which
#: changed; older ones are asked again (a busy wiki's day of changes is many requests).
KNOWN_STATES_FOR = timedelta(days=1)


@dataclass(frozen=True)
class _Read:
    """What the first requests of a fetch brought: contributions, uploads, the account
    check (None: not asked) and the wiki's recent changes (None: not asked)."""

    revisions: list[Revision]
    uploads: list[Upload]
    check: UserCheck | None
    changes: PageChanges | None
    #: Main-namespace pages using each file asked along (by the title as given).
    file_usage: dict[str, set[str]] = field(default_factory=dict)
    #: The parent of each revision read, by revision id (0: none).
    parents: dict[int, int] = field(default_factory=dict)


def _read_together(
    site: APISite,
    names: frozenset[str],
    window: Window,
    changes_since: datetime | None,
    *,
    check: bool = False,
    files: Sequence[str] = (),
) -> _Read:
    """The names' contributions over ``window``, the window's upload log and the recent
    changes since ``changes_since``, in as few requests as the API allows: each batch of
    names asks ``list=users`` (with ``check``) and ``list=usercontribs`` together, and the
    first batch also the two others (their continuations run side by side).

    A name without an account just has no contributions; a name that cannot be a username
    fails its whole request (``baduser``): that batch is then checked first and asked again
    without it. ``files``: titles whose usage on this wiki rides along in the first request
    (as many as one request takes).
    """
    limit = batch_limit(site)
    batches = list(chunks(sorted(names), limit)) or [[]]
    files = list(dict.fromkeys(files))[:limit]
    given = {title: title for title in files}
    usage: dict[str, set[str]] = {title: set() for title in files}
    revisions: list[Revision] = []
    parents: dict[int, int] = {}
    uploads: list[Upload] = []
    found: list[RecentChange] = []
    existing: set[str] = set()
    missing: set[str] = set()
    invalid: set[str] = set()
    registrations: dict[str, datetime | None] = {}
    wiki = host_of(site)
    for number, batch in enumerate(batches):
        asked = queries.as_asked(batch)
        others: list[Params] = []
        if number == 0:
            if names:
                others.append(queries.upload_log_request(window))
            if changes_since is not None:
                others.append(queries.recent_changes_request(changes_since, str(site.username())))
            if files:
                others.append(queries.file_usage_request(files))
        modules = []
        if check and batch:
            modules.append(queries.users_request(batch, registration=True))
        if batch:
            modules.append(queries.contributions_request(batch, window))
        modules += others
        if not modules:
            continue
        try:
            answers = list(run_query(site, queries.together(modules)))
        except InvalidNameError:
            alone = check_users(site, batch)
            existing |= alone.existing
            missing |= alone.missing
            invalid |= alone.invalid
            registrations.update(alone.registrations)
            valid = [name for name in batch if name not in alone.invalid]
            modules = [queries.contributions_request(valid, window)] if valid else []
            modules += others
            answers = list(run_query(site, queries.together(modules))) if modules else []
        for answer in answers:
            if check and "users" in answer:
                checked = queries.read_user_check(answer, asked)
                existing |= checked.existing
                missing |= checked.missing
                invalid |= checked.invalid
                registrations.update(queries.read_registrations(answer, asked))
            revisions += queries.read_contributions(answer)
            parents.update(queries.read_contribution_parents(answer))
            uploads += queries.read_uploads(answer, names)
            found += queries.read_recent_changes(wiki, answer, 0)
            if files:
                queries.read_file_usage(answer, given, usage)
    users = None
    if check:
        users = UserCheck(
            frozenset(existing), frozenset(missing), frozenset(invalid), registrations
        )
    changes = page_changes(found) if changes_since is not None else None
    return _Read(revisions, uploads, users, changes, usage, parents)


@dataclass(frozen=True)
class Fetched:
    """What one wiki gave: its records, the account check (full fetches) and the usage of
    the files asked along (full fetches)."""

    records: WikiRecords
    check: UserCheck | None = None
    file_usage: dict[str, set[str]] = field(default_factory=dict)


def fetch_tagged_edits(
    site: APISite, tags: Sequence[str], window: Window, since: datetime
) -> list[Revision]:
    """The edits on ``site`` from ``since`` (at the earliest the window's start) to now
    whose summary carries one of ``tags``, from the wiki's recent changes."""
    start = max(window.start, since)
    if start > window.end:
        return []
    found: list[Revision] = []
    request = queries.tagged_changes_request(Window(start, window.end), datetime.now(UTC))
    for answer in run_query(site, request):
        found += queries.read_tagged_edits(answer, tags)
    return found


def merge_fetched(first: Fetched, second: Fetched) -> Fetched:
    """Two full fetches of one wiki for different names, as one."""
    a, b = first.records, second.records
    revisions = {rev.revid: rev for rev in (*a.revisions, *b.revisions)}
    records = WikiRecords(
        a.wiki,
        tuple(sorted(revisions.values(), key=lambda rev: rev.revid)),
        {**a.pages, **b.pages},
        tuple({u.title: u for u in (*a.uploads, *b.uploads)}.values()),
        a.known_users | b.known_users,
        parents={**a.parents, **b.parents},
    )
    check = first.check
    if check is not None and second.check is not None:
        other = second.check
        check = UserCheck(
            check.existing | other.existing,
            (check.missing - other.existing) | other.missing,
            check.invalid | other.invalid,
            {**check.registrations, **other.registrations},
        )
    return Fetched(records, check, first.file_usage)


def _recent(window: Window, since: datetime) -> Window:
    """What an incremental fetch asks the contributions of: the window's part since the
    last fetch, with the overlap (an ended window: its end alone)."""
    recent = Window(max(window.start, since - OVERLAP), window.end)
    return recent if recent.start <= recent.end else Window(window.end, window.end)


class EarlyRead:
    """The first requests of an incremental fetch, sent in a thread of their own before
    the program page is parsed (parsing a page of a thousand rows takes about as long as
    the wikis take to answer). They are asked as the last fetch mark says (its names,
    window and moment); ``fetch_wiki`` uses the answer only when it would ask exactly the
    same, else it asks again: a page edited since the mark costs these requests, never a
    wrong figure."""

    def __init__(self, site: APISite, names: frozenset[str], window: Window, since: datetime):
        #: Before the first request was sent: a fetch using the answer is as of then.
        self.started = datetime.now(UTC)
        self._asked = (host_of(site), names, _recent(window, since), since - OVERLAP)
        self._answer: _Read | None = None
        self._thread = threading.Thread(
            target=self._read, args=(site,), name=f"early-{host_of(site)}"[:15], daemon=True
        )
        self._thread.start()

    def _read(self, site: APISite) -> None:
        _, names, recent, changes_since = self._asked
        try:
            self._answer = _read_together(site, names, recent, changes_since)
        except Exception:  # the fetch asks again, and meets the error itself
            log.debug("%s: the early read failed", self._asked[0], exc_info=True)

    def answer(
        self, site: APISite, names: frozenset[str], recent: Window, changes_since: datetime
    ) -> _Read | None:
        """The answer, when it was asked exactly this (waits for it); else None."""
        if self._asked != (host_of(site), names, recent, changes_since):
            return None
        self._thread.join()
        answer, self._answer = self._answer, None  # used once: the fetch may extend it
        return answer


def fetch_wiki(
    site: APISite,
    users: frozenset[str],
    window: Window,
    scope: Scope,
    recall: Recall = lambda: ((), {}),
    *,
    since: datetime | None = None,
    remembered_uploads: Sequence[Upload] = (),
    pages_known_at: datetime | None = None,
    now: datetime | None = None,
    check: bool = False,
    files: Sequence[str] = (),
    early: EarlyRead | None = None,
) -> Fetched:
    """Everything one wiki contributes to a program's figures, and with ``check`` (full
    fetches only) which of ``users`` have an account there: then ``users`` are every
    listed name, asked in the same requests as the contributions.

    ``recall`` gives what an earlier refresh counted (its revisions and page states); it
    is called once the first answers are in, so that the caller may read it meanwhile.

    Full (``since`` None): every revision of the window is fetched. Remembered revisions
    that vanished since, on pages that are now missing, were deleted with their page and
    keep counting, flagged; revisions that vanished from pages that still exist are
    dropped. Page states the store knows as of ``pages_known_at`` (at most a day before
    ``now``; None when it knows no page that still exists) are used again unless the
    wiki's recent changes since then, read in the same requests as the contributions,
    show a change to that page.

    Incremental (``since`` given): only what happened since then (with an overlap) is
    fetched and merged with what was remembered (``early``: those first requests, sent
    before the caller knew it would ask them); page states are asked only for the new
    revisions' pages and for remembered pages the recent changes show moved, deleted or
    edited. After an undeletion, a revision deletion or a history merge those pages'
    histories are read again; a hidden log entry or a suppressed account makes it a full
    fetch of this wiki (only that is exact then). A few requests, however large the program.
    """
    moment = now or datetime.now(UTC)
    if since is not None:
        recent = _recent(window, since)
        read = early.answer(site, users, recent, since - OVERLAP) if early else None
        if read is None:
            read = _read_together(site, users, recent, since - OVERLAP)
        assert read.changes is not None  # asked
        remembered, remembered_pages = recall()
        if not read.changes.recount:
            records = _fetch_since(
                site,
                users,
                window,
                scope,
                read,
                remembered,
                dict(remembered_pages),
                remembered_uploads,
            )
            return Fetched(records)
        log.info("%s: log entries or accounts hidden since the last fetch", host_of(site))
        pages_known_at = None
    reuse = pages_known_at is not None and moment - pages_known_at <= KNOWN_STATES_FOR
    since_known = pages_known_at - SAVE_LAG if reuse and pages_known_at else None
    read = _read_together(site, users, window, since_known, check=check, files=files)
    remembered, remembered_pages = recall()
    if read.check is not None:
        users = read.check.existing
    revisions = read.revisions
    seen = {rev.revid for rev in revisions}
    vanished = [
        Revision(*row)
        for row in revision_rows(remembered)
        if row[REVID] not in seen and row[USER] in users and row[TIMESTAMP] in window
    ]
    wanted_ids = _wanted_pages(revisions, scope) | {rev.pageid for rev in vanished}
    known = _still_known(revisions, wanted_ids, remembered_pages, read.changes)
    pages = {pid: known[pid] for pid in wanted_ids if pid in known}
    pages.update(fetch_pages(site, wanted_ids - known.keys(), scope))
    for rev in vanished:
        state = pages.get(rev.pageid)
        old = remembered_pages.get(rev.pageid)
        if state is not None and state.deleted and old is not None:
            pages[rev.pageid] = PageState(
                rev.pageid, old.namespace, old.title, old.redirect, True, old.in_scope
            )
            revisions.append(rev)
    return Fetched(
        _records(site, revisions, pages, read.uploads, users, read.parents),
        read.check,
        read.file_usage,
    )


def _still_known(
    revisions: Sequence[Revision],
    wanted: set[int],
    remembered_pages: Mapping[int, PageState],
    changes: PageChanges | None,
) -> dict[int, PageState]:
    """The remembered page states that still hold: nothing in the recent changes since
    they were read touched the page, and the contributions show it under the same title.
    Deleted pages are always asked again (a page can come back)."""
    if changes is None:
        return {}
    candidates = {
        pid: state for pid, state in remembered_pages.items() if pid in wanted and not state.deleted
    }
    moved = {
        rev.pageid
        for rev in revisions
        if (state := candidates.get(rev.pageid)) is not None
        and (state.title != rev.title or state.namespace != rev.namespace)
    }
    return {
        pid: state
        for pid, state in candidates.items()
        if pid not in moved and not changes.touches(state)
    }


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
    read: _Read,
    remembered: Sequence[Revision],
    remembered_pages: dict[int, PageState],
    remembered_uploads: Sequence[Upload],
) -> WikiRecords:
    changes = read.changes
    assert changes is not None
    new = read.revisions
    # Column by column, not one object a revision: this looks at every counted revision on
    # each refresh. What was remembered and is answered again (the overlap) is taken as
    # answered now.
    table = RevisionTable.from_revisions(remembered)
    answered = {rev.revid for rev in new}
    start, end = window.start, window.end
    keep = [
        user in users and start <= moment <= end and revid not in answered
        for revid, user, moment in zip(
            table.revids, table.column(USER), table.column(TIMESTAMP), strict=True
        )
    ]
    added = {rev.revid: rev for rev in new}
    parents = read.parents
    rewritten: list[Revision] = []
    if changes.histories:
        # An undeletion, a revision deletion or a merge: those pages' revisions are now
        # what their histories show (restored ones back, hidden or merged-away ones gone).
        history, history_parents = fetch_histories(site, changes.histories)
        parents = {**parents, **history_parents}
        pageids = {rev.pageid for rev in history} | {
            pid for pid, state in remembered_pages.items() if state.title in changes.histories
        }
        keep = [k and pid not in pageids for k, pid in zip(keep, table.column(PAGEID), strict=True)]
        added = {revid: rev for revid, rev in added.items() if rev.pageid not in pageids}
        rewritten = [rev for rev in history if rev.user in users and rev.timestamp in window]
        added.update({rev.revid: rev for rev in rewritten})
    touched = {pid for pid, state in remembered_pages.items() if changes.touches(state)}
    wanted = _wanted_pages([*new, *rewritten], scope) | touched
    fresh = fetch_pages(site, wanted, scope)
    pages = {**remembered_pages, **fresh}
    for pid in touched & fresh.keys():
        if fresh[pid].deleted:
            # Deleted with its page: counted as before, flagged (as a full fetch does).
            old = remembered_pages[pid]
            pages[pid] = PageState(pid, old.namespace, old.title, old.redirect, True, old.in_scope)
    merged = table.kept(keep).with_rows(map(row_of, added.values()))
    # Moved: the contributions would list them under their page's title now.
    moves = {
        at: (now.namespace, now.title)
        for at, (pid, namespace, title) in enumerate(
            zip(
                merged.column(PAGEID),
                merged.column(NAMESPACE),
                merged.column(TITLE),
                strict=True,
            )
        )
        if (now := pages.get(pid)) is not None
        and (now.title != title or now.namespace != namespace)
        and not now.deleted
    }
    uploads = {u.title: u for u in remembered_uploads if u.user in users and u.timestamp in window}
    uploads.update({u.title: u for u in read.uploads})
    return _records(site, merged.moved(moves), pages, list(uploads.values()), users, parents)


def _records(
    site: APISite,
    revisions: Sequence[Revision],
    pages: Mapping[int, PageState],
    uploads: Sequence[Upload],
    users: frozenset[str],
    parents: Mapping[int, int],
) -> WikiRecords:
    log.info(
        "%s: %d revisions, %d pages, %d uploads",
        host_of(site),
        len(revisions),
        len(pages),
        len(uploads),
    )
    kept = revisions if isinstance(revisions, RevisionTable) else tuple(revisions)
    return WikiRecords(host_of(site), kept, dict(pages), tuple(uploads), users, parents=parents)
