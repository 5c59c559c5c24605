"""Benchmark: a scale model of the scheduler's work, on paper and by simulation.

    .venv/bin/python tests/bench_scale.py [--wikis 1000] [--programs 5000]
        [--participants 200000] [--workers 1 2 4 8] [--cycle 30] [--hours 6]

Counts the requests, edits, CPU, memory and store rows the scheduler needs at the given
scale, with the cost rules of the code (bot/jobs/scheduler.py, bot/core/cadence.py,
bot/wiki/fetch.py and queries.py, bot/wiki/edit.py, bot/store/tables.py), for three designs:
the per-program refresh the scheduler does today, and the change feed (each cycle's changes
of a wiki applied to every program at once), read by polling ``list=recentchanges`` or from
EventStreams. Participants' edits are drawn at random (seeded) and replayed cycle by cycle.
The costs that come from the project's own code (records in memory, store bytes per row,
CPU per page, size of a live report) are first measured with that code on this machine.
Prints figures; asserts nothing. Assumptions and sources: docs/benchmarks.md, "Scale model".
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.cadence import Cadence
from bot.core.contributions import PageState, Revision, WikiRecords

# -- cost rules of the code and of MediaWiki ------------------------------------------------

#: Names or page ids one request carries (``ucuser``, ``ususers``, ``pageids`` with the
#: bot's ``apihighlimits``: bot.wiki.sites.batch_limit).
NAMES = 500
#: Rows one answer carries (``uclimit``, ``lelimit``, ``rclimit=max`` with ``apihighlimits``).
ROWS = 5000
#: An incremental fetch reaches back this far before the last one (bot.wiki.fetch.OVERLAP).
OVERLAP_S = 300.0

RC, CONTRIBS, LOG, PAGES, USERS = (
    "recentchanges",
    "usercontribs",
    "logevents",
    "page states",
    "users",
)
READ, STOP, SAVE, VIEWS = "page reads", "stop-page reads", "edits", "pageviews"
READS = (RC, CONTRIBS, LOG, PAGES, USERS, READ, STOP)
TODAY, POLLED, STREAM = "per program", "feed, polled", "feed, stream"
DESIGNS = (TODAY, POLLED, STREAM)

# -- assumptions (sources in docs/benchmarks.md) ---------------------------------------------

#: Changes a second on every Wikimedia wiki, and on the busiest one (Wikidata), from the
#: recentchange stream measured over 4.9 hours (bekh6ex/wikidata-realtime-dumps).
ALL_EVENTS_PER_S, BUSIEST_EVENTS_PER_S = 26.0, 8.5
STREAM_BYTES_PER_S = 31_000
#: New files a day on the media wiki (Commons: ~20 M files in 2014, over 80 M in 2022).
MEDIA_UPLOADS_PER_DAY = 20_000
#: Uploads as a share of the changes of the other wikis (assumption).
UPLOAD_SHARE = 0.01
#: Share of participants' edits that touch a page the program had not touched (assumption).
NEW_PAGE_SHARE = 0.5
#: Every this many programs also lists the media wiki (assumption: 1.2 wikis a program).
MEDIA_EVERY = 5
#: Share of a program's pages deleted or moved between two full recounts (assumption).
CHANGED_PAGE_SHARE = 0.01
#: Seconds between two saves on one wiki (user-config.py.sample: Wikimedia's bot policies).
PUT_THROTTLE_S = 10.0
#: Bytes of a participant's name with its newline in ``schedule.participants``.
NAME_BYTES = 14
#: Toolforge's quota of a tool: continuous jobs (the web service included), the CPU and
#: memory one job may have (jobs framework).
CONTINUOUS_JOBS, JOB_CPUS, JOB_MEMORY = 3, 1.0, 4 * 2**30
#: Wikimedia's pageview REST API: the documented limit, requests a second.
PAGEVIEWS_PER_S = 100.0


@dataclass(frozen=True)
class Scale:
    """What the model is asked about."""

    wikis: int = 1000
    programs: int = 5000
    participants: int = 200_000
    cycle_s: float = 30.0
    hours: float = Cadence().full_every.total_seconds() / 3600
    #: Edits a participant makes a day while the program runs (assumption, see the docs).
    edits_per_day: float = 3.0
    window_days: float = 7.0
    #: Seconds one Action API request takes, its answer included (assumption).
    latency_s: float = 0.25
    seed: int = 7
    cadence: Cadence = field(default_factory=Cadence)

    @property
    def cycles(self) -> int:
        return max(1, round(self.hours * 3600 / self.cycle_s))

    @property
    def minutes(self) -> float:
        return self.cycles * self.cycle_s / 60


@dataclass(frozen=True)
class Sizes:
    """Costs of the project's code: measured (:func:`measure`) or these nominal ones."""

    memory_per_revision: float = 480.0
    report_bytes_per_participant: float = 2_250.0
    sqlite_bytes_per_revision: float = 10.0
    packed_bytes_per_revision: float = 10.0
    sqlite_bytes_per_page: float = 100.0
    cpu_page_per_participant: float = 0.0005
    cpu_report_per_participant: float = 0.00003
    cpu_count_per_revision: float = 0.000009
    cpu_per_stream_event: float = 0.000009


@dataclass(frozen=True)
class Wiki:
    events_per_s: float
    uploads_per_s: float


@dataclass(frozen=True)
class Program:
    home: int
    wikis: tuple[int, ...]
    participants: int
    #: Days into its window when the simulation starts.
    started_days: float
    #: When in every ``full_every`` its full recount falls, seconds.
    full_offset_s: float


# -- the population ---------------------------------------------------------------------------


def zipf_split(total: int, parts: int) -> list[int]:
    """``total`` split over ``parts`` in proportion to 1/rank (largest remainders), every
    part at least 1 when there is enough."""
    if parts <= 0:
        return []
    shares = [total / (rank + 1) / sum(1 / (r + 1) for r in range(parts)) for rank in range(parts)]
    sizes = [int(share) for share in shares]
    for i in sorted(range(parts), key=lambda i: sizes[i] - shares[i])[: total - sum(sizes)]:
        sizes[i] += 1
    for i in range(parts):
        if sizes[i] == 0 and sizes[0] > 1:
            sizes[i], sizes[0] = 1, sizes[0] - 1
    return sizes


def make_wikis(scale: Scale) -> list[Wiki]:
    """Wiki 0 is the busiest (Wikidata's rate), wiki 1 the media wiki (Commons' uploads);
    the rest of Wikimedia's changes are shared by 1/rank over the 999 others."""
    others = sum(1 / rank for rank in range(1, 1000))
    wikis = []
    for index in range(scale.wikis):
        rate = BUSIEST_EVENTS_PER_S
        if index:
            rate = (ALL_EVENTS_PER_S - BUSIEST_EVENTS_PER_S) / index / others
        uploads = MEDIA_UPLOADS_PER_DAY / 86400 if index == 1 else rate * UPLOAD_SHARE
        wikis.append(Wiki(rate, uploads))
    return wikis


def make_programs(scale: Scale) -> list[Program]:
    """Every wiki hosts a program (where there are enough), the others go to the wikis by
    1/rank; participants by 1/rank over the programs; starts spread over the window; full
    recounts spread over ``full_every``."""
    rng = random.Random(scale.seed)
    hosts = list(range(min(scale.wikis, scale.programs)))
    weights = [1 / (rank + 1) for rank in range(scale.wikis)]
    hosts += rng.choices(range(scale.wikis), weights=weights, k=scale.programs - len(hosts))
    rng.shuffle(hosts)
    sizes = zipf_split(scale.participants, scale.programs)
    full_every = scale.cadence.full_every.total_seconds()
    programs = []
    for index, (home, size) in enumerate(zip(hosts, sizes, strict=True)):
        media = scale.wikis > 1 and home != 1 and index % MEDIA_EVERY == MEDIA_EVERY - 1
        programs.append(
            Program(
                home=home,
                wikis=(home, 1) if media else (home,),
                participants=size,
                started_days=rng.uniform(0, scale.window_days),
                full_offset_s=full_every * index / scale.programs,
            )
        )
    return programs


def participant_edits(scale: Scale, programs: Sequence[Program]) -> list[list[tuple[int, int]]]:
    """Each cycle's participants' edits as (program, wiki), drawn by participants."""
    rng = random.Random(scale.seed + 1)
    mean = sum(p.participants for p in programs) * scale.edits_per_day * scale.hours / 24
    count = max(0, round(rng.gauss(mean, math.sqrt(mean)))) if mean else 0
    chosen = rng.choices(range(len(programs)), [p.participants for p in programs], k=count)
    by_cycle: list[list[tuple[int, int]]] = [[] for _ in range(scale.cycles)]
    for index in chosen:
        by_cycle[rng.randrange(scale.cycles)].append((index, rng.choice(programs[index].wikis)))
    return by_cycle


# -- what the requests cost (the code's rules), as (wiki, kind) -> requests --------------------

Charges = Counter[tuple[int, str]]


def batches(names: float) -> int:
    """Requests for names or page ids, 500 a request (``list=users``, page states)."""
    return math.ceil(names / NAMES)


def contribs_requests(participants: int, rows: float) -> int:
    """bot.wiki.fetch._read_together: per batch of 500 names, max(1, ceil(rows / 5000))."""
    total = 0
    for start in range(0, participants, NAMES):
        size = min(NAMES, participants - start)
        total += max(1, math.ceil(rows * size / participants / ROWS))
    return total


def rc_requests(wiki: Wiki, cycle_s: float, participant_edits: int) -> int:
    """One ``list=recentchanges`` read of a cycle's changes: 5,000 rows an answer."""
    return max(1, math.ceil((wiki.events_per_s * cycle_s + participant_edits) / ROWS))


def elapsed_days(program: Program, scale: Scale, now_s: float) -> float:
    return min(scale.window_days, program.started_days + now_s / 86400)


def revisions_on(program: Program, scale: Scale, now_s: float) -> float:
    """One listed wiki's revisions by the participants so far (expected)."""
    per_wiki = scale.edits_per_day / len(program.wikis)
    return program.participants * per_wiki * elapsed_days(program, scale, now_s)


def full_recount(
    program: Program, scale: Scale, wikis: Sequence[Wiki], now_s: float, *, feed: bool
) -> Charges:
    """A full count (bot.jobs.count.ProgramCounter.count): per listed wiki the accounts
    check and, for the extra figures, the registrations (``list=users``), the contributions,
    the window's whole upload log, the page states (all pages; with the feed, which keeps
    them current, only those deleted or moved), and one pageview request an article."""
    cost: Charges = Counter()
    seconds = elapsed_days(program, scale, now_s) * 86400
    for wiki in program.wikis:
        revisions = revisions_on(program, scale, now_s)
        pages = revisions * NEW_PAGE_SHARE
        cost[wiki, USERS] += 2 * batches(program.participants)
        cost[wiki, CONTRIBS] += contribs_requests(program.participants, revisions)
        cost[wiki, LOG] += max(1, math.ceil(wikis[wiki].uploads_per_s * seconds / ROWS))
        cost[wiki, PAGES] += batches(math.ceil(pages * CHANGED_PAGE_SHARE if feed else pages))
        cost[wiki, VIEWS] += round(pages)
    return cost


def incremental_refresh(program: Program, new: Counter[int], overlap: bool) -> Charges:
    """bot.jobs.refresh.Refresher.refresh(full=False): the page read, then per listed wiki
    the contributions since the last fetch (``overlap``: some within OVERLAP of it), the
    states of their pages, and the upload log since then."""
    cost: Charges = Counter({(program.home, READ): 1})
    for wiki in program.wikis:
        cost[wiki, CONTRIBS] += contribs_requests(program.participants, new[wiki])
        cost[wiki, PAGES] += batches(new[wiki] + overlap)
        cost[wiki, LOG] += 1
    return cost


def page_edit(program: Program, *, read: bool) -> Charges:
    """bot.wiki.edit.Editor.edit: read the page (the refresh has, today), read the stop
    page, save (the token is cached for the process)."""
    cost: Charges = Counter({(program.home, STOP): 1, (program.home, SAVE): 1})
    if read:
        cost[program.home, READ] += 1
    return cost


# -- the simulation -----------------------------------------------------------------------------


@dataclass
class Tally:
    """What one design needed over the simulated time."""

    #: Reading the changes: once a wiki and cycle (recent changes, page states of the
    #: changes) and, today, each program's incremental refreshes.
    feed: Counter[str] = field(default_factory=Counter)
    refresh: Counter[str] = field(default_factory=Counter)
    #: Per program whatever the design: full recounts and page edits.
    work: Counter[str] = field(default_factory=Counter)
    busiest_wiki_cycle: int = 0
    edits_by_wiki: Counter[int] = field(default_factory=Counter)
    edits_by_program: Counter[int] = field(default_factory=Counter)
    full_by_program: Counter[int] = field(default_factory=Counter)
    refreshes: int = 0
    #: CPU seconds of per-program work (spread over the processes) and of the feed's reader.
    cpu_s: float = 0.0
    reader_cpu_s: float = 0.0
    #: Rows of the counted tables read from and written to the store.
    rows_read: float = 0.0
    rows_written: float = 0.0

    @property
    def requests(self) -> Counter[str]:
        return self.feed + self.refresh + self.work

    def charge(self, load: Counter[int], charges: Charges, kinds: Counter[str]) -> None:
        for (wiki, kind), count in charges.items():
            kinds[kind] += count
            if kind != VIEWS:  # the REST API is not the wiki's
                load[wiki] += count


@dataclass
class Result:
    scale: Scale
    sizes: Sizes
    wikis: list[Wiki]
    programs: list[Program]
    tallies: dict[str, Tally]
    participant_edits: int


class Simulation:
    """The three designs replayed side by side over the same participants' edits."""

    def __init__(self, scale: Scale, sizes: Sizes) -> None:
        self.scale, self.sizes = scale, sizes
        self.wikis, self.programs = make_wikis(scale), make_programs(scale)
        self.edits = participant_edits(scale, self.programs)
        cadence = scale.cadence
        self.edit_gap = cadence.edit_interval.total_seconds()
        self.running = cadence.running.total_seconds()
        self.tallies = {design: Tally() for design in DESIGNS}
        rng = random.Random(scale.seed + 2)
        count = len(self.programs)
        saved = [-rng.uniform(0, self.edit_gap) for _ in range(count)]
        self.last_save = {design: list(saved) for design in DESIGNS}
        self.dirty: dict[str, set[int]] = {d: set() for d in DESIGNS}
        # Today: the schedule's next_due (a heap; stale entries skipped), when each program
        # was last fetched and last active, and what its participants did since.
        self.next_due = [rng.uniform(0, self.running) for _ in range(count)]
        self.queue = [(due, index) for index, due in enumerate(self.next_due)]
        heapq.heapify(self.queue)
        self.last_fetch = [-self.running] * count
        self.last_active = [-math.inf] * count
        self.new_since: list[Counter[int]] = [Counter() for _ in range(count)]
        self.full_at: list[list[int]] = [[] for _ in range(scale.cycles)]
        full_every = cadence.full_every.total_seconds()
        for index, program in enumerate(self.programs):
            moment = program.full_offset_s
            while moment < scale.cycles * scale.cycle_s:
                self.full_at[int(moment // scale.cycle_s)].append(index)
                moment += full_every

    def stored_rows(self, program: Program, now: float) -> float:
        """The program's rows in the counted tables (revisions and pages, every wiki)."""
        return revisions_on(program, self.scale, now) * len(program.wikis) * (1 + NEW_PAGE_SHARE)

    def cpu_count(self, program: Program, now: float, counts: int = 1) -> float:
        """Figures from all of a program's records (``counts`` times), and its live report."""
        revisions = revisions_on(program, self.scale, now) * len(program.wikis)
        return (
            counts * revisions * self.sizes.cpu_count_per_revision
            + program.participants * self.sizes.cpu_report_per_participant
        )

    def cpu_page(self, program: Program) -> float:
        """Parse the page and render the figures into it."""
        return program.participants * self.sizes.cpu_page_per_participant

    def run(self) -> Result:
        for step in range(self.scale.cycles):
            now = step * self.scale.cycle_s
            by_wiki: Counter[int] = Counter()
            by_program: Counter[int] = Counter()
            for index, wiki in self.edits[step]:
                by_wiki[wiki] += 1
                by_program[index] += 1
                self.new_since[index][wiki] += 1
                self.last_active[index] = now
            for design in DESIGNS:
                tally, load = self.tallies[design], Counter[int]()
                if design == STREAM:
                    events = ALL_EVENTS_PER_S * self.scale.cycle_s
                    tally.reader_cpu_s += events * self.sizes.cpu_per_stream_event
                else:  # one recentchanges read a wiki (today: by every process)
                    for wiki, spec in enumerate(self.wikis):
                        reads = rc_requests(spec, self.scale.cycle_s, by_wiki[wiki])
                        tally.feed[RC] += reads
                        load[wiki] += reads
                if design == TODAY:
                    self.today(now, by_program, load)
                else:
                    self.feed(design, step, now, by_wiki, by_program, load)
                tally.busiest_wiki_cycle = max(tally.busiest_wiki_cycle, *load.values(), 0)
        return Result(
            self.scale,
            self.sizes,
            self.wikis,
            self.programs,
            self.tallies,
            sum(map(len, self.edits)),
        )

    def feed(
        self,
        design: str,
        step: int,
        now: float,
        by_wiki: Counter[int],
        by_program: Counter[int],
        load: Counter[int],
    ) -> None:
        """The change feed: the states of the pages the changes touched (one read a wiki),
        the changes applied to every program they concern, full recounts on their cadence,
        and a page edit at most once an edit interval when its figures moved. Applying a
        batch to a program (bot.jobs.feed.apply_changes) reads its remembered records
        (twice: for the page states and to apply), computes its figures before and after,
        writes its live report and only the new rows."""
        tally = self.tallies[design]
        pages: Charges = Counter({(wiki, PAGES): batches(n) for wiki, n in by_wiki.items()})
        tally.charge(load, pages, tally.feed)
        for index, count in by_program.items():
            program = self.programs[index]
            tally.cpu_s += self.cpu_count(program, now, counts=2)
            tally.rows_read += 2 * self.stored_rows(program, now)
            tally.rows_written += count * (1 + NEW_PAGE_SHARE)
        self.dirty[design] |= set(by_program)
        for index in self.full_at[step]:
            program = self.programs[index]
            recount = full_recount(program, self.scale, self.wikis, now, feed=True)
            tally.charge(load, recount, tally.work)
            tally.full_by_program[index] += 1
            tally.cpu_s += self.cpu_count(program, now)
            tally.rows_read += self.stored_rows(program, now)
        for index in sorted(self.dirty[design]):
            if now - self.last_save[design][index] >= self.edit_gap:
                self.save(design, index, now, load, read=True)

    def save(self, design: str, index: int, now: float, load: Counter[int], *, read: bool) -> None:
        tally, program = self.tallies[design], self.programs[index]
        tally.charge(load, page_edit(program, read=read), tally.work)
        tally.edits_by_wiki[program.home] += 1
        tally.edits_by_program[index] += 1
        if design != TODAY:  # today the refresh has parsed and rendered the page already
            tally.cpu_s += self.cpu_page(program)
        self.last_save[design][index] = now
        self.dirty[design].discard(index)

    def today(self, now: float, by_program: Counter[int], load: Counter[int]) -> None:
        """bot.jobs.scheduler.Scheduler.cycle: programs whose participants edited are
        brought forward (watch_activity), and whatever is due is refreshed incrementally:
        running programs every 5 minutes, and a deferred edit as soon as it is allowed.
        The 6-hour full recount counts from the last refresh of any kind (_refresh_held),
        so a running program, refreshed every 5 minutes, gets none."""
        tally, cycle = self.tallies[TODAY], self.scale.cycle_s
        for index in by_program:
            if self.next_due[index] > now:
                self.next_due[index] = now
                heapq.heappush(self.queue, (now, index))
        self.dirty[TODAY] |= set(by_program)
        while self.queue and self.queue[0][0] <= now:
            due, index = heapq.heappop(self.queue)
            if due != self.next_due[index]:
                continue  # brought forward or refreshed since
            program = self.programs[index]
            overlap = self.last_active[index] >= self.last_fetch[index] - OVERLAP_S
            refresh = incremental_refresh(program, self.new_since[index], overlap)
            tally.charge(load, refresh, tally.refresh)
            tally.refreshes += 1
            tally.cpu_s += self.cpu_count(program, now) + self.cpu_page(program)
            # The count reads what the store remembers, and remember_refresh replaces it all.
            tally.rows_read += self.stored_rows(program, now)
            tally.rows_written += self.stored_rows(program, now)
            self.new_since[index] = Counter()
            self.last_fetch[index] = now
            later = now + self.running
            if index in self.dirty[TODAY]:
                if now - self.last_save[TODAY][index] >= self.edit_gap:
                    self.save(TODAY, index, now, load, read=False)
                else:  # edit_pending: due again as soon as the page may be edited
                    later = min(later, self.last_save[TODAY][index] + self.edit_gap)
            self.next_due[index] = max(later, now + cycle)
            heapq.heappush(self.queue, (self.next_due[index], index))


def simulate(scale: Scale, sizes: Sizes | None = None) -> Result:
    """Replay ``scale.hours`` of cycles for every design; the tallies are totals."""
    return Simulation(scale, sizes or Sizes()).run()


# -- what the figures mean for processes, limits and the store ---------------------------------


@dataclass(frozen=True)
class Load:
    """One design's load a minute with ``workers`` processes, and its busiest process's."""

    reads: float
    writes: float
    pageviews: float
    busiest_reads: float
    busiest_cpu: float
    edits_busiest_wiki: float
    rows_read: float
    rows_written: float


def per_minute(result: Result, design: str, workers: int) -> Load:
    """Per-program work spreads over the processes (each page is held by one, through a
    lease); the feed's reads are one process's, but today every process reads every wiki's
    recent changes itself (``Scheduler.watched`` is the process's own)."""
    tally, minutes = result.tallies[design], result.scale.minutes
    feed = sum(tally.feed[kind] for kind in READS)
    work = sum(tally.refresh[kind] + tally.work[kind] for kind in READS)
    readers = workers if design == TODAY else 1
    cpu_readers = tally.reader_cpu_s
    return Load(
        reads=(work + feed * readers) / minutes,
        writes=tally.requests[SAVE] / minutes,
        pageviews=tally.requests[VIEWS] / minutes,
        busiest_reads=(work / workers + feed) / minutes,
        busiest_cpu=(tally.cpu_s / workers + cpu_readers) / (minutes * 60),
        edits_busiest_wiki=max(tally.edits_by_wiki.values(), default=0) / minutes,
        rows_read=tally.rows_read / minutes,
        rows_written=tally.rows_written / minutes,
    )


def largest_program(result: Result) -> tuple[int, float, float]:
    """The largest program's participants, its revisions at its window's end, and the
    memory its records take while it is counted."""
    scale = result.scale
    biggest = max(p.participants for p in result.programs)
    revisions = biggest * scale.edits_per_day * scale.window_days
    return biggest, revisions, revisions * result.sizes.memory_per_revision


def schedule_table_bytes(result: Result) -> float:
    """The schedule table's participants and live reports (at the windows' ends)."""
    return sum(
        p.participants * (NAME_BYTES + result.sizes.report_bytes_per_participant)
        for p in result.programs
    )


#: Typical lengths of the string columns (characters; ASCII is one byte in utf8mb4).
TYPICAL = {"program": 28, "wiki": 18, "user": 12, "title": 28}


def innodb_page_row_bytes() -> float:
    """Bytes a row of the counted pages takes in InnoDB, from bot/store/tables.py: the
    columns (VARCHAR: length + 2, INTEGER 4, BOOLEAN 1), the record header and
    transaction fields (5 + 6 + 7), pages filled to 15/16."""
    from sqlalchemy import Boolean, Integer, String

    from bot.store import tables

    total = 18.0
    for column in tables.counted_pages.columns:
        if isinstance(column.type, String):
            total += TYPICAL.get(column.name, 20) + 2
        elif isinstance(column.type, Integer):
            total += 4
        elif isinstance(column.type, Boolean):
            total += 1
    return total * 16 / 15


def store_after_a_year(result: Result) -> dict[str, float]:
    """The counted records after a year of programs like these, each replaced by a new one
    when its window ends (the store keeps the records of ended programs)."""
    scale, sizes = result.scale, result.sizes
    generations = 365 / scale.window_days
    revisions = scale.participants * scale.edits_per_day * scale.window_days * generations
    pages = revisions * NEW_PAGE_SHARE
    sqlite = revisions * sizes.sqlite_bytes_per_revision + pages * sizes.sqlite_bytes_per_page
    # The packs are BLOBs InnoDB keeps on pages of their own, filled to 15/16 as above.
    packed = revisions * sizes.packed_bytes_per_revision * 16 / 15
    mariadb = packed + pages * innodb_page_row_bytes()
    return {
        "counted revisions (in packs)": revisions,
        "counted_pages rows": pages,
        "SQLite GB (bytes measured)": sqlite / 1e9,
        "MariaDB GB (packs measured, page rows from the schema)": mariadb / 1e9,
        "schedule table GB (running programs)": schedule_table_bytes(result) / 1e9,
    }


def uses(result: Result, design: str, workers: int) -> dict[str, tuple[float, float]]:
    """What each limited resource needs against its limit, with ``workers`` processes."""
    load, scale = per_minute(result, design, workers), result.scale
    return {
        "edits a minute on the busiest wiki": (load.edits_busiest_wiki, 60 / PUT_THROTTLE_S),
        "serial reads of the busiest process": (load.busiest_reads * scale.latency_s / 60, 1.0),
        "CPU cores of the busiest process": (load.busiest_cpu, JOB_CPUS),
        "MB of the largest program's records": (
            largest_program(result)[2] / 2**20,
            JOB_MEMORY / 2**20,
        ),
        "pageview requests a second": (load.pageviews / 60, PAGEVIEWS_PER_S),
    }


def first_to_saturate(result: Result, design: str, workers: int = 1) -> tuple[str, float]:
    """The resource with the highest use (need / limit)."""
    found = uses(result, design, workers)
    name = max(found, key=lambda k: found[k][0] / found[k][1])
    need, limit = found[name]
    return name, 100 * need / limit


# -- measuring with the project's own code ----------------------------------------------------


def synthetic_program(participants: int, per_participant: int) -> tuple[str, WikiRecords]:
    """A program page's text, and its records on one wiki: ``per_participant`` revisions
    each, on NEW_PAGE_SHARE pages a revision."""
    host = "wiki-0002.example.org"
    rows = "".join(
        f"{{{{Participant table row|username=Participant {i}|joined=2026-03-01}}}}\n"
        for i in range(participants)
    )
    text = (
        "{{Program details\n|name=Scale\n|start=2026-03-01\n|end=2026-03-08\n"
        f"|wikis={host}\n}}}}\n{{{{Participants table}}}}\n{rows}"
        "{{End of participants table}}\n"
    )
    start = datetime(2026, 3, 1, tzinfo=UTC)
    revisions, pages = [], {}
    for user in range(participants):
        for _ in range(per_participant):
            revid = len(revisions) + 1
            pageid = int(revid * NEW_PAGE_SHARE) + 1
            title = f"Article {pageid}"
            moment = start + timedelta(seconds=revid)
            revisions.append(
                Revision(
                    revid, f"Participant {user}", pageid, 0, title, moment, 120, revid % 2 == 0
                )
            )
            pages[pageid] = PageState(pageid, 0, title)
    known = frozenset(f"Participant {user}" for user in range(participants))
    return text, WikiRecords(host, tuple(revisions), pages, (), known)


def _cpu(work: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """The least CPU time of ``repeat`` runs of ``work``, and its value."""
    best, value = math.inf, None
    for _ in range(repeat):
        started = time.process_time()
        value = work()
        best = min(best, time.process_time() - started)
    return best, value


@dataclass(frozen=True)
class Steps:
    """CPU seconds of a refresh's pure steps for one program, and its live report's size."""

    page_s: float
    count_s: float
    report_s: float
    report_bytes: int


def refresh_steps(participants: int, per_participant: int) -> Steps:
    """Time what a refresh computes (bot.jobs.refresh.Refresher's transform and the
    scheduler's live report) for a synthetic program, with the project's own functions."""
    from bot.core.exports import live_report, program_tables
    from bot.core.messages import Messages
    from bot.core.metrics import compute_outcomes
    from bot.core.program_page import detect_format, parse_program_page, render_program_page
    from bot.core.render import outcomes_block, page_update, program_label

    text, records = synthetic_program(participants, per_participant)
    fmt = detect_format(text)
    parse_s, program = _cpu(lambda: parse_program_page(text, fmt))
    window = program.details.window
    count_s, outcomes = _cpu(lambda: compute_outcomes(list(program.listed), window, [records]))

    def render() -> str:
        label = program_label(program, "Scale")
        computed = "2026-03-08T00:00:00Z"
        block = outcomes_block(outcomes, (), computed, Messages(fmt.lang), fmt, program=label)
        return render_program_page(text, page_update(program, outcomes, block), fmt)

    render_s, _ = _cpu(render)
    tables = program_tables(outcomes, [records], window)
    report_s, report = _cpu(lambda: live_report(outcomes, datetime.now(UTC), (), tables))
    return Steps(parse_s + render_s, count_s, report_s, len(report))


def measure(scale: Scale) -> Sizes:
    """The costs that come from the project's code, measured with that code: a refresh's
    pure steps at two sizes, the records' memory, the store's bytes a revision and a page
    (SQLite with the real schema, through Store.remember), a revision's bytes in its
    pack, and decoding a stream event."""
    from bot.store import Store
    from bot.store.revision_packs import cut, pack

    per = max(1, round(scale.edits_per_day * scale.window_days))
    small, large = 400, 1600
    first, second = refresh_steps(small, per), refresh_steps(large, per)
    span = large - small
    tracemalloc.start()
    _, records = synthetic_program(large, per)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "scale.sqlite"
        store = Store(f"sqlite:///{path}")
        empty = path.stat().st_size
        store.remember("wiki#1", records.wiki, records.revisions, {})
        with_revisions = path.stat().st_size
        store.remember("wiki#2", records.wiki, (), records.pages)
        with_pages = path.stat().st_size
        store.engine.dispose()
    packed = sum(len(pack(*part)) for part in cut(records.revisions, records.references))
    event = json.dumps(sample_event())
    decode_s, _ = _cpu(lambda: [json.loads(event) for _ in range(20_000)], repeat=1)
    return Sizes(
        memory_per_revision=held / len(records.revisions),
        report_bytes_per_participant=second.report_bytes / large,
        sqlite_bytes_per_revision=(with_revisions - empty) / len(records.revisions),
        packed_bytes_per_revision=packed / len(records.revisions),
        sqlite_bytes_per_page=(with_pages - with_revisions) / len(records.pages),
        cpu_page_per_participant=max(0.0, (second.page_s - first.page_s) / span),
        cpu_report_per_participant=max(0.0, (second.report_s - first.report_s) / span),
        cpu_count_per_revision=max(0.0, (second.count_s - first.count_s) / (span * per)),
        cpu_per_stream_event=decode_s / 20_000,
    )


def sample_event() -> dict[str, object]:
    """A recentchange event as EventStreams sends it (the schema's fields, typical values)."""
    url = "https://en.wikipedia.org"
    return {
        "$schema": "/mediawiki/recentchange/1.0.0",
        "meta": {
            "uri": f"{url}/wiki/Example_article_title",
            "request_id": "c26c48fb-7966-41d9-84b4-9b6fb1816e19",
            "id": "67a266c6-6bb9-4923-826c-2b6bd04553a2",
            "dt": "2026-03-04T16:24:01Z",
            "domain": "en.wikipedia.org",
            "stream": "mediawiki.recentchange",
            "topic": "eqiad.mediawiki.recentchange",
            "partition": 0,
            "offset": 5553294672,
        },
        "id": 2839844572,
        "type": "edit",
        "namespace": 0,
        "title": "Example article title",
        "title_url": f"{url}/wiki/Example_article_title",
        "comment": "Expanded the history section with two new sources",
        "timestamp": 1772641441,
        "user": "Participant 123",
        "bot": False,
        "notify_url": f"{url}/w/index.php?diff=1026187021&oldid=711357579",
        "minor": False,
        "patrolled": True,
        "length": {"old": 2244, "new": 2281},
        "revision": {"old": 711357579, "new": 1026187021},
        "server_url": url,
        "server_name": "en.wikipedia.org",
        "server_script_path": "/w",
        "wiki": "enwiki",
        "parsedcomment": "Expanded the history section with two new sources",
    }


# -- printing -----------------------------------------------------------------------------------


def cell(value: object) -> str:
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.2g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(header), *[[cell(value) for value in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for number, row in enumerate(cells):
        parts = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def per_wiki_cycle(result: Result, design: str) -> tuple[float, float, float, float]:
    """Requests a wiki and a cycle on average (one process), reading the changes (recent
    changes, page states of the changes, per-program refreshes), then full recounts and
    edits."""
    tally, cells = result.tallies[design], result.scale.wikis * result.scale.cycles
    refresh = sum(tally.refresh[kind] for kind in READS)
    work = sum(tally.work[kind] for kind in (*READS, SAVE))
    return tally.feed[RC] / cells, tally.feed[PAGES] / cells, refresh / cells, work / cells


def report(result: Result, workers: Sequence[int], measured: bool) -> str:
    scale, sizes, tallies = result.scale, result.sizes, result.tallies
    minutes = scale.minutes
    loads = {design: per_minute(result, design, 1) for design in DESIGNS}
    out = [
        f"Scale model: {scale.wikis} wikis, {scale.programs} running programs, "
        f"{scale.participants} participants; cycle {scale.cycle_s:g} s; {scale.hours:g} h "
        f"simulated (seed {scale.seed}): {result.participant_edits} participants' edits",
        "",
        "Measured with the project's code on this machine:" if measured else "Nominal costs:",
        table(
            ["cost", "value"],
            [
                ["records in memory, bytes a revision (with its pages)", sizes.memory_per_revision],
                ["live report, bytes a participant", sizes.report_bytes_per_participant],
                ["SQLite store, bytes a counted revision", sizes.sqlite_bytes_per_revision],
                ["packed, bytes a counted revision", sizes.packed_bytes_per_revision],
                ["SQLite store, bytes a counted page", sizes.sqlite_bytes_per_page],
                [
                    "CPU ms a participant: parse and render the page",
                    1e3 * sizes.cpu_page_per_participant,
                ],
                ["CPU ms a participant: live report", 1e3 * sizes.cpu_report_per_participant],
                ["CPU us a revision: count the figures", 1e6 * sizes.cpu_count_per_revision],
                ["CPU us a stream event: decode", 1e6 * sizes.cpu_per_stream_event],
            ],
        ),
        "",
        "Requests a minute, one process:",
    ]
    rows: list[list[object]] = [
        [kind, *(tallies[d].requests[kind] / minutes for d in DESIGNS)]
        for kind in (RC, CONTRIBS, LOG, PAGES, USERS, READ, STOP)
    ]
    rows += [
        ["reads (Action API)", *(loads[d].reads for d in DESIGNS)],
        ["writes: edits (Action API)", *(loads[d].writes for d in DESIGNS)],
        ["pageviews (REST API)", *(loads[d].pageviews for d in DESIGNS)],
        ["EventStreams connections", 0, 0, 1],
        ["incremental refreshes", *(tallies[d].refreshes / minutes for d in DESIGNS)],
        ["full recounts", *(sum(tallies[d].full_by_program.values()) / minutes for d in DESIGNS)],
        ["counted records read (revisions, pages)", *(loads[d].rows_read for d in DESIGNS)],
        ["counted records written (revisions, pages)", *(loads[d].rows_written for d in DESIGNS)],
    ]
    out.append(table(["a minute", *DESIGNS], rows))
    averages = {design: per_wiki_cycle(result, design) for design in DESIGNS}
    out += [
        "",
        "A wiki and a cycle, one process (mean over wikis and cycles; busiest wiki-cycle):",
        table(
            ["requests", *DESIGNS],
            [
                ["reading the changes: recent changes", *(averages[d][0] for d in DESIGNS)],
                ["reading the changes: page states", *(averages[d][1] for d in DESIGNS)],
                ["reading the changes: refreshes", *(averages[d][2] for d in DESIGNS)],
                ["full recounts and edits", *(averages[d][3] for d in DESIGNS)],
                [
                    "busiest wiki-cycle, all requests",
                    *(tallies[d].busiest_wiki_cycle for d in DESIGNS),
                ],
            ],
        ),
        "",
        f"N processes on one store (requests take {scale.latency_s:g} s; one process reads "
        f"serially, at most {60 / scale.latency_s:g} a minute):",
    ]
    rows = []
    for count in workers:
        for design in DESIGNS:
            load = per_minute(result, design, count)
            rows.append(
                [
                    f"{count} x {design}",
                    load.reads,
                    load.busiest_reads,
                    f"{100 * load.busiest_reads * scale.latency_s / 60:.0f}%",
                    load.busiest_cpu,
                    load.edits_busiest_wiki,
                ]
            )
    out.append(
        table(
            [
                "processes x design",
                "reads/min",
                "busiest/min",
                "busiest busy",
                "busiest CPU",
                "edits/min busiest wiki",
            ],
            rows,
        )
    )
    top = max(workers)
    out += ["", f"Limits (need / limit), 1 and {top} processes:"]
    rows = []
    for design in DESIGNS:
        one, many = uses(result, design, 1), uses(result, design, top)
        for name, (need, limit) in one.items():
            rows.append(
                [
                    design,
                    name,
                    need,
                    limit,
                    f"{100 * need / limit:.0f}%",
                    f"{100 * many[name][0] / many[name][1]:.0f}%",
                ]
            )
    out.append(table(["design", "resource", "needs", "limit", "use", f"use x{top}"], rows))
    biggest, revisions, memory = largest_program(result)
    table_mb = schedule_table_bytes(result) / 1e6
    busiest_wiki, busiest_edits = max(
        tallies[STREAM].edits_by_wiki.items(), key=lambda item: item[1], default=(0, 0)
    )
    hosted = sum(1 for p in result.programs if p.home == busiest_wiki)
    wanted = busiest_edits / minutes
    stretched = (
        scale.cadence.edit_interval.total_seconds() / 60 * max(1.0, wanted * PUT_THROTTLE_S / 60)
    )
    out += [
        "",
        "First to saturate (1 process): "
        + "; ".join(
            f"{design}: {name} ({use:,.0f}%)"
            for design in DESIGNS
            for name, use in [first_to_saturate(result, design)]
        ),
        f"Largest program: {biggest:,} participants, {revisions:,.0f} revisions at its window's "
        f"end: {memory / 2**20:,.0f} MB of records while counting, "
        f"{biggest * sizes.cpu_page_per_participant:.1f} CPU s to parse and render its page.",
        f"Busiest wiki for edits: {hosted} programs, {wanted:.1f} edits a minute wanted; at one "
        f"save every {PUT_THROTTLE_S:g} s a page there gets one every {stretched:.0f} minutes.",
        f"Schedule table (participants, live reports): {table_mb:,.0f} MB; today every process "
        f"reads all of it twice a cycle: {2 * table_mb * 60 / scale.cycle_s:,.0f} MB a minute.",
        f"EventStreams: one connection, {STREAM_BYTES_PER_S * 86400 / 1e9:.1f} GB a day "
        "(every wiki's changes; the client filters).",
        f"Toolforge: {max(workers)} workers and the Join API's web service make "
        f"{max(workers) + 1} continuous jobs; the tool's quota is {CONTINUOUS_JOBS}.",
        "",
        "Store after a year (a new program for each one ending; nothing pruned):",
        table(["", "value"], [[k, v] for k, v in store_after_a_year(result).items()]),
    ]
    return "\n".join(out)


def compare_programs(scale: Scale, counts: Sequence[int], wikis: int, sizes: Sizes) -> str:
    """Requests a wiki and a cycle as programs multiply on the same wikis."""
    rows: list[list[object]] = []
    for count in counts:
        small = replace(scale, wikis=wikis, programs=count, participants=40 * count, hours=1.0)
        result = simulate(small, sizes)
        for design in DESIGNS:
            averages = per_wiki_cycle(result, design)
            busiest = result.tallies[design].busiest_wiki_cycle
            rows.append([f"{count} programs, {design}", *averages, busiest])
    header = ["", "recent changes", "page states", "refreshes", "recounts+edits", "busiest"]
    return (
        f"Programs multiply ({wikis} wikis, 40 participants a program, 1 h, one process): "
        "requests a wiki and a cycle; the first three read the changes\n" + table(header, rows)
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wikis", type=int, default=1000)
    parser.add_argument("--programs", type=int, default=5000)
    parser.add_argument("--participants", type=int, default=200_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--cycle", type=float, default=30.0, help="seconds")
    parser.add_argument("--hours", type=float, default=Scale().hours, help="time simulated")
    parser.add_argument("--edits-per-day", type=float, default=3.0, help="a participant")
    parser.add_argument("--window-days", type=float, default=7.0)
    parser.add_argument("--latency", type=float, default=0.25, help="seconds a request")
    parser.add_argument("--compare", type=int, nargs="*", default=[20, 200], help="programs")
    parser.add_argument("--compare-wikis", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-measure", action="store_true", help="nominal costs")
    options = parser.parse_args(argv)
    scale = Scale(
        wikis=options.wikis,
        programs=options.programs,
        participants=options.participants,
        cycle_s=options.cycle,
        hours=options.hours,
        edits_per_day=options.edits_per_day,
        window_days=options.window_days,
        latency_s=options.latency,
        seed=options.seed,
    )
    sizes = Sizes() if options.no_measure else measure(scale)
    started = time.monotonic()
    print(report(simulate(scale, sizes), options.workers, not options.no_measure))
    if options.compare:
        print()
        print(compare_programs(scale, options.compare, options.compare_wikis, sizes))
    print(f"\n(simulated in {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
