"""The store's contract, run against SQLite, MariaDB and PostgreSQL alike."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from bot.core.contributions import PageState, Revision, Upload, WikiRecords
from bot.core.model import Window
from bot.core.references import RevisionReferences
from bot.store import (
    APPLIED,
    FAILED,
    JOIN,
    LEAVE,
    RECORDED,
    SUPERSEDED,
    ApiToken,
    FetchMark,
    ProgramSnapshot,
    Store,
)

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
WIKI, TITLE = "en.wikipedia.org", "Wikipedia:Meetup/Test"
#: The schema's migrations, oldest first: what a fresh database lacks.
EVERY_MIGRATION = [
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
    "0011",
]


@pytest.fixture
def store(store_url: str) -> Store:
    return Store(store_url)


def test_migrations_run_once_and_again(store_url: str) -> None:
    Store(store_url)
    second = Store(store_url)  # a second open finds the schema at head and changes nothing
    with second.engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert version == EVERY_MIGRATION[-1]


def test_pending_migrations_name_what_a_database_lacks(store_url: str) -> None:
    fresh = Store(store_url, migrate=False)
    assert fresh.pending_migrations() == EVERY_MIGRATION
    with fresh.engine.connect() as conn:  # nothing was created by asking
        assert not conn.dialect.has_table(conn, "api_tokens")
    fresh.migrate()
    assert fresh.pending_migrations() == []


def test_the_newest_migration_is_told_by_the_file_names() -> None:
    """The store tells an up-to-date schema from the migrations' file names: each is
    named by its revision, and each follows the one before."""
    from alembic.script import ScriptDirectory

    from bot.store.database import MIGRATIONS, newest_migration

    scripts = ScriptDirectory(str(MIGRATIONS))
    assert newest_migration() == scripts.get_current_head() == EVERY_MIGRATION[-1]
    chain = list(reversed(list(scripts.walk_revisions())))
    assert [script.revision for script in chain] == EVERY_MIGRATION
    for before, script in zip([None, *EVERY_MIGRATION], chain, strict=False):
        assert script.down_revision == before
        assert Path(str(script.path)).name.startswith(f"{script.revision}_")


def test_opening_an_up_to_date_store_imports_no_migration_tool(store_url: str) -> None:
    """Every command opens the store: one at the newest migration is opened without
    Alembic; one behind it is still brought up to date."""
    behind = store_at(store_url, EVERY_MIGRATION[-2])
    assert behind.pending_migrations() == EVERY_MIGRATION[-1:]
    assert Store(store_url).pending_migrations() == []
    code = (
        "import sys\n"
        "from bot.store import Store\n"
        f"Store({store_url!r})\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'alembic'))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert shown.strip() == "[]"


def empty_store(url: str) -> None:
    """Make the database at ``url`` fresh again: no table, no schema version."""
    engine = sqlalchemy.create_engine(url)
    try:
        metadata = sqlalchemy.MetaData()
        metadata.reflect(engine)
        metadata.drop_all(engine)
    finally:
        engine.dispose()
    assert Store(url, migrate=False).pending_migrations() == EVERY_MIGRATION


#: A bot process opening the store: it says when it is ready, then opens the store as soon
#: as the file named by argv[2] exists, so that every process opens it at the same moment.
OPENER = """
import sys, time
from pathlib import Path
from bot.store import Store
Path(sys.argv[3]).touch()
while not Path(sys.argv[2]).exists():
    time.sleep(0.002)
Store(sys.argv[1])
"""


def open_at_once(url: str, tmp_path: Path, processes: int) -> list[tuple[int, str]]:
    """``Store(url)`` in ``processes`` processes at once; each one's exit status and stderr."""
    go = tmp_path / "go"
    go.unlink(missing_ok=True)
    ready = [tmp_path / f"ready-{n}" for n in range(processes)]
    for path in ready:
        path.unlink(missing_ok=True)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, url, str(go), str(path)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in ready
    ]
    deadline = time.monotonic() + 120
    while not all(path.exists() for path in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    return [(child.wait(120), child.stderr.read() if child.stderr else "") for child in children]


def test_processes_opening_a_fresh_store_at_once_migrate_it_once(
    store_url: str, tmp_path: Path
) -> None:
    """The bot's processes (and the API's workers) may all start on a fresh database: one
    of them makes the schema under the database's lock, the others wait and find it made."""
    for _ in range(3):
        empty_store(store_url)
        results = open_at_once(store_url, tmp_path, processes=6)
        assert [status for status, _ in results] == [0] * 6, [err for _, err in results]
        reopened = Store(store_url, migrate=False)
        assert reopened.pending_migrations() == []
        with reopened.engine.connect() as conn:
            versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
            assert [tuple(row) for row in versions] == [(EVERY_MIGRATION[-1],)]
            assert conn.dialect.has_table(conn, "api_tokens")
        reopened.engine.dispose()


def test_a_kept_session_bundle_is_replaced_by_a_newer_one(store: Store) -> None:
    """Bundles of several megabytes fit on every engine (MariaDB's BLOB holds 64 kB)."""
    assert store.kept_session("a" * 64) is None
    big = bytes(range(256)) * (3 * 1024 * 1024 // 256)
    store.keep_session("a" * 64, big, NOW)
    store.keep_session("b" * 64, b"other bot", NOW)
    assert store.kept_session("a" * 64) == big
    store.keep_session("a" * 64, b"newer", NOW + timedelta(minutes=1))
    assert store.kept_session("a" * 64) == b"newer"
    assert store.kept_session("b" * 64) == b"other bot"


def test_remembered_revisions_round_trip(store: Store) -> None:
    rev = Revision(7, "Alice", 3, 0, "Ada Lovelace", NOW, 120, True)
    page = PageState(3, 0, "Ada Lovelace", redirect=False, deleted=True, in_scope=True)
    upload = Upload("Alice", "File:A.png", NOW)
    store.remember("p#1", WIKI, [rev], {3: page}, [upload])
    assert store.remembered("p#1", WIKI) == WikiRecords(WIKI, (rev,), {3: page}, (upload,))
    store.remember("p#1", WIKI, [], {})
    assert store.remembered("p#1", WIKI) == WikiRecords(WIKI)


def test_texts_known_before_are_looked_up_only_for_new_revisions(store: Store) -> None:
    """A recount reads what the store knows of the texts counted last time while the wikis
    answer; afterwards only the revisions new to it are looked up."""
    revs = [Revision(r, "Alice", 3, 0, "Ada", NOW, 10, r == 10) for r in (10, 12, 15)]
    refs = {
        9: RevisionReferences(0, 1),  # 10's parent, not counted itself
        10: RevisionReferences(9, 2),
        12: RevisionReferences(11, None),  # unreadable; its parent 11 is not known
        15: RevisionReferences(12, 4),
        40: RevisionReferences(0, 7),  # another program's
    }
    store.remember_revision_references(WIKI, refs)
    store.remember_revision_references("other.wiki", {10: RevisionReferences(0, 3)})
    before = store.revision_references_of(WIKI, [rev.revid for rev in revs])
    assert before == {revid: refs[revid] for revid in (9, 10, 12, 15)}
    more = [rev.revid for rev in revs] + [40, 41]  # 41: not known at all
    looked_up: list[list[int]] = []
    original = store.revision_references_of

    def watched(wiki: str, revids: Any) -> Any:
        revids = list(revids)
        looked_up.append(revids)
        return original(wiki, revids)

    store.revision_references_of = watched  # type: ignore[method-assign]
    found = store.references_of_revisions(WIKI, more, before)
    assert found == {revid: refs[revid] for revid in (9, 10, 12, 15, 40)}
    assert found == original(WIKI, more)
    assert looked_up == [[40, 41]]


def test_live_pages_are_those_not_deleted(store: Store) -> None:
    assert not store.has_live_pages("p#1", WIKI)
    gone = PageState(3, 0, "Ada", deleted=True)
    store.remember("p#1", WIKI, [], {3: gone})
    assert not store.has_live_pages("p#1", WIKI)
    store.remember("p#1", WIKI, [], {3: gone, 4: PageState(4, 0, "Bo")})
    assert store.has_live_pages("p#1", WIKI)
    assert not store.has_live_pages("p#1", "other.wiki")


def test_tokens_expire_and_are_found_by_hash_only(store: Store) -> None:
    token = ApiToken(
        "a" * 64,
        WIKI,
        "Alice",
        12,
        False,
        NOW - timedelta(days=3),
        40,
        NOW,
        NOW + timedelta(hours=1),
    )
    store.add_token(token)
    assert store.find_token("a" * 64, NOW) == token
    assert store.find_token("b" * 64, NOW) is None
    assert store.find_token("a" * 64, NOW + timedelta(hours=1)) is None
    assert store.purge_expired_tokens(NOW + timedelta(hours=2)) == 1
    assert store.find_token("a" * 64, NOW) is None


def test_joining_twice_is_one_request(store: Store) -> None:
    first, created = store.record_join(WIKI, TITLE, "Alice", JOIN, NOW)
    assert created and first.state == RECORDED
    again, created_again = store.record_join(WIKI, TITLE, "Alice", JOIN, NOW)
    assert (again, created_again) == (first, False)
    store.finish_joins([first.id], APPLIED, NOW, revid=42)
    applied, created = store.record_join(WIKI, TITLE, "Alice", JOIN, NOW)
    assert not created and applied.state == APPLIED and applied.revid == 42


def test_a_leave_supersedes_a_waiting_join(store: Store) -> None:
    join, _ = store.record_join(WIKI, TITLE, "Alice", JOIN, NOW)
    leave, created = store.record_join(WIKI, TITLE, "Alice", LEAVE, NOW)
    assert created
    assert store.join_request(join.id).state == SUPERSEDED  # type: ignore[union-attr]
    assert store.pending_joins(WIKI, TITLE) == [leave]
    assert store.latest_join(WIKI, TITLE, "Alice") == leave


def test_pending_pages_and_finishing(store: Store) -> None:
    a, _ = store.record_join(WIKI, TITLE, "Alice", JOIN, NOW)
    b, _ = store.record_join(WIKI, "Other", "Bob", JOIN, NOW)
    c, _ = store.record_join(WIKI, TITLE, "Carol", JOIN, NOW)
    assert store.pending_pages() == [(WIKI, TITLE), (WIKI, "Other")]
    assert [r.username for r in store.pending_joins(WIKI, TITLE)] == ["Alice", "Carol"]
    store.note_attempt([a.id, c.id], "wiki unavailable", NOW)
    waiting = store.pending_joins(WIKI, TITLE)
    assert [(r.attempts, r.reason) for r in waiting] == [(1, "wiki unavailable")] * 2
    store.finish_joins([a.id], APPLIED, NOW, revid=5)
    store.finish_joins([c.id], FAILED, NOW, reason="not a program")
    store.finish_joins([c.id], APPLIED, NOW)  # a finished request is never changed again
    assert store.join_request(c.id).state == FAILED  # type: ignore[union-attr]
    assert store.pending_pages() == [(WIKI, "Other")]
    assert store.latest_join(WIKI, TITLE, "Alice", states=[APPLIED]).revid == 5  # type: ignore[union-attr]
    assert store.count_join_requests(NOW - timedelta(minutes=1), username="Bob") == 1
    assert b.state == RECORDED


def test_simultaneous_identical_joins_make_one_request(store: Store) -> None:
    results: list[tuple[int, bool]] = []
    barrier = threading.Barrier(8)

    def join() -> None:
        barrier.wait()
        request, created = store.record_join(WIKI, TITLE, "Alice", JOIN, NOW)
        results.append((request.id, created))

    threads = [threading.Thread(target=join) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({request_id for request_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(store.pending_joins(WIKI, TITLE)) == 1


def test_page_claims_are_exclusive_until_the_lease_ends(store: Store) -> None:
    lease = timedelta(seconds=30)
    assert store.claim_page(WIKI, TITLE, "w1", NOW, lease)
    assert not store.claim_page(WIKI, TITLE, "w2", NOW + timedelta(seconds=10), lease)
    assert store.claim_page(WIKI, TITLE, "w1", NOW + timedelta(seconds=10), lease)  # renew
    assert store.claim_page(WIKI, TITLE, "w2", NOW + timedelta(seconds=41), lease)  # expired
    store.release_page(WIKI, TITLE, "w1")  # not the holder: nothing happens
    assert not store.claim_page(WIKI, TITLE, "w3", NOW + timedelta(seconds=42), lease)
    store.release_page(WIKI, TITLE, "w2")
    assert store.claim_page(WIKI, TITLE, "w3", NOW + timedelta(seconds=42), lease)


def test_only_one_of_many_racing_workers_gets_a_page(store: Store) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def claim(name: str) -> None:
        barrier.wait()
        if store.claim_page(WIKI, TITLE, name, NOW, timedelta(seconds=30)):
            winners.append(name)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_refresh_requests_are_counted_for_rate_limits(store: Store) -> None:
    first = store.add_refresh_request(WIKI, TITLE, "Alice", NOW)
    store.add_refresh_request(WIKI, TITLE, "Bob", NOW + timedelta(seconds=30))
    store.add_refresh_request(WIKI, "Other", "Alice", NOW + timedelta(seconds=40))
    since = NOW - timedelta(minutes=1)
    assert store.count_refresh_requests(since, username="Alice") == 2
    assert store.count_refresh_requests(since, wiki=WIKI, title=TITLE) == 2
    assert store.count_refresh_requests(NOW + timedelta(seconds=35)) == 1
    store.finish_refresh_requests([first.id], NOW)
    assert [r.username for r in store.pending_refresh_requests()] == ["Bob", "Alice"]


def test_program_snapshots_replace_older_ones(store: Store) -> None:
    snapshot = ProgramSnapshot(
        WIKI, TITLE, "Edit-a-thon", "open", NOW, NOW + timedelta(days=1), ("Alice", "Bob"), NOW
    )
    store.save_program(snapshot)
    assert store.program(WIKI, TITLE) == snapshot
    newer = ProgramSnapshot(WIKI, TITLE, "Edit-a-thon", "closed", None, None, (), NOW)
    store.save_program(newer)
    assert store.program(WIKI, TITLE) == newer
    assert store.program(WIKI, "Nothing") is None


def test_long_unicode_names_survive(store: Store) -> None:
    title = "Wikipedia:Événement/" + "ש" * 200
    request, _ = store.record_join(WIKI, title, "Ünïcödé 用户", JOIN, NOW)
    assert store.pending_joins(WIKI, title)[0].username == "Ünïcödé 用户"
    assert request.title == title


def test_uploads_and_fetch_marks_round_trip(store: Store) -> None:
    from bot.core.contributions import Upload

    uploads = [Upload("Alice", "File:A.png", NOW), Upload("Bob", "File:B.png", NOW)]
    store.remember("p#1", WIKI, [], {}, uploads)
    assert sorted(store.remembered_uploads("p#1", WIKI), key=lambda u: u.title) == uploads
    assert store.fetch_mark("p#1", WIKI) is None
    store.set_fetch_mark("p#1", WIKI, FetchMark(NOW, "f" * 64))
    later = FetchMark(NOW + timedelta(minutes=1), "e" * 64, frozenset({"Alice"}), frozenset({"B#"}))
    store.set_fetch_mark("p#1", WIKI, later)
    assert store.fetch_mark("p#1", WIKI) == later
    store.forget_fetch_marks("p#1")
    assert store.fetch_mark("p#1", WIKI) is None


def test_the_schedule(store: Store) -> None:
    assert store.add_to_schedule(WIKI, TITLE, "program", "running", NOW)
    assert not store.add_to_schedule(WIKI, TITLE, "program", "running", NOW)  # known already
    store.add_to_schedule(WIKI, "Later", "program", "upcoming", NOW + timedelta(hours=1))
    assert [e.title for e in store.due_entries(NOW)] == [TITLE]
    store.update_schedule(
        WIKI,
        TITLE,
        next_due=NOW + timedelta(minutes=5),
        participants=("Alice", "Bob"),
        last_error=None,
        live_report='{"total": 1}',
        edit_pending=True,
    )
    entry = store.schedule_entry(WIKI, TITLE)
    assert entry is not None and entry.participants == ("Alice", "Bob") and entry.edit_pending
    assert store.due_entries(NOW) == []
    assert store.make_due(WIKI, [TITLE, "Later"], NOW) == 2
    assert store.make_due(WIKI, [TITLE], NOW + timedelta(minutes=1)) == 0  # never later
    assert [e.title for e in store.schedule_entries()] == [TITLE, "Later"] or [
        e.title for e in store.schedule_entries()
    ] == ["Later", TITLE]


def alembic_config() -> Any:
    """Alembic's configuration for the store's migrations, to move a test store to a
    given version."""
    from alembic.config import Config

    from bot.store.database import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def store_at(store_url: str, version: str) -> Store:
    """A fresh store whose schema stops at ``version``, for the migrations after it."""
    from alembic import command

    config = alembic_config()
    store = Store(store_url, migrate=False)
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, version)
    return store


def test_counted_revisions_of_a_store_before_packs_are_kept_through_the_upgrade(
    store_url: str,
) -> None:
    """A store at 0007 kept one row per counted revision; the upgrade packs them, every
    field as it was, and the downgrade gives the rows back."""
    from alembic import command

    from bot.store.revision_packs import PACK_SIZE

    config = alembic_config()
    rows = sqlalchemy.table(
        "counted_revisions",
        *(
            sqlalchemy.column(name)
            for name in ("program", "wiki", "revid", "user", "pageid", "namespace", "title")
        ),
        sqlalchemy.column("timestamp", sqlalchemy.DateTime),
        *(sqlalchemy.column(name) for name in ("sizediff", "new", "wikibase")),
    )
    kept = {
        ("p#1", WIKI): [
            Revision(
                n,
                "Ålice",
                n // 4,
                n % 3,
                f"Ваня {n}",
                NOW + timedelta(seconds=n),
                n - 9,
                n % 4 == 0,
                "wbeditentity-create:0|" if n == 7 else "",
            )
            for n in range(1, PACK_SIZE + 40)
        ],
        ("p#1", "other.wiki"): [Revision(5, "Bob", 1, 0, "B", NOW, -3, False)],
        ("p#2", WIKI): [],
    }
    store = Store(store_url, migrate=False)
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")
        for (program, wiki), revs in kept.items():
            for rev in revs:
                values = {name: getattr(rev, name) for name in Revision.__dataclass_fields__}
                values["timestamp"] = rev.timestamp.replace(tzinfo=None)
                conn.execute(sqlalchemy.insert(rows).values(program=program, wiki=wiki, **values))
    assert store.migrate() == EVERY_MIGRATION[7:]
    for (program, wiki), revs in kept.items():
        assert store.remembered(program, wiki) == WikiRecords(wiki, tuple(revs))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")
        back = conn.execute(
            sqlalchemy.select(rows).order_by(rows.c.program, rows.c.wiki, rows.c.revid)
        ).all()
    assert len(back) == PACK_SIZE + 39 + 1
    assert back[0]._mapping["title"] == "Ваня 1"
    assert back[0]._mapping["timestamp"] == (NOW + timedelta(seconds=1)).replace(tzinfo=None)


#: A Wikidata revision id of 2024: above what a 32-bit column holds.
BEYOND_32_BITS = 2**31 + 12_345


def test_revision_ids_beyond_32_bits_are_kept(store: Store) -> None:
    refs = {
        BEYOND_32_BITS: RevisionReferences(BEYOND_32_BITS - 7, 2),
        BEYOND_32_BITS - 7: RevisionReferences(0, 1),
    }
    store.remember_revision_references("www.wikidata.org", refs)
    assert store.revision_references("www.wikidata.org", refs) == refs
    join, _ = store.record_join("www.wikidata.org", "Wikidata:Test", "Alice", JOIN, NOW)
    store.finish_joins([join.id], APPLIED, NOW, revid=BEYOND_32_BITS)
    assert store.join_request(join.id).revid == BEYOND_32_BITS  # type: ignore[union-attr]


def test_ids_and_titles_of_a_store_before_they_were_wider_are_kept_through_the_upgrade(
    store_url: str,
) -> None:
    from alembic import command

    config = alembic_config()
    store = store_at(store_url, "0008")
    old = {2**31 - 1: RevisionReferences(2**31 - 2, 4), 5: RevisionReferences(0, None)}
    store.remember_revision_references(WIKI, old)
    join, _ = store.record_join(WIKI, TITLE, "Alice", JOIN, NOW)
    store.finish_joins([join.id], APPLIED, NOW, revid=2**31 - 1)
    page = PageState(4, 0, "Ä" * 255)
    store.remember("p#1", WIKI, [], {4: page})
    assert store.migrate() == ["0009", "0010", "0011"]
    assert store.revision_references(WIKI, old) == old
    assert store.join_request(join.id).revid == 2**31 - 1  # type: ignore[union-attr]
    assert store.remembered("p#1", WIKI).pages == {4: page}
    new = {BEYOND_32_BITS: RevisionReferences(2**31 - 1, 6)}
    store.remember_revision_references(WIKI, new)
    assert store.revision_references(WIKI, [*old, *new]) == {**old, **new}
    moved = PageState(4, 3, "Обсуждение участника:" + "Ä" * 255)  # 276 characters
    store.remember("p#1", WIKI, [], {4: moved})
    assert store.remembered("p#1", WIKI).pages == {4: moved}
    store.remember("p#1", WIKI, [], {4: page})
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        conn.execute(
            sqlalchemy.text("DELETE FROM revision_references WHERE revid = :r"),
            {"r": BEYOND_32_BITS},
        )
        command.downgrade(config, "0008")
    assert store.revision_references(WIKI, old) == old


def test_a_store_in_memory_is_one_for_every_thread() -> None:
    """A refresh remembers in a thread of its own: it must write where the caller reads."""
    store = Store("sqlite://")
    written = threading.Thread(
        target=store.add_to_schedule, args=(WIKI, TITLE, "program", "running", NOW)
    )
    written.start()
    written.join()
    assert [(e.wiki, e.title) for e in store.schedule_entries()] == [(WIKI, TITLE)]


#: A program page's title with its namespace, 276 characters (longer in bytes than MediaWiki
#: allows after the namespace: the store keeps characters, so this bounds what it must hold).
LONGEST = "Обсуждение Википедии:" + "Ä" * 254 + "1"
#: The same title but for its last character: MariaDB's indexes keep the first 255 only.
LONGEST_TWIN = LONGEST[:-1] + "2"


def keep_program_page(store: Store, title: str, username: str) -> int:
    """A program page's rows in every table that keeps its title; the join request's id."""
    assert store.add_to_schedule(WIKI, title, "program", "running", NOW)
    assert store.claim_page(WIKI, title, "w1", NOW, timedelta(seconds=30))
    store.add_refresh_request(WIKI, title, username, NOW)
    store.save_program(ProgramSnapshot(WIKI, title, "Edit-a-thon", "open", NOW, None, (), NOW))
    request, _ = store.record_join(WIKI, title, username, JOIN, NOW)
    return request.id


def test_program_pages_with_the_longest_titles_are_kept(store: Store) -> None:
    for title in (LONGEST, LONGEST_TWIN):
        keep_program_page(store, title, "Alice")
    assert {e.title for e in store.schedule_entries()} == {LONGEST, LONGEST_TWIN}
    assert not store.claim_page(WIKI, LONGEST, "w2", NOW, timedelta(seconds=30))
    assert store.count_refresh_requests(NOW - timedelta(minutes=1), wiki=WIKI, title=LONGEST) == 1
    assert store.program(WIKI, LONGEST_TWIN) is not None
    for title in (LONGEST, LONGEST_TWIN):
        assert [(j.title, j.username) for j in store.pending_joins(WIKI, title)] == [
            (title, "Alice")
        ]
    _, new = store.record_join(WIKI, LONGEST, "Alice", JOIN, NOW)
    assert not new and len(store.pending_joins(WIKI, LONGEST)) == 1  # found, not made again


def test_program_titles_of_a_store_before_they_were_wider_are_kept_through_the_upgrade(
    store_url: str,
) -> None:
    store = store_at(store_url, "0009")
    old = keep_program_page(store, TITLE, "Alice")
    assert store.migrate() == ["0010", "0011"]
    assert [e.title for e in store.schedule_entries()] == [TITLE]
    assert store.join_request(old).title == TITLE  # type: ignore[union-attr]
    assert store.program(WIKI, TITLE) is not None
    keep_program_page(store, LONGEST, "Bob")
    assert [j.username for j in store.pending_joins(WIKI, LONGEST)] == ["Bob"]


def test_fetch_marks_of_a_store_before_windows_were_kept_read_without_one(
    store_url: str,
) -> None:
    """0011 keeps the window a mark was made for; marks written before read as having
    none (their refresh asks the wikis after the parse), and a window reads back as it was
    written on every database."""
    store = store_at(store_url, "0010")
    with store.engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO fetch_marks (program, wiki, fetched_until, fingerprint) "
                "VALUES ('p#1', :wiki, :until, :fingerprint)"
            ),
            {"wiki": WIKI, "until": NOW.replace(tzinfo=None), "fingerprint": "f" * 64},
        )
    assert store.migrate() == ["0011"]
    old = store.fetch_mark("p#1", WIKI)
    assert old is not None and old.fetched_until == NOW and old.window is None
    window = Window(
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
    )
    store.set_fetch_mark(
        "p#1", WIKI, replace(old, window_start=window.start, window_end=window.end)
    )
    assert store.fetch_marks("p#1") == {
        WIKI: replace(old, window_start=window.start, window_end=window.end)
    }
    assert store.fetch_marks("p#1")[WIKI].window == window
    assert store.fetch_marks("p#2") == {}
