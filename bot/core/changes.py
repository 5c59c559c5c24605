"""A wiki's recent changes as plain records, and what they tell the figures.

The same records come from polling ``list=recentchanges`` and from the EventStreams
``recentchange`` stream; everything after reading them is shared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.contributions import PageState, Revision, Upload
from bot.core.wikibase import summary_action

EDIT, NEW, LOG = "edit", "new", "log"

#: Log types whose actions save revisions of their own.
REVISION_LOG_TYPES = frozenset({"move", "protect", "import", "merge", "contentmodel"})

#: Log actions that change a page's title, existence or namespace: a page counted before
#: may now count differently (moved out of the main namespace, deleted, restored).
PAGE_LOG_TYPES = frozenset({"move", "delete"})


@dataclass(frozen=True)
class RecentChange:
    """One recent change: an edit, a page creation or a log action."""

    wiki: str
    rcid: int
    kind: str
    namespace: int
    title: str
    user: str
    timestamp: datetime
    #: 0 where the source does not say (the stream carries no page id).
    pageid: int = 0
    revid: int = 0
    old_revid: int = 0
    old_len: int = 0
    new_len: int = 0
    log_type: str = ""
    log_action: str = ""
    #: A move's new title (full, with its namespace prefix) and namespace.
    target_title: str = ""
    target_namespace: int = 0
    comment: str = ""
    bot: bool = False

    @property
    def is_revision(self) -> bool:
        """An edit, a page creation, or an upload whose file page revision is named (MediaWiki
        saves that revision without a change of its own)."""
        if self.kind == LOG:
            return self.log_type == "upload" and self.revid > 0
        return self.kind in (EDIT, NEW) and self.revid > 0

    @property
    def hides_revision(self) -> bool:
        """A log action that saved a revision the changes do not describe (a move's null
        revision and the redirect it leaves, a protection, an import, a merge, a content
        model change, an upload whose revision is not named): only the contributions tell."""
        if self.kind != LOG:
            return False
        if self.log_type == "upload":
            return self.revid <= 0
        return self.log_type in REVISION_LOG_TYPES

    @property
    def changes_page(self) -> bool:
        """A log action after which a page's state must be read again."""
        return self.kind == LOG and self.log_type in PAGE_LOG_TYPES


@dataclass(frozen=True)
class ChangeBatch:
    """What one read of a wiki's changes gave: the changes, and the moment up to which
    the wiki's changes are complete (every change before it is in this or an earlier batch)."""

    wiki: str
    changes: tuple[RecentChange, ...]
    complete_until: datetime

    @property
    def users(self) -> frozenset[str]:
        return frozenset(change.user for change in self.changes)

    @property
    def titles(self) -> frozenset[str]:
        return frozenset(change.title for change in self.changes)


def revision_of(change: RecentChange, pageid: int | None = None) -> Revision | None:
    """The revision an edit or page creation made, as usercontribs would list it."""
    if not change.is_revision:
        return None
    page = pageid if pageid is not None else change.pageid
    if page <= 0:
        return None
    return Revision(
        revid=change.revid,
        user=change.user,
        pageid=page,
        namespace=change.namespace,
        title=change.title,
        timestamp=change.timestamp,
        # An upload's file page: its size is not in the change, and only main-namespace
        # sizes count.
        sizediff=change.new_len - change.old_len,
        new=change.kind == NEW or (change.kind == LOG and change.log_action == "upload"),
        wikibase=summary_action(change.comment),
    )


def upload_of(change: RecentChange) -> Upload | None:
    """A new file (not an overwrite), as the upload log lists it."""
    if change.kind == LOG and change.log_type == "upload" and change.log_action == "upload":
        return Upload(change.user, change.title, change.timestamp)
    return None


def touched_titles(changes: Iterable[RecentChange]) -> frozenset[str]:
    """Titles whose page may have changed state: moved, deleted or restored, and every
    edited page (an edit can make or unmake a redirect)."""
    found: set[str] = set()
    for change in changes:
        if change.changes_page or change.kind in (EDIT, NEW):
            found.add(change.title)
        if change.target_title:
            found.add(change.target_title)
    return frozenset(found)


def touched_pageids(changes: Iterable[RecentChange]) -> frozenset[int]:
    """Ids of the pages the changes name (where the source gives them)."""
    return frozenset(change.pageid for change in changes if change.pageid > 0)


#: Log actions after which a page's revisions appear, vanish or move without an edit of
#: their own (an undeletion, a revision deletion, a history merge, an import): that page's
#: history is read again.
HISTORY_ACTIONS = frozenset(
    {
        ("delete", "restore"),
        ("delete", "revision"),
        ("merge", "merge"),
        ("import", "upload"),
        ("import", "interwiki"),
    }
)

#: Log actions whose effect no page's history shows (a log entry hidden, an account
#: suppressed): only reading the contributions and the upload log again is exact.
RECOUNT_TYPES = frozenset({"suppress"})
RECOUNT_ACTIONS = frozenset({("delete", "event")})


@dataclass(frozen=True)
class PageChanges:
    """Which pages changed state (by id or title), which pages' histories changed, and
    whether only a new read of the contributions is exact."""

    pageids: frozenset[int] = frozenset()
    titles: frozenset[str] = frozenset()
    recount: bool = False
    #: Titles whose history changed (read again: their revisions replace the remembered).
    histories: frozenset[str] = frozenset()

    def touches(self, state: PageState) -> bool:
        return state.pageid in self.pageids or state.title in self.titles


def page_changes(changes: Iterable[RecentChange]) -> PageChanges:
    """What a run of recent changes tells about the state of pages."""
    listed = list(changes)
    logs = [change for change in listed if change.kind == LOG]
    recount = any(
        change.log_type in RECOUNT_TYPES or (change.log_type, change.log_action) in RECOUNT_ACTIONS
        for change in logs
    )
    histories = {
        title
        for change in logs
        if (change.log_type, change.log_action) in HISTORY_ACTIONS
        for title in (change.title, change.target_title)
        if title
    }
    return PageChanges(
        touched_pageids(listed), touched_titles(listed), recount, frozenset(histories)
    )
