"""A campaign's figures: each program's own, and totals that count each participant and
each article once, however many of the campaign's programs include them
(shared/docs/metrics.md): participants are united by name, revisions deduplicated by
(wiki, revid), articles by (wiki, pageid), uploads by (wiki, file title).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from bot.core.contributions import PageState, Revision, Upload, WikiRecords
from bot.core.dates import format_moment
from bot.core.metrics import Counts, DeletedArticle, Outcomes, compute_outcomes
from bot.core.model import Notice, Window
from bot.core.references import RevisionReferences


@dataclass(frozen=True)
class ProgramRecords:
    """One program of a campaign, as its last refresh counted it.

    ``participants`` are the names the program counts (with an account on a listed wiki);
    ``window`` is None when the program's dates are unusable (then it is not counted);
    ``refreshed`` is False when the bot has not written the program's figures yet.
    """

    title: str
    participants: tuple[str, ...]
    window: Window | None
    records: tuple[WikiRecords, ...] = ()
    refreshed: bool = True
    #: Participants who joined privately: counted, never named in any report row.
    private: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProgramOutcome:
    """One row of the campaign table; ``outcomes`` is None for a program not counted."""

    title: str
    outcomes: Outcomes | None


@dataclass(frozen=True)
class CampaignOutcomes:
    """Each program's own figures, and the campaign's deduplicated totals."""

    programs: tuple[ProgramOutcome, ...]
    participants: tuple[str, ...]
    total: Counts
    per_wiki: Mapping[str, Counts] = field(default_factory=dict)
    deleted_articles: tuple[DeletedArticle, ...] = ()
    notices: tuple[Notice, ...] = ()
    #: The activity of all programs together (each revision once), and the span of their
    #: windows, for the chart.
    per_day: Mapping[date, tuple[int, int]] = field(default_factory=dict)
    window: Window | None = None

    @property
    def counted_programs(self) -> int:
        return sum(1 for program in self.programs if program.outcomes is not None)


def _counted_records(program: ProgramRecords, window: Window) -> list[WikiRecords]:
    """The program's records limited to what its own figures count: its participants,
    inside its window, pages in its scope (the filters of bot.metrics.compute_outcomes)."""
    who = set(program.participants)
    limited = []
    for records in program.records:
        revisions = tuple(
            rev
            for rev in records.revisions
            if rev.user in who
            and rev.timestamp in window
            and ((page := records.pages.get(rev.pageid)) is None or page.in_scope)
        )
        uploads = tuple(u for u in records.uploads if u.user in who and u.timestamp in window)
        limited.append(replace(records, revisions=revisions, uploads=uploads))
    return limited


def _merge(counted: Sequence[WikiRecords]) -> list[WikiRecords]:
    """One WikiRecords per wiki with every revision, page and upload once."""
    revisions: dict[str, dict[int, Revision]] = {}
    pages: dict[str, dict[int, PageState]] = {}
    uploads: dict[str, dict[str, Upload]] = {}
    references: dict[str, dict[int, RevisionReferences]] = {}
    for records in counted:
        wiki = records.wiki
        references.setdefault(wiki, {}).update(records.references)
        for rev in records.revisions:
            revisions.setdefault(wiki, {}).setdefault(rev.revid, rev)
        wiki_pages = pages.setdefault(wiki, {})
        for pageid, state in records.pages.items():
            known = wiki_pages.get(pageid)
            # Scope was applied per program above. Programs refreshed at different times
            # may disagree on deletion: a page one of them saw deleted stays flagged.
            deleted = state.deleted or (known is not None and known.deleted)
            first = known or state
            wiki_pages[pageid] = replace(first, deleted=deleted, in_scope=True)
        for upload in records.uploads:
            uploads.setdefault(wiki, {}).setdefault(upload.title, upload)
    return [
        WikiRecords(
            wiki,
            tuple(revisions.get(wiki, {}).values()),
            pages.get(wiki, {}),
            tuple(uploads.get(wiki, {}).values()),
            references=references.get(wiki, {}),
        )
        for wiki in sorted({r.wiki for r in counted})
    ]


def campaign_outcomes(
    programs: Sequence[ProgramRecords], *, window: Window | None = None
) -> CampaignOutcomes:
    """Each program's figures (bot.core.metrics on its own records) and the campaign totals.

    Programs are listed by title. A program without usable dates is listed, not counted.
    ``window`` (the campaign's dates, if valid) only adds a notice for a program that
    runs outside it.
    """
    rows: list[ProgramOutcome] = []
    notices: list[Notice] = []
    participants: list[str] = []
    counted: list[WikiRecords] = []
    spans: list[Window] = []
    for program in sorted(programs, key=lambda p: p.title):
        if not program.refreshed:
            notices.append(Notice("campaign-program-not-refreshed", (program.title,)))
        if program.window is None:
            rows.append(ProgramOutcome(program.title, None))
            notices.append(Notice("campaign-program-no-dates", (program.title,)))
            continue
        own = program.window
        if window is not None and not (window.start <= own.start and own.end <= window.end):
            span = (format_moment(own.start), format_moment(own.end))
            notices.append(Notice("campaign-program-outside", (program.title, *span)))
        outcomes = compute_outcomes(program.participants, own, program.records)
        rows.append(ProgramOutcome(program.title, outcomes))
        participants += [name for name in outcomes.participants if name not in participants]
        counted += _counted_records(program, own)
        spans.append(own)
    if not spans:
        return CampaignOutcomes(tuple(rows), (), Counts(), {}, (), tuple(notices))
    # Everything left is already limited to its program's participants, window and scope;
    # compute_outcomes over the union adds it up with each revision, page and file once.
    everything = Window(min(s.start for s in spans), max(s.end for s in spans))
    total = compute_outcomes(participants, everything, _merge(counted))
    return CampaignOutcomes(
        tuple(rows),
        tuple(participants),
        total.total,
        total.per_wiki,
        total.deleted_articles,
        tuple(notices),
        total.per_day,
        everything,
    )
