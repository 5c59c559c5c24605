"""The outcome figures, as pure functions over fetched records (see shared metrics.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date

from bot.core.contributions import MAIN_NAMESPACE, PageState, Revision, WikiRecords
from bot.core.model import Window
from bot.core.references import RevisionReferences, added_by
from bot.core.wikibase import WIKIDATA_FIGURES, action_figures


@dataclass(frozen=True)
class Counts:
    """The figures of one participant, one wiki, or the whole program."""

    edits: int = 0
    mainspace_edits: int = 0
    articles_edited: int = 0
    articles_created: int = 0
    bytes_added: int = 0
    uploads: int = 0
    deleted: int = 0
    references_added: int = 0
    wikidata_items_created: int = 0
    wikidata_statements: int = 0
    wikidata_labels: int = 0
    wikidata_descriptions: int = 0
    wikidata_aliases: int = 0
    wikidata_sitelinks: int = 0
    wikidata_merges: int = 0

    def as_strings(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class DeletedArticle:
    """An article counted in the figures whose page has since been deleted."""

    wiki: str
    title: str


@dataclass(frozen=True)
class Outcomes:
    """Figures per participant (over all wikis), per participant and wiki, per wiki, total."""

    participants: tuple[str, ...]
    per_user: Mapping[str, Counts]
    per_user_wiki: Mapping[tuple[str, str], Counts]
    per_wiki: Mapping[str, Counts]
    total: Counts
    deleted_articles: tuple[DeletedArticle, ...]
    #: Per day (UTC) with counted edits: (edits, distinct articles edited that day).
    per_day: Mapping[date, tuple[int, int]] = field(default_factory=dict)


def contributors(outcomes: Outcomes) -> frozenset[str]:
    """The editors: participants with at least one counted edit or upload."""
    return frozenset(
        name for name, counts in outcomes.per_user.items() if counts.edits or counts.uploads
    )


_ArticleKey = tuple[str, int]  # (wiki, pageid)


@dataclass
class _Tally:
    """Figures over some revisions, with the articles behind them (mergeable)."""

    edits: int = 0
    mainspace: int = 0
    bytes_added: int = 0
    edited: set[_ArticleKey] = field(default_factory=set)
    created: set[_ArticleKey] = field(default_factory=set)
    references: int = 0
    wikidata: dict[str, int] = field(default_factory=dict)

    def add(self, other: _Tally) -> None:
        self.edits += other.edits
        self.mainspace += other.mainspace
        self.bytes_added += other.bytes_added
        self.edited |= other.edited
        self.created |= other.created
        self.references += other.references
        for figure, n in other.wikidata.items():
            self.wikidata[figure] = self.wikidata.get(figure, 0) + n

    def counts(self, pages: Mapping[_ArticleKey, PageState], uploads: int) -> Counts:
        deleted = sum(1 for key in self.edited if pages[key].deleted)
        return Counts(
            self.edits,
            self.mainspace,
            len(self.edited),
            len(self.created),
            self.bytes_added,
            uploads,
            deleted,
            self.references,
            *(self.wikidata.get(figure, 0) for figure in WIKIDATA_FIGURES),
        )


def _tally(
    revisions: Iterable[tuple[str, Revision]],
    pages: Mapping[_ArticleKey, PageState],
    references: Mapping[str, Mapping[int, RevisionReferences]],
) -> _Tally:
    """Figures over ``(wiki, revision)`` pairs already limited to who, where and when."""
    tally = _Tally()
    for wiki, rev in revisions:
        tally.edits += 1
        if rev.wikibase:
            for figure, n in action_figures(rev.wikibase):
                tally.wikidata[figure] = tally.wikidata.get(figure, 0) + n
        if rev.namespace != MAIN_NAMESPACE:
            continue
        tally.mainspace += 1
        tally.bytes_added += max(rev.sizediff, 0)
        key = (wiki, rev.pageid)
        if not _is_article(rev, pages.get(key)):
            continue
        tally.edited.add(key)
        tally.references += added_by(rev.revid, references.get(wiki, {}))
        if rev.new:
            tally.created.add(key)
    return tally


def _merged(tallies: Iterable[_Tally]) -> _Tally:
    merged = _Tally()
    for tally in tallies:
        merged.add(tally)
    return merged


def compute_outcomes(
    participants: Sequence[str], window: Window, records: Sequence[WikiRecords]
) -> Outcomes:
    """Compute every figure of a program from what was fetched on its listed wikis.

    Revisions count when their author is a participant, their time is inside the window
    and their page is in scope; namespace and redirect state come from the page as it is
    now (a draft moved to the main namespace counts as an article). Deleted pages keep
    counting and are listed, never dropped.
    """
    who = set(participants)
    pages: dict[_ArticleKey, PageState] = {}
    counted: list[tuple[str, Revision]] = []
    uploads_of: dict[tuple[str, str], set[str]] = {}
    for wiki_records in records:
        wiki = wiki_records.wiki
        for pageid, state in wiki_records.pages.items():
            pages[(wiki, pageid)] = state
        counted += ((wiki, rev) for rev in _counted_revisions(wiki_records, who, window))
        for upload in wiki_records.uploads:
            if upload.user in who and upload.timestamp in window:
                uploads_of.setdefault((upload.user, wiki), set()).add(upload.title)

    wikis = [r.wiki for r in records]
    references = {r.wiki: r.references for r in records}
    by_user_wiki: dict[tuple[str, str], list[tuple[str, Revision]]] = {}
    for wiki, rev in counted:
        by_user_wiki.setdefault((rev.user, wiki), []).append((wiki, rev))

    def uploads(user: str | None, wiki: str | None) -> int:
        return len(
            {
                (w, title)
                for (u, w), titles in uploads_of.items()
                if user in (None, u) and wiki in (None, w)
                for title in titles
            }
        )

    # Each participant's revisions on each wiki are gone through once; the figures over
    # several participants or wikis merge those (articles as sets: each counted once).
    tallies = {
        (user, wiki): _tally(by_user_wiki.get((user, wiki), ()), pages, references)
        for user in dict.fromkeys(participants)
        for wiki in wikis
    }
    per_user_wiki = {
        (user, wiki): tallies[(user, wiki)].counts(pages, uploads(user, wiki))
        for user in participants
        for wiki in wikis
    }
    per_user = {
        user: _merged(tallies[(user, wiki)] for wiki in wikis).counts(pages, uploads(user, None))
        for user in participants
    }
    wiki_tallies = {
        wiki: _merged(tallies[(user, wiki)] for user in dict.fromkeys(participants))
        for wiki in wikis
    }
    per_wiki = {wiki: wiki_tallies[wiki].counts(pages, uploads(None, wiki)) for wiki in wikis}
    total = _merged(wiki_tallies.values()).counts(pages, uploads(None, None))
    deleted = sorted(
        {
            DeletedArticle(wiki, pages[(wiki, rev.pageid)].title)
            for wiki, rev in counted
            if rev.namespace == MAIN_NAMESPACE
            and (gone := pages.get((wiki, rev.pageid))) is not None
            and gone.deleted
            and not gone.redirect
        },
        key=lambda d: (d.wiki, d.title),
    )
    return Outcomes(
        tuple(participants),
        per_user,
        per_user_wiki,
        per_wiki,
        total,
        tuple(deleted),
        _per_day(counted, pages),
    )


def _counted_revisions(records: WikiRecords, who: set[str], window: Window) -> Iterable[Revision]:
    """The revisions of one wiki that count: a participant's, inside the window, on a page
    in scope; under the page's namespace now (usercontribs gives the current title, so a
    draft moved to mainspace is an article now)."""
    for rev in records.revisions:
        page = records.pages.get(rev.pageid)
        if rev.user in who and rev.timestamp in window and (page is None or page.in_scope):
            if page is not None and page.namespace != rev.namespace:
                rev = _with_namespace(rev, page)
            yield rev


def _is_article(rev: Revision, page: PageState | None) -> bool:
    """Whether a counted revision is an article edit (main namespace, no redirect)."""
    return (
        rev.namespace == MAIN_NAMESPACE
        and page is not None
        and not page.redirect
        and page.namespace == MAIN_NAMESPACE
    )


def article_revision_ids(
    participants: Sequence[str], window: Window, records: WikiRecords
) -> set[int]:
    """The revisions whose text the references added are read from: the counted article
    edits of one wiki."""
    who = set(participants)
    return {
        rev.revid
        for rev in _counted_revisions(records, who, window)
        if _is_article(rev, records.pages.get(rev.pageid))
    }


def _per_day(
    counted: Iterable[tuple[str, Revision]], pages: Mapping[_ArticleKey, PageState]
) -> dict[date, tuple[int, int]]:
    """Edits and distinct articles edited per day, by the same rules as the totals."""
    edits: dict[date, int] = {}
    articles: dict[date, set[_ArticleKey]] = {}
    for wiki, rev in counted:
        day = rev.timestamp.date()
        edits[day] = edits.get(day, 0) + 1
        if _is_article(rev, pages.get((wiki, rev.pageid))):
            articles.setdefault(day, set()).add((wiki, rev.pageid))
    return {day: (n, len(articles.get(day, ()))) for day, n in sorted(edits.items())}


def _with_namespace(rev: Revision, page: PageState) -> Revision:
    return Revision(
        rev.revid,
        rev.user,
        rev.pageid,
        page.namespace,
        page.title,
        rev.timestamp,
        rev.sizediff,
        rev.new,
        rev.wikibase,
    )
