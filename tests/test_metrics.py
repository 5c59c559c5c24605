"""The metric definitions of metrics.md, on hand-built records."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.contributions import PageState, Revision, Upload, WikiRecords
from bot.core.messages import Messages
from bot.core.metrics import Counts, DeletedArticle, compute_outcomes
from bot.core.model import Window
from bot.core.render import outcome_sentence, outcomes_block

WINDOW = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
INSIDE = datetime(2026, 11, 10, tzinfo=UTC)
BEFORE = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)


def rev(
    revid: int,
    user: str,
    pageid: int,
    ns: int = 0,
    diff: int = 10,
    new: bool = False,
    when: datetime = INSIDE,
) -> Revision:
    return Revision(revid, user, pageid, ns, f"Page {pageid}", when, diff, new)


PAGES = {
    1: PageState(1, 0, "Page 1"),
    2: PageState(2, 0, "Page 2"),
    3: PageState(3, 0, "Page 3", redirect=True),
    4: PageState(4, 0, "Page 4", deleted=True),
    5: PageState(5, 2, "User:Alice/Sandbox"),
    6: PageState(6, 0, "Page 6", in_scope=False),
}

WIKI_A = WikiRecords(
    "a.example.org",
    revisions=(
        rev(1, "Alice", 1, diff=100, new=True),
        rev(2, "Alice", 1, diff=-30),
        rev(3, "Bob", 1, diff=5),
        rev(4, "Bob", 2, diff=50),
        rev(5, "Bob", 3, diff=20, new=True),  # a redirect: an edit, not an article
        rev(6, "Alice", 4, diff=70, new=True),  # deleted since: counted and flagged
        rev(7, "Alice", 5, ns=2, diff=999),  # user space: an edit, no bytes, no article
        rev(8, "Alice", 2, diff=8, when=BEFORE),  # before the window
        rev(9, "Zed", 2, diff=8),  # not a participant
        rev(10, "Alice", 6, diff=8),  # out of scope
    ),
    pages=PAGES,
    uploads=(
        Upload("Alice", "File:A.png", INSIDE),
        Upload("Alice", "File:A.png", INSIDE),  # the same file twice is one upload
        Upload("Bob", "File:B.png", BEFORE),
    ),
)
WIKI_B = WikiRecords(
    "b.example.org",
    revisions=(rev(20, "Alice", 1, diff=40, new=True),),
    pages={1: PageState(1, 0, "Other page 1")},
    uploads=(Upload("Bob", "File:C.png", INSIDE),),
)


def test_every_figure() -> None:
    out = compute_outcomes(["Alice", "Bob", "Carol"], WINDOW, [WIKI_A, WIKI_B])
    assert out.per_user_wiki[("Alice", "a.example.org")] == Counts(
        edits=4,
        mainspace_edits=3,
        articles_edited=2,
        articles_created=2,
        bytes_added=170,
        uploads=1,
        deleted=1,
    )
    assert out.per_user_wiki[("Bob", "a.example.org")] == Counts(
        edits=3,
        mainspace_edits=3,
        articles_edited=2,
        articles_created=0,
        bytes_added=75,
        uploads=0,
        deleted=0,
    )
    assert out.per_user["Alice"] == Counts(5, 4, 3, 3, 210, 1, 1)
    assert out.per_user["Carol"] == Counts()
    # Distinct pages at program level, not a sum of per-user counts (page 1 edited by both).
    assert out.per_wiki["a.example.org"].articles_edited == 3
    assert out.per_wiki["b.example.org"] == Counts(1, 1, 1, 1, 40, 1, 0)
    assert out.total == Counts(8, 7, 4, 3, 285, 2, 1)
    assert out.deleted_articles == (DeletedArticle("a.example.org", "Page 4"),)


def test_window_edges_are_inclusive() -> None:
    records = WikiRecords(
        "a",
        revisions=(rev(1, "Alice", 1, when=WINDOW.start), rev(2, "Alice", 1, when=WINDOW.end)),
        pages={1: PageState(1, 0, "P")},
    )
    assert compute_outcomes(["Alice"], WINDOW, [records]).total.edits == 2


def test_a_moved_draft_counts_as_created_article() -> None:
    # usercontribs reports revisions under the page's current title and namespace.
    records = WikiRecords(
        "a",
        revisions=(rev(1, "Alice", 7, ns=118, diff=300, new=True),),
        pages={7: PageState(7, 0, "Moved draft")},
    )
    out = compute_outcomes(["Alice"], WINDOW, [records])
    assert (out.total.articles_created, out.total.bytes_added) == (1, 300)


def test_sentence_and_block() -> None:
    out = compute_outcomes(["Alice", "Bob"], WINDOW, [WIKI_A])
    sentence = outcome_sentence(out, Messages(), "Test program")
    assert sentence.startswith("2 {{PLURAL:2|person|people}} joined Test program.")
    # A wiki with no better name is named by its host.
    assert (
        "made 7 {{PLURAL:7|edit|edits}} to 3 a.example.org {{PLURAL:3|article|articles}}"
        in sentence
    )
    block = outcomes_block(out, [], "2026-11-25T00:00:00Z", Messages(), program="Test program")
    assert block.splitlines()[-1] == "{{End of program outcomes}}"
    assert "{{Program deleted article|wiki=a.example.org|title=Page 4}}" in block
    assert "{{Program outcomes row|wiki=total|edits=7|mainspace_edits=6|" in block
    assert "{{Program outcomes row|wiki=a.example.org|wiki_name=a.example.org|edits=7|" in block


def test_days_listed_twice_and_a_file_two_participants_uploaded() -> None:
    """Per day: every counted edit, articles once a day; a participant listed twice counts
    once; a file two participants uploaded under one title is one upload of the wiki."""
    later = datetime(2026, 11, 11, 8, tzinfo=UTC)
    records = WikiRecords(
        "a",
        revisions=(
            rev(1, "Alice", 1),
            rev(2, "Bob", 1),  # the same article the same day: one article that day
            rev(3, "Bob", 5, ns=2),  # user space: an edit of the day, no article
            rev(4, "Alice", 2, when=later),
            rev(5, "Alice", 4, when=later),  # deleted since
            rev(6, "Zed", 2, when=later),  # not a participant: not in the days either
        ),
        pages=PAGES,
        uploads=(Upload("Alice", "File:X.png", INSIDE), Upload("Bob", "File:X.png", later)),
    )
    out = compute_outcomes(["Alice", "Bob", "Alice"], WINDOW, [records])
    assert out.per_day == {INSIDE.date(): (3, 1), later.date(): (2, 2)}
    assert list(out.per_user) == ["Alice", "Bob"]
    assert (out.per_user["Alice"].uploads, out.per_user["Bob"].uploads) == (1, 1)
    assert (out.per_wiki["a"].uploads, out.total.uploads) == (1, 1)
    assert out.total == Counts(5, 4, 3, 0, 40, 1, 1)
    assert out.deleted_articles == (DeletedArticle("a", "Page 4"),)
