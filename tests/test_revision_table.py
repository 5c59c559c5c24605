"""Revisions held as columns: the same revisions as the objects they stand for, and the
same figures wherever a table is counted instead of a tuple."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.contributions import PageState, Revision, WikiRecords
from bot.core.metrics import article_revision_ids, compute_outcomes
from bot.core.model import Window
from bot.core.references import RevisionReferences
from bot.core.renames import revisions_to_wiki_names, to_wiki_names
from bot.core.revision_table import (
    RevisionTable,
    revision_ids,
    revision_rows,
    row_of,
)

START = datetime(2026, 11, 1, tzinfo=UTC)


def some_revisions(count: int, seed: int = 1) -> list[Revision]:
    rng = random.Random(seed)
    return [
        Revision(
            revid,
            rng.choice(["Ada", "Bo", "Cy", "Dee"]),
            rng.randint(1, 40),
            rng.choice([0, 0, 0, 2, 118]),
            f"Page {revid % 40}",
            START + timedelta(hours=rng.randint(-48, 24 * 40), microseconds=revid % 3),
            rng.randint(-300, 900),
            rng.random() < 0.2,
            rng.choice(["", "", "wbsetclaim-create:2|1", "wbeditentity-create-item:0|"]),
        )
        for revid in range(100, 100 + count)
    ]


def test_a_table_is_the_sequence_of_its_revisions() -> None:
    revs = some_revisions(50)
    table = RevisionTable.from_revisions(revs)
    assert len(table) == 50
    assert list(table) == revs
    assert table == revs and revs == table and table == tuple(revs)
    assert table[0] == revs[0] and table[-1] == revs[-1]
    assert table[10:20] == revs[10:20]
    assert isinstance(table[10:20], RevisionTable)
    assert table.revids == tuple(rev.revid for rev in revs)
    assert list(revision_rows(table)) == [row_of(rev) for rev in revs]
    assert list(revision_rows(revs)) == list(table.rows())
    assert list(revision_ids(table)) == list(revision_ids(revs))
    assert table != revs[:-1]
    assert table != [*revs[:-1], revs[0]]
    assert RevisionTable.from_rows([]) == RevisionTable() == ()
    assert RevisionTable.joined([table[:20], table[20:]]) == table
    assert RevisionTable.from_revisions(table) is table


def test_a_table_needs_nine_columns_of_one_length() -> None:
    with pytest.raises(ValueError):
        RevisionTable(((1,), ("Ada",)))
    with pytest.raises(ValueError):
        RevisionTable(((1, 2),) + ((1,),) * 8)


def test_renamed_moved_kept_and_added_revisions() -> None:
    revs = some_revisions(30)
    table = RevisionTable.from_revisions(revs)
    aliases = {"Ada": "Ada L", "Cy": "Cyrus"}
    assert revisions_to_wiki_names(table, aliases) == to_wiki_names(revs, aliases)
    assert revisions_to_wiki_names(table, {}) is table
    moved = table.moved({3: (2, "Moved"), 7: (0, "Elsewhere")})
    assert moved == [
        replace(rev, namespace=2, title="Moved")
        if n == 3
        else replace(rev, namespace=0, title="Elsewhere")
        if n == 7
        else rev
        for n, rev in enumerate(revs)
    ]
    assert table.moved({}) is table
    keep = [rev.user != "Bo" for rev in revs]
    assert table.kept(keep) == [rev for rev in revs if rev.user != "Bo"]
    assert table.kept([True] * len(revs)) is table
    # Added after the last revision, or among the revisions (one of them replaced).
    later = some_revisions(5, seed=9)
    later = [replace(rev, revid=rev.revid + 1000) for rev in later]
    assert table.with_rows(map(row_of, later)) == revs + later
    among = [replace(revs[4], sizediff=12345), replace(revs[0], revid=99)]
    expected = sorted([among[1], *revs[:4], among[0], *revs[5:]], key=lambda rev: rev.revid)
    assert table.with_rows(map(row_of, among)) == expected
    assert table.with_rows([]) is table
    assert RevisionTable().with_rows(map(row_of, later)) == later


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_table_counts_as_the_revisions_it_holds(seed: int) -> None:
    rng = random.Random(seed)
    revs = some_revisions(400, seed)
    pages = {
        pid: PageState(
            pid,
            rng.choice([0, 0, 2]),
            f"Page {pid}",
            redirect=rng.random() < 0.1,
            deleted=rng.random() < 0.1,
            in_scope=rng.random() < 0.9,
        )
        for pid in range(1, 41)
        if rng.random() < 0.9
    }
    refs = {rev.revid: RevisionReferences(rev.revid - 1, rng.randint(0, 9)) for rev in revs}
    window = Window(START, START + timedelta(days=30))
    people = ["Ada", "Bo", "Cy"]
    plain = WikiRecords("a.wiki", tuple(revs), pages, references=refs)
    table = WikiRecords("a.wiki", RevisionTable.from_revisions(revs), pages, references=refs)
    outcomes = compute_outcomes(people, window, [plain])
    assert outcomes.total.edits > 0 and outcomes.total.references_added > 0
    assert compute_outcomes(people, window, [table]) == outcomes
    assert article_revision_ids(people, window, table) == article_revision_ids(
        people, window, plain
    )
