"""The outcome figures, as pure functions over fetched records (see shared metrics.md)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field, fields
from datetime import date

from bot.core.contributions import MAIN_NAMESPACE, WikiRecords
from bot.core.model import Window
from bot.core.references import added_by
from bot.core.revision_table import NAMESPACE, PAGEID, REVID, TIMESTAMP, USER, Row, revision_rows
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
        return {name: str(getattr(self, name)) for name in _COUNT_NAMES}


#: Read once: fields() builds its answer on every call, and every row's figures are written.
_COUNT_NAMES = tuple(f.name for f in fields(Counts))


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

    def counts(self, deleted: Set[_ArticleKey], uploads: int) -> Counts:
        """The figures, given the articles whose page is deleted and the uploads."""
        return Counts(
            self.edits,
            self.mainspace,
            len(self.edited),
            len(self.created),
            self.bytes_added,
            uploads,
            len(self.edited & deleted),
            self.references,
            *(self.wikidata.get(figure, 0) for figure in WIKIDATA_FIGURES),
        )


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
    users = list(dict.fromkeys(participants))
    wikis = [r.wiki for r in records]
    # One pass over the revisions (a program may have hundreds of thousands), each into
    # its participant's tally on its wiki; the figures over several participants or wikis
    # merge those tallies (articles as sets: each counted once).
    tallies: dict[tuple[str, str], _Tally] = {}
    day_edits: dict[date, int] = {}
    day_articles: dict[date, set[_ArticleKey]] = {}
    deleted: set[_ArticleKey] = set()
    titles: dict[_ArticleKey, str] = {}
    uploads_of: dict[tuple[str, str], set[str]] = {}
    for wiki_records in records:
        wiki = wiki_records.wiki
        references = wiki_records.references
        for pageid, state in wiki_records.pages.items():
            if state.deleted:
                deleted.add((wiki, pageid))
                titles[(wiki, pageid)] = state.title
        of_user: dict[str, _Tally] = {}  # this wiki's tallies, by user: no key to build
        for row, namespace, article in _classified(wiki_records, who, window):
            revid, user, pageid, _, _, timestamp, sizediff, new, wikibase = row
            tally = of_user.get(user)
            if tally is None:
                tally = of_user[user] = tallies.setdefault((user, wiki), _Tally())
            day = timestamp.date()
            day_edits[day] = day_edits.get(day, 0) + 1
            tally.edits += 1
            if wikibase:
                for figure, n in action_figures(wikibase):
                    tally.wikidata[figure] = tally.wikidata.get(figure, 0) + n
            if namespace != MAIN_NAMESPACE:
                continue
            tally.mainspace += 1
            if sizediff > 0:
                tally.bytes_added += sizediff
            if not article:
                continue
            key = (wiki, pageid)
            tally.edited.add(key)
            articles = day_articles.get(day)
            if articles is None:
                articles = day_articles[day] = set()
            articles.add(key)
            tally.references += added_by(revid, references)
            if new:
                tally.created.add(key)
        for upload in wiki_records.uploads:
            if upload.user in who and upload.timestamp in window:
                uploads_of.setdefault((upload.user, wiki), set()).add(upload.title)

    def uploads(user: str, wiki: str) -> int:
        return len(uploads_of.get((user, wiki), ()))

    wiki_uploads = {
        wiki: len(set().union(*(uploads_of.get((user, wiki), ()) for user in users)))
        for wiki in wikis
    }
    empty = _Tally()
    per_user_wiki = {
        (user, wiki): tallies.get((user, wiki), empty).counts(deleted, uploads(user, wiki))
        for user in users
        for wiki in wikis
    }
    per_user = {
        user: _merged(tallies.get((user, wiki), empty) for wiki in wikis).counts(
            deleted, sum(uploads(user, wiki) for wiki in wikis)
        )
        for user in users
    }
    wiki_tallies = {
        wiki: _merged(tallies.get((user, wiki), empty) for user in users) for wiki in wikis
    }
    per_wiki = {wiki: wiki_tallies[wiki].counts(deleted, wiki_uploads[wiki]) for wiki in wikis}
    total = _merged(wiki_tallies.values())
    gone = sorted(
        {DeletedArticle(key[0], titles[key]) for key in total.edited & deleted},
        key=lambda d: (d.wiki, d.title),
    )
    return Outcomes(
        tuple(participants),
        per_user,
        per_user_wiki,
        per_wiki,
        total.counts(deleted, sum(wiki_uploads.values())),
        tuple(gone),
        {day: (n, len(day_articles.get(day, ()))) for day, n in sorted(day_edits.items())},
    )


def _classified(
    records: WikiRecords, who: Set[str], window: Window
) -> Iterator[tuple[Row, int, bool]]:
    """The revisions of one wiki that count (a participant's, inside the window, on a page
    in scope), each with its namespace now (usercontribs gives the current title, so a
    draft moved to mainspace is an article now) and whether it is an article edit (main
    namespace, no redirect). Rows, not Revision objects: the store gives them so."""
    pages = records.pages
    start, end = window.start, window.end  # compared inline: once per counted revision
    for row in revision_rows(records.revisions):
        if row[USER] in who and start <= row[TIMESTAMP] <= end:
            page = pages.get(row[PAGEID])
            if page is None:
                yield row, row[NAMESPACE], False
            elif page.in_scope:
                article = page.namespace == MAIN_NAMESPACE and not page.redirect
                yield row, page.namespace, article


def article_revision_ids(
    participants: Sequence[str], window: Window, records: WikiRecords
) -> set[int]:
    """The revisions whose text the references added are read from: the counted article
    edits of one wiki."""
    return {
        row[REVID] for row, _, article in _classified(records, set(participants), window) if article
    }
