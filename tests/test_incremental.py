"""Incremental refresh: a few requests after a few edits, and the same figures as a full one."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness import Farm, program_page, tiny_png

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page  # noqa: E402
from bot.jobs.count import ProgramCounter  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.wiki.fetch import SAVE_LAG  # noqa: E402

TITLE = "Content Wiki:Incremental program"


def program(farm: Farm, users: list[str]) -> str:
    return program_page(users, [farm.content.host, farm.media.host])


def compute(store: Store, site: Any, *, full: bool) -> Any:
    page = pywikibot.Page(site, TITLE)
    text = page.get()
    counter = ProgramCounter(store)
    key = f"{wikis_host(site)}#{page.pageid}"
    computation = counter.count(parse_program_page(text), key, full=full)
    counter.remember(key, computation)
    return computation.outcomes


def wikis_host(site: Any) -> str:
    return str(site.hostname())


def count_requests(action: Any) -> tuple[Any, list[str]]:
    from pywikibot.comms import http

    asked: list[str] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        asked.append(f"{response.request.url} {response.request.body or ''}")

    http.session.hooks["response"].append(hook)
    try:
        return action(), asked
    finally:
        http.session.hooks["response"].remove(hook)


def test_incremental_and_full_refresh_agree(wikis: Farm, tmp_path: Path) -> None:
    alice, bob = wikis.content.client("Alice"), wikis.content.client("Bob")
    alice.edit("First article", "One.")
    wikis.media.client("Alice").upload("Inc-1.png", tiny_png(31))
    wikis.content.admin_client().edit(TITLE, program(wikis, ["Alice", "Bob"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    store = Store(f"sqlite:///{tmp_path / 'inc.sqlite'}")
    first = compute(store, site, full=False)  # nothing remembered yet: a full fetch
    assert first.total.edits == 2  # the article and the file page

    alice.append("First article", " Two.")
    bob.edit("Second article", "Bob's.")
    bob.edit("Second redirect", "#REDIRECT [[Second article]]")
    wikis.media.client("Bob").upload("Inc-2.png", tiny_png(32))
    incremental, asked = count_requests(lambda: compute(store, site, full=False))
    full = compute(Store(f"sqlite:///{tmp_path / 'full.sqlite'}"), site, full=True)
    assert incremental == full
    assert incremental.total.edits == 6 and incremental.total.uploads == 2
    # A handful of requests: per wiki one list=users, one usercontribs, one logevents,
    # and page states only for the new revisions' articles.
    contribs = [a for a in asked if "usercontribs" in a]
    assert len(contribs) == 2
    # The account check of the last refresh still holds: no list=users again.
    assert not [a for a in asked if "list=users" in a or "list%3Dusers" in a]
    assert len(asked) <= 8, asked
    print(f"\nincremental refresh after 4 edits and an upload: {len(asked)} requests")


def test_a_new_participant_makes_the_next_fetch_full(wikis: Farm, tmp_path: Path) -> None:
    wikis.content.client("Carol").edit("Carol's article", "Written before she was listed.")
    wikis.content.client("Alice").edit("Alice's article", "A.")
    admin = wikis.content.admin_client()
    admin.edit(TITLE, program(wikis, ["Alice"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    store = Store(f"sqlite:///{tmp_path / 'inc.sqlite'}")
    compute(store, site, full=False)
    admin.edit(TITLE, program(wikis, ["Alice", "Carol"]))
    outcomes = compute(store, site, full=False)
    assert outcomes.per_user["Carol"].articles_created == 1
    assert outcomes == compute(Store(f"sqlite:///{tmp_path / 'full.sqlite'}"), site, full=True)


def _deleted_created(wiki: Any, user: str) -> int:
    """Articles ``user`` created whose page is now deleted, from the wiki's archive table."""
    row = wiki.sql(
        """SELECT COUNT(DISTINCT ar.ar_page_id) FROM archive ar
        JOIN actor a ON a.actor_id = ar.ar_actor
        WHERE a.actor_name = ? AND ar.ar_namespace = 0 AND ar.ar_parent_id = 0""",
        (user,),
    )[0]
    return int(row[0] or 0)


def test_moves_deletions_undeletions_and_redirects_between_two_refreshes(
    wikis: Farm, tmp_path: Path
) -> None:
    """An incremental refresh sees what the logs and the recent changes say happened to
    counted pages, and ends where a full recount on the same store ends."""
    from harness.dbcount import db_counts

    alice = wikis.content.client("Alice")
    for n in range(1, 6):
        alice.edit(f"Moved deleted {n}", f"Article {n} " * n)
    wikis.content.client("Bob").edit("Bob keeps this", "Bob's.")
    admin = wikis.content.admin_client()
    admin.edit(TITLE, program(wikis, ["Alice", "Bob"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    incremental_store = Store(f"sqlite:///{tmp_path / 'inc.sqlite'}")
    full_store = Store(f"sqlite:///{tmp_path / 'full.sqlite'}")
    for store in (incremental_store, full_store):
        assert compute(store, site, full=True).total.articles_created == 6

    admin.move("Moved deleted 1", "User:Alice/Moved deleted 1", noredirect=True)
    for n in (2, 3, 4):
        admin.delete(f"Moved deleted {n}")
    wikis.content.client("Carol").edit("Moved deleted 5", "#REDIRECT [[Bob keeps this]]")
    incremental, asked = count_requests(lambda: compute(incremental_store, site, full=False))
    full = compute(full_store, site, full=True)
    assert incremental == full
    # Without an undeletion the contributions are not read again from the window's start.
    window_start = f"ucstart={datetime.now(UTC).date() - timedelta(days=1)}T00%3A00%3A00Z"
    contribs = [a for a in asked if "usercontribs" in a]
    assert len(contribs) == 2 and not [a for a in contribs if window_start in a], contribs
    # Independently: live articles from the page and revision tables, deleted ones from
    # the archive; the moved one and the one made a redirect are no longer articles.
    today = datetime.now(UTC)
    start, end = today - timedelta(days=2), today + timedelta(days=2)
    for user in ("Alice", "Bob"):
        live = db_counts(wikis.content, [user], start, end).articles_created
        deleted = _deleted_created(wikis.content, user)
        assert incremental.per_user[user].articles_created == live + deleted
    assert incremental.per_user["Alice"].articles_created == 3
    assert {d.title for d in incremental.deleted_articles} == {
        f"Moved deleted {n}" for n in (2, 3, 4)
    }

    admin.post({"action": "undelete", "title": "Moved deleted 3", "reason": "restored"})
    incremental, asked = count_requests(lambda: compute(incremental_store, site, full=False))
    assert incremental == compute(full_store, site, full=True)
    # The restored page's history is read, not the contributions from the window's start.
    contribs = [a for a in asked if "usercontribs" in a]
    assert len(contribs) == 2 and not [a for a in contribs if window_start in a], contribs
    assert len([a for a in asked if "rvdir=newer" in a]) == 1
    assert {d.title for d in incremental.deleted_articles} == {"Moved deleted 2", "Moved deleted 4"}
    assert incremental.per_user["Alice"].articles_created == 3


def test_a_repeat_full_recount_asks_only_the_page_states_that_changed(
    wikis: Farm, tmp_path: Path
) -> None:
    alice = wikis.content.client("Alice")
    for n in range(1, 4):
        alice.edit(f"Known state {n}", f"Article {n}.")
    wikis.content.admin_client().edit(TITLE, program(wikis, ["Alice"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    store = Store(f"sqlite:///{tmp_path / 'repeat.sqlite'}")
    # A page state read within seconds of a change to it is asked again (the save may
    # not have been visible yet): let the articles' creations be older than that.
    time.sleep(SAVE_LAG.total_seconds() + 1)
    _, first = count_requests(lambda: compute(store, site, full=True))
    assert len([a for a in first if "prop=info&pageids" in a]) == 1  # all three in one request

    _, repeat = count_requests(lambda: compute(store, site, full=True))
    # The account check, the contributions, the upload log (and, where the store knows page
    # states, the recent changes): one request per wiki.
    reads = [a for a in repeat if "list=" in a]
    assert len(reads) == 2, reads
    assert all("list=users%7Cusercontribs%7Clogevents" in a for a in reads), reads
    assert not [a for a in repeat if "prop=info&pageids" in a], (
        "nothing changed: no page state asked"
    )

    wikis.content.client("Carol").edit("Known state 2", "#REDIRECT [[Known state 1]]")
    ids = {
        title: int(pageid)
        for pageid, title in wikis.content.sql(
            "SELECT page_id, page_title FROM page WHERE page_namespace = 0"
        )
    }
    outcomes, changed = count_requests(lambda: compute(store, site, full=True))
    asked = [a for a in changed if "prop=info&pageids" in a]
    assert len(asked) == 1 and f"pageids={ids['Known_state_2']}" in asked[0], asked
    assert outcomes == compute(Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}"), site, full=True)
    assert outcomes.per_user["Alice"].articles_created == 2


def test_a_revision_hidden_between_two_refreshes(wikis: Farm, tmp_path: Path) -> None:
    alice = wikis.content.client("Alice")
    alice.edit("Partly hidden", "Kept.")
    alice.append("Partly hidden", " Hidden soon.")
    admin = wikis.content.admin_client()
    admin.edit(TITLE, program(wikis, ["Alice"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    incremental_store = Store(f"sqlite:///{tmp_path / 'inc.sqlite'}")
    full_store = Store(f"sqlite:///{tmp_path / 'full.sqlite'}")
    for store in (incremental_store, full_store):
        assert compute(store, site, full=True).per_user["Alice"].edits == 2
    hidden = admin.latest_revid("Partly hidden")
    # Hiding a revision's user takes the deleterevision right (MediaWiki's suppress group).
    wikis.content.create_user("Revision hider", groups=["suppress"])
    wikis.content.client("Revision hider").post(
        {
            "action": "revisiondelete",
            "type": "revision",
            "target": "Partly hidden",
            "ids": hidden,
            "hide": "user",
        }
    )
    incremental, asked = count_requests(lambda: compute(incremental_store, site, full=False))
    assert incremental == compute(full_store, site, full=True)
    # Independently: the revisions the wiki still shows as Alice's (rev_deleted's user bit
    # is 4), the program page's own being the admin's.
    visible = wikis.content.sql(
        """SELECT COUNT(*) FROM revision r JOIN actor a ON a.actor_id = r.rev_actor
        WHERE a.actor_name = 'Alice' AND (r.rev_deleted & 4) = 0"""
    )[0][0]
    assert incremental.per_user["Alice"].edits == visible == 1
    assert len([a for a in asked if "rvdir=newer" in a]) == 1


def test_a_counted_article_moved_under_a_long_namespace_title_on_every_store(
    wikis: Farm, store_url: str
) -> None:
    """MediaWiki's 255 bytes are a title's without its namespace: an article of 250
    characters moved to the User talk namespace is 260 characters, as the store keeps it."""
    long = "L" * 250
    wikis.content.client("Alice").edit(long, "A long article.")
    admin = wikis.content.admin_client()
    admin.edit(TITLE, program(wikis, ["Alice"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    store = Store(store_url)
    assert compute(store, site, full=True).total.articles_created == 1
    admin.move(long, f"User talk:{long}", noredirect=True)
    incremental = compute(store, site, full=False)
    assert incremental.total.articles_created == 0 and incremental.total.edits == 1
    key = f"{wikis_host(site)}#{pywikibot.Page(site, TITLE).pageid}"
    titles = {page.title for page in store.remembered(key, wikis.content.host).pages.values()}
    assert titles == {f"User talk:{long}"}
    assert compute(store, site, full=True) == incremental


def test_a_remembered_revision_whose_page_moved_is_kept_under_the_title_now(
    wikis: Farm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A counted edit older than the fetch's overlap is not answered again: the move seen
    in the recent changes files it under the page's title now, as a full recount does."""
    import bot.wiki.fetch as fetch_module

    wikis.content.client("Alice").edit("Moved after counting", "An article.")
    admin = wikis.content.admin_client()
    admin.edit(TITLE, program(wikis, ["Alice"]))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    time.sleep(1.1)  # the edit a second before the count's mark (whole seconds)
    store = Store(f"sqlite:///{tmp_path / 'inc.sqlite'}")
    assert compute(store, site, full=True).total.articles_created == 1
    monkeypatch.setattr(fetch_module, "OVERLAP", timedelta(0))
    admin.move("Moved after counting", "Draft moved after counting", noredirect=True)
    key = f"{wikis_host(site)}#{pywikibot.Page(site, TITLE).pageid}"
    asked = count_requests(lambda: compute(store, site, full=False))[1]
    assert [a for a in asked if "usercontribs" in a], "asked since the mark, not in full"
    kept = store.remembered(key, wikis.content.host).revisions
    assert [rev.title for rev in kept] == ["Draft moved after counting"]
    full_store = Store(f"sqlite:///{tmp_path / 'full.sqlite'}")
    compute(full_store, site, full=True)
    assert kept == full_store.remembered(key, wikis.content.host).revisions
