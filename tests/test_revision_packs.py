"""Counted revisions packed many to a row, with what is known of their texts: read back
exactly, written only where changed."""

from __future__ import annotations

import json
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot.core.contributions import PageState, Revision, WikiRecords
from bot.core.errors import StoreError
from bot.core.references import RevisionReferences
from bot.store import FetchMark, Store, revision_packs
from bot.store.revision_packs import PACK_SIZE, cut, pack, unpack

WIKI = "en.wikipedia.org"
START = datetime(2026, 11, 1, tzinfo=UTC)


def revisions(first: int, count: int) -> list[Revision]:
    return [
        Revision(
            revid,
            f"Ålice {revid % 7}",
            revid // 3,
            (0, 2, 118)[revid % 3],
            f"Страница «{revid // 3}»",
            START + timedelta(seconds=revid, microseconds=revid % 1000),
            (revid % 11) - 5,
            revid % 3 == 0,
            "wbsetclaim-create:2|1" if revid % 5 == 0 else "",
        )
        for revid in range(first, first + count)
    ]


def test_a_pack_gives_back_every_field_exactly() -> None:
    some = revisions(1, 50)
    texts = {
        1: RevisionReferences(0, 3),
        2: RevisionReferences(1, None),
        99: RevisionReferences(7, 0),
    }
    assert unpack(pack(some, texts)) == (some, texts)
    assert unpack(pack([], {})) == ([], {})
    # Whole seconds (as MediaWiki keeps times), ids past 2**31 (Wikidata's), in any order.
    whole = [
        replace(rev, revid=2**31 + 7 - rev.revid, timestamp=rev.timestamp.replace(microsecond=0))
        for rev in some
    ]
    assert unpack(pack(whole, {2**40: RevisionReferences(2**31, 5)})) == (
        whole,
        {2**40: RevisionReferences(2**31, 5)},
    )


def json_pack(revisions: list[Revision], texts: dict[int, RevisionReferences]) -> bytes:
    """A pack in format 1, one JSON list per field, as a store may still hold them."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    columns = [
        [getattr(rev, name) for rev in revisions]
        for name in ("revid", "user", "pageid", "namespace", "title")
    ]
    columns.append([(rev.timestamp - epoch) // timedelta(microseconds=1) for rev in revisions])
    columns += [[getattr(rev, name) for rev in revisions] for name in ("sizediff", "new")]
    columns.append([rev.wikibase for rev in revisions])
    known = [[revid, ref.parentid, ref.references] for revid, ref in texts.items()]
    return zlib.compress(json.dumps([1, *columns, known], ensure_ascii=False).encode())


def test_a_pack_in_format_1_is_read_the_same() -> None:
    some = revisions(1, 50)
    texts = {1: RevisionReferences(0, 3), 2: RevisionReferences(1, None)}
    assert unpack(json_pack(some, texts)) == (some, texts) == unpack(pack(some, texts))


def test_packs_are_cut_in_revision_order_with_the_texts_of_their_revisions() -> None:
    some = revisions(1, 2 * PACK_SIZE + 3)
    texts = {
        5: RevisionReferences(4, 1),  # its parent's text is not known
        PACK_SIZE + 2: RevisionReferences(PACK_SIZE - 1, 2),  # its parent is in pack 0
        PACK_SIZE - 1: RevisionReferences(0, 1),
        50_000: RevisionReferences(0, 9),  # no revision of these
    }
    packs = cut(reversed(some), texts)
    assert [len(p) for p, _ in packs] == [PACK_SIZE, PACK_SIZE, 3]
    assert [rev for p, _ in packs for rev in p] == some
    assert [known for _, known in packs] == [
        {5: texts[5], PACK_SIZE - 1: texts[PACK_SIZE - 1]},
        {PACK_SIZE + 2: texts[PACK_SIZE + 2], PACK_SIZE - 1: texts[PACK_SIZE - 1]},
        {},
    ]
    assert cut([]) == []


@pytest.mark.parametrize(
    "data",
    [
        b"not a pack",
        zlib.compress(b"[2, [], [], [], [], [], [], [], [], []]"),
        zlib.compress(b"{}"),
        zlib.compress(b"[1, [], []]"),
        zlib.compress(b'[2, 1, 0, ["A"], ["T"], [""]]\n' + bytes(8 * 6)),
        zlib.compress(b'[2, 1, 0, ["A"], ["T"]]\n' + bytes(8 * 7)),
        zlib.compress(b"[3, 0, 0, [], [], []]\n"),
    ],
)
def test_bytes_that_are_no_pack_are_a_store_error(data: bytes) -> None:
    with pytest.raises(StoreError, match="pack of counted revisions"):
        unpack(data)


def pack_writes(store: Store) -> list[int]:
    """The packs each INSERT into the packs' table writes, by number, as they happen."""
    written: list[int] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if statement.startswith("INSERT INTO counted_revision_packs"):
            rows = params if isinstance(params, list) else [params]
            written.extend(row[2] if isinstance(row, tuple) else row["pack"] for row in rows)

    event.listen(store.engine, "before_cursor_execute", seen)
    return written


def test_a_recount_that_adds_revisions_writes_only_the_last_packs(store_url: str) -> None:
    store = Store(store_url)
    pages = {1: PageState(1, 0, "P")}
    mark = FetchMark(START, "f")
    old = revisions(1, 2 * PACK_SIZE + 10)
    texts = {3: RevisionReferences(2, 4), 2: RevisionReferences(0, 1)}
    first = WikiRecords(WIKI, tuple(old), pages, references=texts)
    store.remember_refresh("p#1", [first], [(WIKI, mark)])
    assert store.remembered("p#1", WIKI) == first

    written = pack_writes(store)
    more = replace(first, revisions=(*old, *revisions(10_000, 5)))
    store.remember_refresh("p#1", [more], [(WIKI, mark)], {WIKI: first})
    assert written == [2]
    assert store.remembered("p#1", WIKI) == more

    # A text read for the first time is kept with its revision: that pack is written.
    written.clear()
    read = replace(more, references={**texts, 10_001: RevisionReferences(10_000, 2)})
    store.remember_refresh("p#1", [read], [(WIKI, mark)], {WIKI: more})
    assert written == [2]
    assert store.remembered("p#1", WIKI) == read

    # A revision gone from the first pack (hidden since) moves every later one up a place.
    written.clear()
    fewer = replace(read, revisions=read.revisions[1:])
    store.remember_refresh("p#1", [fewer], [(WIKI, mark)], {WIKI: read})
    assert written == [0, 1, 2]
    assert store.remembered("p#1", WIKI) == fewer

    written.clear()
    store.remember_refresh("p#1", [fewer], [(WIKI, mark)], {WIKI: fewer})
    assert written == []
    store.remember("p#1", WIKI, fewer.revisions[:3], pages)
    assert written == [0]
    assert store.remembered("p#1", WIKI) == WikiRecords(WIKI, fewer.revisions[:3], pages)


def test_a_process_unpacks_again_only_the_packs_that_changed(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a scheduler does every few minutes: read a program's packs back after a
    refresh that rewrote only its last one."""
    store = Store(store_url)
    unpacked: list[int] = []

    def counting(data: bytes) -> tuple[list[Revision], dict[int, RevisionReferences]]:
        found = unpack(data)
        unpacked.append(found[0][0].revid)
        return found

    monkeypatch.setattr(revision_packs, "unpack", counting)
    revision_packs.unpack_kept.cache_clear()
    mark = FetchMark(START, "f")
    first = WikiRecords(WIKI, tuple(revisions(1, 2 * PACK_SIZE + 10)), {1: PageState(1, 0, "P")})
    store.remember_refresh("p#1", [first], [(WIKI, mark)])
    assert store.remembered("p#1", WIKI) == first
    assert unpacked == [1, PACK_SIZE + 1, 2 * PACK_SIZE + 1]
    unpacked.clear()
    assert store.remembered("p#1", WIKI) == first
    assert unpacked == []

    more = replace(first, revisions=(*first.revisions, *revisions(10_000, 5)))
    store.remember_refresh("p#1", [more], [(WIKI, mark)], {WIKI: first})
    assert store.remembered("p#1", WIKI) == more
    assert unpacked == [2 * PACK_SIZE + 1]  # the last pack only: the others are the same bytes

    # Shared between reads, so read-only.
    _, known = revision_packs.unpack_kept(pack(revisions(1, 3), {1: RevisionReferences(0, 2)}))
    with pytest.raises(TypeError):
        known[2] = RevisionReferences(1, 1)  # type: ignore[index]


def test_a_process_keeps_a_bounded_number_of_packs_unpacked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unpacked: list[bytes] = []

    def counting(data: bytes) -> tuple[list[Revision], dict[int, RevisionReferences]]:
        unpacked.append(data)
        return unpack(data)

    monkeypatch.setattr(revision_packs, "unpack", counting)
    revision_packs.unpack_kept.cache_clear()
    packs = [pack(revisions(n * 10 + 1, 10), {}) for n in range(revision_packs.KEPT_PACKS + 1)]
    for data in packs:
        revision_packs.unpack_kept(data)
    revision_packs.unpack_kept(packs[-1])  # kept
    revision_packs.unpack_kept(packs[0])  # the oldest: dropped for the last one
    assert len(unpacked) == revision_packs.KEPT_PACKS + 2
    assert unpacked[-1] == packs[0]
