"""A wiki's recent changes applied to the figures of every program they concern, at once.

The changes the scheduler reads each cycle carry user, page, revision, sizes, time and log
action: enough to add a participant's new revisions and uploads to what the store
remembers, without asking the wiki per program. What the changes cannot tell (whether a
page is a redirect now, a page id where the stream gives none) is asked once per wiki for
all programs together, so the requests of a cycle do not grow with the number of programs.
A program the changes cannot bring up to date exactly (no earlier count to build on, a
scoped program, an undeletion) is handed back for an ordinary refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from pywikibot.site import APISite

from bot.core.changes import (
    ChangeBatch,
    RecentChange,
    page_changes,
    revision_of,
    upload_of,
)
from bot.core.contributions import PageState, Revision, WikiRecords
from bot.core.exports import live_report, program_tables
from bot.core.metrics import compute_outcomes
from bot.core.model import Scope, Window
from bot.core.revision_table import revision_ids
from bot.core.titles import normalize_title
from bot.store import FetchMark, ScheduleEntry, Store
from bot.wiki.fetch import fetch_histories, fetch_pages, fetch_revision_pages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedResult:
    """What applying one batch did, by page title."""

    #: What they count changed: live report written, page edit pending.
    updated: frozenset[str] = frozenset()
    #: Looked at and found unchanged (or only their marks moved on).
    unchanged: frozenset[str] = frozenset()
    #: Need an ordinary refresh: the changes alone cannot bring them up to date.
    refresh: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Program:
    entry: ScheduleEntry
    key: str
    window: Window
    marks: dict[str, FetchMark]


def apply_changes(
    store: Store,
    site: APISite,
    batch: ChangeBatch,
    entries: Sequence[ScheduleEntry],
    now: datetime,
) -> FeedResult:
    """Apply ``batch`` (changes on ``site``) to the programs among ``entries`` that count
    on that wiki; see the module's docstring."""
    wiki = batch.wiki
    pages_changed = page_changes(batch.changes)
    remembering = store.programs_remembering(wiki, pages_changed.pageids, pages_changed.titles)
    revisions = [c for c in batch.changes if c.is_revision]
    authors = {c.user for c in revisions} | {c.user for c in batch.changes if upload_of(c)}
    hidden = {c.user for c in batch.changes if c.hides_revision}
    if pages_changed.histories:
        # Restored, hidden or merged revisions: the programs of their authors are counted
        # again (the histories say who they are).
        history, _ = fetch_histories(site, pages_changed.histories)
        hidden |= {rev.user for rev in history}
    authors |= hidden
    programs: list[_Program] = []
    refresh: set[str] = set()
    for entry in entries:
        if wiki not in entry.wikis or entry.window_start is None or entry.window_end is None:
            continue
        listed = {normalize_title(name) for name in entry.participants}
        concerned = bool(listed & authors) or (entry.feed_key in remembering)
        if not concerned and not pages_changed.recount:
            continue
        if entry.feed_key is None or listed & hidden or pages_changed.recount:
            refresh.add(entry.title)
            continue
        marks = {w: m for w in entry.wikis if (m := store.fetch_mark(entry.feed_key, w))}
        if len(marks) < len(entry.wikis):
            refresh.add(entry.title)
            continue
        window = Window(entry.window_start, entry.window_end)
        programs.append(_Program(entry, entry.feed_key, window, marks))
    if not programs:
        return FeedResult(refresh=frozenset(refresh))

    states = _page_states(site, programs, revisions, remembering)
    updated: set[str] = set()
    unchanged: set[str] = set()
    for program in programs:
        if _apply_one(store, program, batch, states, now):
            updated.add(program.entry.title)
        else:
            unchanged.add(program.entry.title)
    log.info(
        "%s: %d changes applied to %d programs (%d changed), %d left for a refresh",
        wiki,
        len(batch.changes),
        len(programs),
        len(updated),
        len(refresh),
    )
    return FeedResult(frozenset(updated), frozenset(unchanged), frozenset(refresh))


def _page_states(
    site: APISite,
    programs: Sequence[_Program],
    revisions: Sequence[RecentChange],
    remembering: dict[str, set[int]],
) -> dict[str, dict[int, PageState]]:
    """The state now of every page the programs count that the batch touched (their
    participants' new revisions' pages, remembered pages moved, deleted or edited): one
    batched read for all programs. ``"page"``: by page id; ``"revision"``: by revision id,
    for changes without a page id."""
    users = {normalize_title(n) for p in programs for n in p.entry.participants}
    relevant = [c for c in revisions if c.user in users]
    by_revision = fetch_revision_pages(site, [c.revid for c in relevant if c.pageid <= 0])
    pageids = {c.pageid for c in relevant if c.pageid > 0}
    for program in programs:
        pageids |= remembering.get(program.key, set())
    pageids -= {state.pageid for state in by_revision.values()}
    return {"page": fetch_pages(site, pageids, Scope()), "revision": by_revision}


def _apply_one(
    store: Store,
    program: _Program,
    batch: ChangeBatch,
    states: dict[str, dict[int, PageState]],
    now: datetime,
) -> bool:
    """Apply the batch to one program; True if what it counts changed (its live report is
    then written and its page edit waits for the cadence)."""
    entry, key, wiki = program.entry, program.key, batch.wiki
    existing = {normalize_title(n) for n in program.marks[wiki].existing}
    # A renamed account's work is filed under the name the page lists (as a count does).
    page_name = {new: old for old, new in program.marks[wiki].renames.items() if new}
    before = store.remembered(key, wiki)
    remembered, pages, uploads_before = before.revisions, before.pages, before.uploads
    uploads = list(uploads_before)
    by_id = {rev.revid: rev for rev in remembered}
    new_pages = dict(pages)
    for change in batch.changes:
        if change.user not in existing or change.timestamp not in program.window:
            continue
        if change.user in page_name:
            change = replace(change, user=page_name[change.user])
        upload = upload_of(change)
        if upload is not None:
            uploads = [u for u in uploads if u.title != upload.title] + [upload]
        state = states["revision"].get(change.revid)
        revision = revision_of(change, state.pageid if state else None)
        if revision is not None:
            if state is not None:
                new_pages.setdefault(state.pageid, state)
            by_id[revision.revid] = revision
    counted_pages = {rev.pageid for rev in by_id.values()}
    for pid, state in states["page"].items():
        old = pages.get(pid)
        if state.deleted and old is not None:
            # Deleted with its page: counted as before, flagged (as a full count does).
            new_pages[pid] = replace(old, deleted=True)
        elif pid in counted_pages:
            new_pages[pid] = state
    revisions = _follow_moves(list(by_id.values()), new_pages)
    # What the store knew of the texts stays; the new revisions' are read by the next count.
    after = WikiRecords(
        wiki, tuple(revisions), new_pages, tuple(uploads), references=before.references
    )
    mark = replace(program.marks[wiki], fetched_until=batch.complete_until)
    store.remember_refresh(key, [after], [(wiki, mark)], {wiki: before})
    # The figures are made of these records alone: unchanged records, unchanged figures.
    if (
        {rev.revid: rev for rev in revisions} == {rev.revid: rev for rev in remembered}
        and new_pages == pages
        and set(uploads) == set(uploads_before)
    ):
        return False
    records_after = _records(store, program, wiki, after)
    listed, private = _listed(store, entry)
    outcomes = compute_outcomes(_counted(listed, program.marks), program.window, records_after)
    tables = program_tables(outcomes, records_after, program.window, None, private)
    store.update_schedule(
        entry.wiki,
        entry.title,
        live_report=live_report(outcomes, now, private, tables),
        live_at=now,
        edit_pending=True,
    )
    return True


def _follow_moves(revisions: list[Revision], pages: dict[int, PageState]) -> list[Revision]:
    """Revisions under their page's title and namespace now, as the contributions list them."""
    moved = []
    for rev in revisions:
        state = pages.get(rev.pageid)
        if (
            state is not None
            and not state.deleted
            and state.title
            and ((state.title, state.namespace) != (rev.title, rev.namespace))
        ):
            rev = replace(rev, title=state.title, namespace=state.namespace)
        moved.append(rev)
    return sorted(moved, key=lambda rev: rev.revid)


def _records(store: Store, program: _Program, wiki: str, here: WikiRecords) -> list[WikiRecords]:
    """The program's records on every listed wiki: ``here`` for ``wiki``, the store's for
    the others (in the order the program lists them)."""
    records = []
    for other in program.entry.wikis:
        existing = program.marks[other].existing
        kept = here if other == wiki else store.remembered(program.key, other)
        # New revisions' texts are read by the page's next count; until then they add none.
        known = store.references_of_revisions(other, revision_ids(kept.revisions), kept.references)
        records.append(replace(kept, known_users=existing, references=known))
    return records


def _listed(store: Store, entry: ScheduleEntry) -> tuple[list[str], list[str]]:
    private = store.private_participants(entry.wiki, entry.title)
    listed = list(entry.participants)
    listed += [name for name in private if name not in listed]
    return listed, private


def _counted(listed: Sequence[str], marks: dict[str, FetchMark]) -> list[str]:
    """The listed names with an account on at least one listed wiki (as a count has it)."""
    somewhere: set[str] = set()
    for mark in marks.values():
        somewhere |= mark.existing
    return [name for name in listed if name in somewhere]
