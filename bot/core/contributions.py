"""What the bot fetches from a wiki, as plain records for the pure metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.references import RevisionReferences

MAIN_NAMESPACE = 0


@dataclass(frozen=True, slots=True)
class Revision:
    """One revision by a participant (from ``list=usercontribs``)."""

    revid: int
    user: str
    pageid: int
    namespace: int
    title: str
    timestamp: datetime
    sizediff: int
    #: The revision is its page's first (``rev_parent_id = 0``): the page was created.
    new: bool
    #: The countable Wikibase action its summary names (bot.core.wikibase), or "".
    wikibase: str = ""


@dataclass(frozen=True, slots=True)
class PageState:
    """What the bot knows of a page now: its title, whether it is a redirect or deleted."""

    pageid: int
    namespace: int
    title: str
    redirect: bool = False
    deleted: bool = False
    in_scope: bool = True


@dataclass(frozen=True, slots=True)
class Upload:
    """A new file (``upload/upload`` log entry, not an overwrite)."""

    user: str
    title: str
    timestamp: datetime


@dataclass(frozen=True)
class WikiRecords:
    """Everything fetched from one listed wiki for one program."""

    wiki: str
    #: A tuple, or a bot.core.revision_table.RevisionTable (as the store gives them).
    revisions: Sequence[Revision] = ()
    pages: Mapping[int, PageState] = field(default_factory=dict)
    uploads: tuple[Upload, ...] = ()
    #: Participants with an account on this wiki (normalized names).
    known_users: frozenset[str] = frozenset()
    #: What the texts of the article revisions (and their parents) hold, by revision id.
    references: Mapping[int, RevisionReferences] = field(default_factory=dict)
    #: The parent of each revision the wiki gave this time, by revision id (0: none), as
    #: the contributions or a re-read history say: the texts to read for the references
    #: added, in one pass.
    parents: Mapping[int, int] = field(default_factory=dict)
