"""Revisions held as columns: the same revisions as the objects they stand for, and the
same figures wherever a table is counted instead of a tuple."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.contributions import PageState, Revision, WikiRecords
from bot.core.metrics import article_revision_ids, compute_outcomes
from bot.core.model import Window
from bot.core.references import RevisionReferences
from bot.core.renames import revisions_to_wiki_names, to_wiki_names
from bot.core.revision_table import (
    RevisionTable,
    moved_row,
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


def test_renamed_and_moved_rows_change_one_field() -> None:
    revs = some_revisions(30)
    table = RevisionTable.from_revisions(revs)
    aliases = {"Ada": "Ada L", "Cy": "Cyrus"}
    assert revisions_to_wiki_names(table, aliases) == to_wiki_names(revs, aliases)
    assert revisions_to_wiki_names(table, {}) is table
    row = row_of(revs[3])
    moved = Revision(*moved_row(row, 2, "Moved"))
    assert moved.namespace == 2 and moved.title == "Moved"
    assert (moved.revid, moved.user, moved.timestamp, moved.wikibase) == (
        revs[3].revid,
        revs[3].user,
        revs[3].timestamp,
        revs[3].wikibase,
    )


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
