"""The scale model (tests/bench_scale.py) at small sizes: the properties its designs have
by construction, which a mistake in the model's code would break. No wiki needed."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from bench_scale import (
    DESIGNS,
    NAMES,
    NEW_PAGE_SHARE,
    PAGES,
    POLLED,
    RC,
    READ,
    ROWS,
    SAVE,
    STOP,
    STREAM,
    TODAY,
    Result,
    Scale,
    contribs_requests,
    make_programs,
    per_minute,
    per_wiki_cycle,
    simulate,
    zipf_split,
)

SMALL = Scale(wikis=10, programs=20, participants=800, hours=1.0, seed=3)


@pytest.fixture(scope="module")
def twenty() -> Result:
    return simulate(SMALL)


@pytest.fixture(scope="module")
def two_hundred() -> Result:
    return simulate(replace(SMALL, programs=200, participants=8000))


def test_reading_the_changes_costs_the_same_per_wiki_for_20_and_200_programs(
    twenty: Result, two_hundred: Result
) -> None:
    for design in (POLLED, STREAM):
        few, many = per_wiki_cycle(twenty, design), per_wiki_cycle(two_hundred, design)
        assert few[0] == many[0]  # recent changes: one read a wiki and cycle, or none
        assert few[2] == many[2] == 0  # no per-program refresh reads
    assert per_wiki_cycle(twenty, POLLED)[0] == 1.0
    # Page states: at most one read a wiki and cycle while a cycle has < 500 changed pages.
    cells = SMALL.wikis * SMALL.cycles
    assert two_hundred.tallies[POLLED].feed[PAGES] <= cells


def test_per_program_polling_grows_with_programs(twenty: Result, two_hundred: Result) -> None:
    few, many = per_wiki_cycle(twenty, TODAY), per_wiki_cycle(two_hundred, TODAY)
    assert few[0] == many[0] == 1.0
    assert many[2] > 5 * few[2] > 0


def test_the_stream_makes_no_per_wiki_polling_requests(twenty: Result) -> None:
    stream, polled = twenty.tallies[STREAM], twenty.tallies[POLLED]
    assert stream.requests[RC] == 0
    assert polled.requests[RC] == SMALL.wikis * SMALL.cycles
    # Otherwise the two feed designs do the same work over the same edits.
    assert stream.feed[PAGES] == polled.feed[PAGES]
    assert stream.work == polled.work


def test_more_processes_do_not_change_the_feeds_total_requests(twenty: Result) -> None:
    for design in (POLLED, STREAM):
        loads = [per_minute(twenty, design, workers) for workers in (1, 2, 4, 8)]
        assert len({(load.reads, load.writes) for load in loads}) == 1
        busiest = [load.busiest_reads for load in loads]
        assert busiest == sorted(busiest, reverse=True)
    # Today every `run` process reads every wiki's recent changes itself.
    one, two = per_minute(twenty, TODAY, 1), per_minute(twenty, TODAY, 2)
    assert two.reads - one.reads == pytest.approx(SMALL.wikis * 60 / SMALL.cycle_s)


def test_a_page_is_edited_at_most_once_an_edit_interval(two_hundred: Result) -> None:
    scale = two_hundred.scale
    allowed = math.floor(scale.hours * 3600 / scale.cadence.edit_interval.total_seconds()) + 1
    for design in DESIGNS:
        tally = two_hundred.tallies[design]
        assert 0 < max(tally.edits_by_program.values()) <= allowed
        assert tally.requests[SAVE] == sum(tally.edits_by_program.values())
        assert tally.requests[STOP] == tally.requests[SAVE]
    # The feed reads the page to edit it; today the refresh has read it.
    feed = two_hundred.tallies[POLLED]
    assert feed.requests[READ] == feed.requests[SAVE]


def test_the_feed_writes_the_new_rows_and_a_refresh_rewrites_them_all(twenty: Result) -> None:
    feed, today = twenty.tallies[POLLED], twenty.tallies[TODAY]
    assert feed.rows_written == pytest.approx(twenty.participant_edits * (1 + NEW_PAGE_SHARE))
    assert today.rows_written == pytest.approx(today.rows_read)
    assert today.rows_written > feed.rows_written


def test_full_recounts_follow_full_every_and_never_happen_today() -> None:
    scale = replace(SMALL, hours=2 * SMALL.cadence.full_every.total_seconds() / 3600)
    result = simulate(scale)
    assert result.tallies[TODAY].full_by_program.total() == 0
    for design in (POLLED, STREAM):
        counts = result.tallies[design].full_by_program
        assert set(counts.values()) == {2}
        assert len(counts) == scale.programs


def test_the_population_is_what_was_asked() -> None:
    programs = make_programs(SMALL)
    assert sum(p.participants for p in programs) == SMALL.participants
    assert min(p.participants for p in programs) >= 1
    assert {p.home for p in programs} == set(range(SMALL.wikis))
    assert zipf_split(7, 3) == [4, 2, 1]


def test_contributions_cost_the_fetch_floor() -> None:
    assert contribs_requests(NAMES, 0) == 1
    assert contribs_requests(NAMES + 1, 0) == 2
    assert contribs_requests(NAMES, ROWS + 1) == 2
    assert contribs_requests(2 * NAMES, 4 * ROWS) == 4


def test_the_simulation_is_repeatable() -> None:
    first, second = simulate(SMALL), simulate(SMALL)
    for design in DESIGNS:
        assert first.tallies[design].requests == second.tallies[design].requests
