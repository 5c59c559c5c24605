"""References added: the rule on texts, and the figures of a refresh on the real local wiki
against the revision texts read straight from the wiki's tables (counted there with
mwparserfromhell, not with the bot's reader), with moved, reverted and deleted cases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import mwparserfromhell
import pytest

from bot.core.references import RevisionReferences, added_by, count_references
from harness import Farm, LocalWiki, program_page


def test_a_named_reference_and_its_reuses_are_one() -> None:
    text = (
        'A.<ref name="smith">Smith 2001</ref> B.<ref name=smith /> C.<ref name = "smith"/>'
        " D.<ref>Jones 1999</ref> E.<ref>Jones 1999</ref> F.<ref>  Other  </ref>"
        " <!-- <ref>commented out</ref> --> <nowiki><ref>shown as text</ref></nowiki>"
        " <ref></ref> <ref/> <REF NAME='upper'>Upper</REF>"
    )
    # smith, Jones 1999, Other, upper: empty and unnamed self-closing tags are none.
    assert count_references(text) == 4
    assert count_references("no references") == 0


def test_what_a_revision_added() -> None:
    known = {
        1: RevisionReferences(0, 3),  # a page's first revision adds all it holds
        2: RevisionReferences(1, 5),
        3: RevisionReferences(2, 4),  # a removal adds none
        4: RevisionReferences(99, 6),  # parent unknown
        5: RevisionReferences(1, None),  # text unreadable
        6: RevisionReferences(5, 2),  # parent's text unreadable
    }
    assert [added_by(revid, known) for revid in range(1, 8)] == [3, 2, 0, 0, 0, 0, 0]


def test_texts_kept_twice_stay_as_they_are(tmp_path: Path) -> None:
    """Another process may keep some of the same texts meanwhile: the second write meets
    them and keeps every row as the texts say."""
    from bot.store import Store

    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    first = {1: RevisionReferences(0, 2), 2: RevisionReferences(1, None)}
    store.remember_revision_references("w", first)
    store.remember_revision_references("w", {**first, 3: RevisionReferences(2, 5)})
    assert store.revision_references("w", [1, 2, 3, 4]) == {
        **first,
        3: RevisionReferences(2, 5),
    }


pywikibot = pytest.importorskip("pywikibot")

import bot.wiki.queries as queries  # noqa: E402
from bot.core.exports import program_tables  # noqa: E402
from bot.core.model import Window  # noqa: E402
from bot.jobs.refresh import Refresher  # noqa: E402
from bot.store import Store  # noqa: E402

TITLE = "Project:Reference program"
PEOPLE = ("Alice", "Bob")


def _texts(wiki: LocalWiki, revids: set[int]) -> dict[int, str]:
    """Revision texts straight from the wiki's tables (live and deleted revisions)."""
    found: dict[int, str] = {}
    for revid in revids:
        rows = wiki.sql(
            "SELECT t.old_text FROM slots s JOIN content c ON c.content_id = s.slot_content_id"
            " JOIN text t ON 'tt:' || t.old_id = c.content_address"
            " WHERE s.slot_revision_id = ?",
            (revid,),
        )
        text = rows[0][0]
        found[revid] = text.decode() if isinstance(text, bytes) else str(text)
    return found


def _refs(text: str) -> int:
    """The references of a text by the definition, counted with mwparserfromhell."""
    keys = set()
    for tag in mwparserfromhell.parse(text).filter_tags(matches=lambda n: n.tag.lower() == "ref"):
        name = str(tag.get("name").value).strip() if tag.has("name") else ""
        body = " ".join(str(tag.contents or "").split())
        if name:
            keys.add("name:" + name)
        elif body:
            keys.add("text:" + body)
    return len(keys)


def db_references(
    wiki: LocalWiki, users: tuple[str, ...], start: datetime, end: datetime
) -> tuple[dict[str, int], dict[str, int]]:
    """References added per participant and per article (by page id as title now, or the
    deleted page's title), over the participants' main-namespace revisions inside the
    window on pages that are articles (live ones from ``revision``, deleted ones from
    ``archive``)."""
    marks = ",".join("?" for _ in users)
    window = (start.strftime("%Y%m%d%H%M%S"), end.strftime("%Y%m%d%H%M%S"))
    live = wiki.sql(
        f"""SELECT r.rev_id, r.rev_parent_id, a.actor_name, p.page_title FROM revision r
        JOIN actor a ON a.actor_id = r.rev_actor JOIN page p ON p.page_id = r.rev_page
        WHERE a.actor_name IN ({marks}) AND r.rev_timestamp BETWEEN ? AND ?
        AND p.page_namespace = 0 AND p.page_is_redirect = 0""",
        (*users, *window),
    )
    gone = wiki.sql(
        f"""SELECT ar.ar_rev_id, ar.ar_parent_id, a.actor_name, ar.ar_title FROM archive ar
        JOIN actor a ON a.actor_id = ar.ar_actor
        WHERE a.actor_name IN ({marks}) AND ar.ar_timestamp BETWEEN ? AND ?
        AND ar.ar_namespace = 0""",
        (*users, *window),
    )
    rows = [(int(r), int(p), str(u), str(t).replace("_", " ")) for r, p, u, t in (*live, *gone)]
    texts = _texts(wiki, {r for r, _, _, _ in rows} | {p for _, p, _, _ in rows if p})
    per_user: dict[str, int] = {}
    per_article: dict[str, int] = {}
    for revid, parent, user, title in rows:
        added = max(_refs(texts[revid]) - (_refs(texts[parent]) if parent else 0), 0)
        per_user[user] = per_user.get(user, 0) + added
        per_article[title] = per_article.get(title, 0) + added
    return per_user, per_article


@contextmanager
def texts_asked(batches: list[list[int]] | None = None) -> Iterator[list[int]]:
    """Every revision id whose text the bot asks the wiki for (and each request's ids in
    ``batches``)."""
    asked: list[int] = []
    original = queries.revision_texts_request

    def spy(revids: Any) -> Any:
        asked.extend(revids)
        if batches is not None:
            batches.append(list(revids))
        return original(revids)

    queries.revision_texts_request = spy  # type: ignore[assignment]
    try:
        yield asked
    finally:
        queries.revision_texts_request = original  # type: ignore[assignment]


@pytest.mark.wiki
def test_references_added_match_the_revision_texts(
    wikis: Farm, participant: Callable[..., Any], tmp_path: Path
) -> None:
    alice, bob, carol = participant("Alice"), participant("Bob"), participant("Carol")
    admin = participant("Admin")
    wiki = wikis.content
    # Alice creates an article with a named reference used twice and an unnamed one.
    alice.edit("Ref one", 'A.<ref name="a">Source A</ref> B.<ref name="a"/> C.<ref>B</ref>', "new")
    # Bob adds one; then moves one within the article (adds none).
    bob.edit(
        "Ref one",
        'A.<ref name="a">Source A</ref> B.<ref name="a"/> C.<ref>B</ref> D.<ref>C</ref>',
        "add",
    )
    bob.edit(
        "Ref one",
        'D.<ref>C</ref> A.<ref name="a">Source A</ref> B.<ref name="a"/> C.<ref>B</ref>',
        "reorder",
    )
    # Someone not listed writes three; Alice removes two, Bob restores them (a revert).
    carol.edit("Ref two", "X.<ref>x</ref> Y.<ref>y</ref> Z.<ref>z</ref>", "new")
    alice.edit("Ref two", "X.<ref>x</ref>", "trim")
    bob.edit("Ref two", "X.<ref>x</ref> Y.<ref>y</ref> Z.<ref>z</ref>", "restore")
    # An article that is moved, and one that will be deleted.
    alice.edit("Ref three", "Q.<ref>q</ref>", "new")
    alice.move("Ref three", "Ref three moved", noredirect=True)
    bob.edit("Ref gone", "G.<ref>g1</ref> H.<ref>g2</ref>", "new")
    # Not an article: a talk page's references do not count.
    alice.edit("Talk:Ref one", "T.<ref>t</ref>", "talk")
    today = datetime.now(UTC).date()
    page = program_page(
        PEOPLE, [wiki.host], name="References", organizer="Admin", goals="references: 20"
    )
    admin.edit(TITLE, page, "program")
    start = datetime.combine(today - timedelta(days=1), datetime.min.time(), UTC)
    end = datetime.combine(today + timedelta(days=1), datetime.max.time(), UTC)
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    site = pywikibot.Site(wiki.name, wiki.name)

    def check(result: Any) -> None:
        per_user, per_article = db_references(wiki, PEOPLE, start, end)
        outcomes = result.outcomes
        assert {u: outcomes.per_user[u].references_added for u in PEOPLE} == {
            u: per_user.get(u, 0) for u in PEOPLE
        }
        assert outcomes.total.references_added == sum(per_user.values())
        tables = program_tables(outcomes, result.records, Window(start, end))
        assert {row["title"]: row["references_added"] for row in tables["articles"]} == {
            title: n for title, n in per_article.items()
        }
        text = admin.get_text(TITLE) or ""
        assert f"|references_added={outcomes.total.references_added}|" in text
        assert (
            "{{Program goal|goal=references_added|target=20|reached="
            f"{outcomes.total.references_added}}}}}" in text
        )

    requests: list[list[int]] = []
    with texts_asked(requests) as first:
        result = Refresher(store).refresh(pywikibot.Page(site, TITLE))
    check(result)
    # The texts and their parents' in one request: Carol's revision, the parent of Alice's
    # trim, is named by the contributions and asked with the counted ones.
    carols = wiki.sql(
        "SELECT r.rev_id FROM revision r JOIN actor a ON a.actor_id = r.rev_actor"
        " WHERE a.actor_name = 'Carol'"
    )
    assert len(requests) == 1 and {int(r) for (r,) in carols} <= set(first)
    # 2 (Alice's creation: "a" and its re-use are one) + 1 (Bob) + 0 (reorder) + 0 (trim)
    # + 2 (restore) + 1 + 0 (the move's null revision) + 2: the definition's cases, as the
    # independent count has them.
    assert result.outcomes.total.references_added == 8
    assert result.outcomes.per_user["Alice"].references_added == 3
    assert len(first) == len(set(first))

    # 100 new edits' worth is the benchmark's; here: a deletion, a revert and two edits.
    admin_client = wiki.admin_client()
    admin_client.delete("Ref gone", "test")
    alice.edit("Ref one", 'D.<ref>C</ref> A.<ref name="a">Source A</ref> E.<ref>E</ref>', "e")
    bob.edit("Ref four", "N.<ref>n</ref>", "new")
    new = {wiki_latest(wiki, "Ref one"), wiki_latest(wiki, "Ref four")}
    with texts_asked() as second:
        result = Refresher(store).refresh(pywikibot.Page(site, TITLE), full=False)
    check(result)
    # Only the new revisions (their parents are known): no text is read twice.
    assert set(second) == new and not set(second) & set(first)
    with texts_asked() as third:
        full = Refresher(store).refresh(pywikibot.Page(site, TITLE), full=True)
    check(full)
    assert third == []
    # The deleted article keeps what it added (its texts were read before the deletion).
    assert (
        full.outcomes.per_user["Bob"].references_added
        == result.outcomes.per_user["Bob"].references_added
    )


@pytest.mark.wiki
def test_an_undeleted_pages_texts_are_read_with_their_parents_at_once(
    wikis: Farm, participant: Callable[..., Any], tmp_path: Path
) -> None:
    """An undeletion brings back revisions whose texts were never read: their page's
    history names their parents, so those texts are asked in the same request."""
    alice, bob, carol = participant("Alice"), participant("Bob"), participant("Carol")
    admin = participant("Admin")
    wiki = wikis.content
    carol.edit("Ref back", "X.<ref>x</ref> Y.<ref>y</ref>", "new")
    alice.edit("Ref back", "X.<ref>x</ref> Y.<ref>y</ref> Z.<ref>z</ref>", "add")
    bob.edit("Ref back", "X.<ref>x</ref> Y.<ref>y</ref> Z.<ref>z</ref> W.<ref>w</ref>", "add")
    alice.edit("Ref kept", "K.<ref>k</ref>", "new")
    ids = wiki.sql(
        "SELECT r.rev_id FROM revision r JOIN page p ON p.page_id = r.rev_page"
        " WHERE p.page_title = 'Ref_back' ORDER BY r.rev_id"
    )
    history = [int(r) for (r,) in ids]
    wiki.admin_client().delete("Ref back", "test")
    today = datetime.now(UTC).date()
    admin.edit(TITLE, program_page(PEOPLE, [wiki.host], name="Back", organizer="Admin"), "p")
    start = datetime.combine(today - timedelta(days=1), datetime.min.time(), UTC)
    end = datetime.combine(today + timedelta(days=1), datetime.max.time(), UTC)
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    page = pywikibot.Page(pywikibot.Site(wiki.name, wiki.name), TITLE)
    before = Refresher(store).refresh(page)
    assert before.outcomes is not None and before.outcomes.total.references_added == 1

    wiki.admin_client().post({"action": "undelete", "title": "Ref back", "reason": "test"})
    requests: list[list[int]] = []
    with texts_asked(requests):
        after = Refresher(store).refresh(page, full=False)
    # Alice's and Bob's revisions, and Carol's, the parent of Alice's: one request.
    assert len(requests) == 1 and set(history) <= set(requests[0])
    per_user, _ = db_references(wiki, PEOPLE, start, end)
    assert after.outcomes is not None
    assert {u: after.outcomes.per_user[u].references_added for u in PEOPLE} == {
        u: per_user.get(u, 0) for u in PEOPLE
    }
    assert after.outcomes.total.references_added == 3  # K; Z (Alice); W (Bob)


def wiki_latest(wiki: LocalWiki, title: str) -> int:
    rows = wiki.sql(
        "SELECT page_latest FROM page WHERE page_namespace = 0 AND page_title = ?",
        (title.replace(" ", "_"),),
    )
    return int(rows[0][0])


#: Wikidata's revision ids passed this in 2024.
INT32_MAX = 2**31 - 1


def ids_past_32_bits(wiki: LocalWiki) -> None:
    """Make the wiki's next revision ids larger than a 32-bit column holds (its tables
    number revisions with SQLite's AUTOINCREMENT; the farm is reset after the test)."""
    import sqlite3

    conn = sqlite3.connect(wiki.db_path, timeout=30)
    try:
        with conn:
            conn.execute(
                "UPDATE sqlite_sequence SET seq = ? WHERE name = 'revision'", (INT32_MAX + 10,)
            )
    finally:
        conn.close()


@pytest.mark.wiki
def test_revision_ids_beyond_32_bits_are_counted_on_every_store(
    wikis: Farm, participant: Callable[..., Any], store_url: str
) -> None:
    wiki = wikis.content
    ids_past_32_bits(wiki)
    alice, bob, admin = participant("Alice"), participant("Bob"), participant("Admin")
    alice.edit("Big one", 'A.<ref name="a">Source A</ref> B.<ref>B</ref>', "new")
    bob.edit("Big one", 'A.<ref name="a">Source A</ref> B.<ref>B</ref> C.<ref>C</ref>', "add")
    first_ids = {int(r) for (r,) in wiki.sql("SELECT rev_id FROM revision")}
    assert min(r for r in first_ids if r > 1000) > INT32_MAX  # the case asked for
    today = datetime.now(UTC).date()
    admin.edit(TITLE, program_page(PEOPLE, [wiki.host], name="Big ids", organizer="Admin"), "p")
    start = datetime.combine(today - timedelta(days=1), datetime.min.time(), UTC)
    end = datetime.combine(today + timedelta(days=1), datetime.max.time(), UTC)
    store = Store(store_url)
    site = pywikibot.Site(wiki.name, wiki.name)

    def check(result: Any) -> None:
        per_user, _ = db_references(wiki, PEOPLE, start, end)
        assert {u: result.outcomes.per_user[u].references_added for u in PEOPLE} == {
            u: per_user.get(u, 0) for u in PEOPLE
        }
        edits = wiki.sql(
            "SELECT COUNT(*) FROM revision r JOIN actor a ON a.actor_id = r.rev_actor"
            " JOIN page p ON p.page_id = r.rev_page WHERE a.actor_name IN (?, ?)"
            " AND p.page_namespace = 0",
            PEOPLE,
        )
        assert result.outcomes.total.mainspace_edits == int(edits[0][0])

    result = Refresher(store).refresh(pywikibot.Page(site, TITLE))
    check(result)
    assert result.outcomes.total.references_added == 3
    latest = wiki_latest(wiki, "Big one")
    assert latest > INT32_MAX
    assert store.revision_references(wiki.host, [latest])[latest].references == 3

    # An incremental refresh after another edit comes to what a full recount does.
    alice.edit("Big two", "N.<ref>n</ref>", "new")
    incremental = Refresher(store).refresh(pywikibot.Page(site, TITLE), full=False)
    check(incremental)
    full = Refresher(store).refresh(pywikibot.Page(site, TITLE), full=True)
    assert incremental.outcomes.total == full.outcomes.total
    assert full.outcomes.total.references_added == 4
