"""Where the scheduler takes each wiki's changes from: polling ``list=recentchanges``
(any wiki), or a stream (bot.wiki.stream, for Wikimedia's wikis). Both give the same
records (bot.core.changes) and keep their own position, so that no change is read twice
or skipped between two reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pywikibot.site import APISite

from bot.core.changes import ChangeBatch, RecentChange
from bot.wiki import queries
from bot.wiki.sites import host_of, run_query, site_for_host

#: Where a process that has not read a wiki yet starts: a little in the past, so that a
#: restart misses nothing that happened while it was down for a moment.
START_BACK = timedelta(minutes=10)

#: Saves become visible a little after their timestamp (a save's transaction ends after
#: its time was taken): each read reaches this far back, and the change ids tell which of
#: those changes were seen already.
OVERLAP = timedelta(minutes=1)


class ChangeFeed(Protocol):
    """A source of a wiki's changes since its last read."""

    def read(self, wiki: str) -> ChangeBatch:
        """The changes made on ``wiki`` since the last read. Raises UnknownWikiError for
        a wiki no Pywikibot family serves and WikiAccessError when it cannot answer."""
        ...


def recent_changes(site: APISite, since: datetime, after_id: int) -> list[RecentChange]:
    """The changes on ``site`` from ``since`` on after change ``after_id``, the bot's own
    left out; one request per 5,000 changes (500 without the bot right)."""
    params = queries.recent_changes_request(since, str(site.username()))
    wiki = host_of(site)
    return [
        change
        for answer in run_query(site, params)
        for change in queries.read_recent_changes(wiki, answer, after_id)
    ]


class PollingFeed:
    """Reads each wiki's recent changes through the Action API, from where it left off."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        #: Per wiki: the moment the last read started and the newest change id it saw.
        self.positions: dict[str, tuple[datetime, int]] = {}

    def read(self, wiki: str) -> ChangeBatch:
        now = self.clock()
        since, last_id = self.positions.get(wiki, (now - START_BACK + OVERLAP, 0))
        changes = recent_changes(site_for_host(wiki), since - OVERLAP, last_id)
        newest = max([last_id, *(change.rcid for change in changes)])
        self.positions[wiki] = (now, newest)
        return ChangeBatch(wiki, tuple(changes), now)
