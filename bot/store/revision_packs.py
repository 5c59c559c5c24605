"""Counted revisions packed many to a row, with what is known of their texts.

A refresh reads back every revision its program counted, tens of thousands of them, and
what their texts hold (for the references added); one row each, the rows alone cost
seconds to read. Packed ``PACK_SIZE`` revisions to a row, they cost what decompressing
them costs. Packs are cut from the revisions in revision-id order, so a recount that only
adds new revisions (higher ids) changes the last packs only, and only those are written
again.

A pack is compressed: a JSON line (the format, the counts, the text fields), then the
number fields as 64-bit little-endian integers, one array per field; revision ids and
times as differences from the one before (they ascend: small numbers compress well).
Numbers read back as an array and times made from whole seconds cost less than half of
what the same numbers parsed from JSON and added up as time spans do, and the read is on
every refresh's path. Format 1 (every field a JSON list) is read too.
"""

from __future__ import annotations

import json
import sys
import zlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import accumulate, pairwise
from types import MappingProxyType
from typing import Any

from bot.core.contributions import Revision
from bot.core.errors import StoreError
from bot.core.references import RevisionReferences
from bot.core.revision_table import (
    NAMESPACE,
    NEW,
    PAGEID,
    REVID,
    SIZEDIFF,
    TIMESTAMP,
    TITLE,
    USER,
    WIKIBASE,
    RevisionTable,
)

#: Revisions a pack holds (the last one of a program may hold fewer).
PACK_SIZE = 2000
#: Packs a process keeps unpacked (``unpack_kept``): 96,000 revisions, more than the
#: benchmark's program; about 45 MB at most (467 bytes a revision there, with its text).
KEPT_PACKS = 48
#: What a pack's first element says: the layout written (FORMAT), and the all-JSON one read too.
FORMAT = 2
JSON_FORMAT = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIELDS = 9
#: The number arrays of a revision (in this order), then of a known text.
_REVISION_NUMBERS = 7
_TEXT_NUMBERS = 3
_BIG_ENDIAN = sys.byteorder == "big"

#: A pack's content: its revisions, and what is known of their texts and their parents'.
Pack = tuple[RevisionTable, dict[int, RevisionReferences]]


def cut(
    revisions: Iterable[Revision], references: Mapping[int, RevisionReferences] | None = None
) -> list[Pack]:
    """The revisions in revision-id order, ``PACK_SIZE`` a pack, each with the texts
    ``references`` knows of its revisions and of their parents."""
    table = RevisionTable.from_revisions(revisions)
    ids = table.revids
    if any(a >= b for a, b in pairwise(ids)):
        table = RevisionTable.from_rows(sorted(table.rows(), key=lambda row: row[REVID]))
    known = references or {}
    packs = []
    for at in range(0, len(table), PACK_SIZE):
        part = table[at : at + PACK_SIZE]
        texts = {revid: known[revid] for revid in part.revids if revid in known}
        parents = {ref.parentid for ref in texts.values() if ref.parentid in known}
        texts.update({parent: known[parent] for parent in parents})
        packs.append((part, texts))
    return packs


def pack(revisions: Sequence[Revision], texts: Mapping[int, RevisionReferences]) -> bytes:
    """One pack's bytes (see the module's documentation)."""
    columns = RevisionTable.from_revisions(revisions).columns
    known = sorted(texts.items())
    head = [
        FORMAT,
        len(revisions),
        len(known),
        list(columns[USER]),
        list(columns[TITLE]),
        list(columns[WIKIBASE]),
    ]
    since = [moment - _EPOCH for moment in columns[TIMESTAMP]]
    numbers = [
        _deltas(columns[REVID]),
        list(columns[PAGEID]),
        list(columns[NAMESPACE]),
        _deltas([span.days * 86_400 + span.seconds for span in since]),
        [span.microseconds for span in since],
        list(columns[SIZEDIFF]),
        [int(new) for new in columns[NEW]],
        _deltas([revid for revid, _ in known]),
        [ref.parentid for _, ref in known],
        [-1 if ref.references is None else ref.references for _, ref in known],
    ]
    body = array("q", [n for field in numbers for n in field])
    if _BIG_ENDIAN:
        body.byteswap()
    line = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode()
    # The fastest level: the packs are read on every refresh, written on few.
    return zlib.compress(line + b"\n" + body.tobytes(), 1)


def unpack(data: bytes) -> tuple[RevisionTable, dict[int, RevisionReferences]]:
    """The revisions of one pack and the texts it knows; StoreError when the bytes are
    not a pack."""
    try:
        line, _, body = zlib.decompress(data).partition(b"\n")
        head = json.loads(line)
        if not isinstance(head, list) or not head:
            raise StoreError("a pack of counted revisions in an unknown format")
        if head[0] == JSON_FORMAT and not body:
            return _unpack_json(head[1:])
        if head[0] != FORMAT or len(head) != 6:
            raise StoreError(f"a pack of counted revisions in an unknown format ({head[0]!r})")
        _, count, texts, user, title, wikibase = head
        numbers = array("q")
        numbers.frombytes(body)
        if _BIG_ENDIAN:
            numbers.byteswap()
        if len(numbers) != _REVISION_NUMBERS * count + _TEXT_NUMBERS * texts or not (
            len(user) == len(title) == len(wikibase) == count
        ):
            raise StoreError("a pack of counted revisions cut short")
        revid, pageid, namespace, seconds, micros, sizediff, new = (
            numbers[n * count : (n + 1) * count] for n in range(_REVISION_NUMBERS)
        )
        at = _REVISION_NUMBERS * count
        text_revid, parent, refs = (
            numbers[at + n * texts : at + (n + 1) * texts] for n in range(_TEXT_NUMBERS)
        )
        times = [datetime.fromtimestamp(s, UTC) for s in accumulate(seconds)]
        if any(micros):
            times = [t.replace(microsecond=m) for t, m in zip(times, micros, strict=True)]
        flags = tuple(n != 0 for n in new)
        revisions = RevisionTable(
            (
                tuple(accumulate(revid)),
                tuple(user),
                tuple(pageid),
                tuple(namespace),
                tuple(title),
                tuple(times),
                tuple(sizediff),
                flags,
                tuple(wikibase),
            )
        )
        known = {
            r: RevisionReferences(p, None if n < 0 else n)
            for r, p, n in zip(accumulate(text_revid), parent, refs, strict=True)
        }
    except (zlib.error, ValueError, TypeError, OverflowError) as error:
        raise StoreError(f"a pack of counted revisions could not be read: {error}") from error
    return revisions, known


@lru_cache(maxsize=KEPT_PACKS)
def unpack_kept(data: bytes) -> tuple[RevisionTable, Mapping[int, RevisionReferences]]:
    """:func:`unpack` for a process that reads the same packs again: a scheduler refreshes
    each running program every few minutes, and an incremental refresh rewrites only its
    last packs. The packs unpacked last are kept by their bytes (the same bytes, the same
    revisions), and given read-only, as they are shared."""
    revisions, known = unpack(data)
    return revisions, MappingProxyType(known)


def _deltas(numbers: Sequence[int]) -> list[int]:
    """Each number less the one before it (the first as it is)."""
    return [b - a for a, b in zip((0, *numbers), numbers, strict=False)]


def _unpack_json(fields: list[Any]) -> tuple[RevisionTable, dict[int, RevisionReferences]]:
    """A pack in format 1: one JSON list per field, then the texts as
    [revision id, parent id, references or null]; times as microseconds since 1970."""
    if len(fields) != _FIELDS + 1:
        raise StoreError("a pack of counted revisions in the JSON format with a field missing")
    *columns, known = fields
    revid, user, pageid, namespace, title, micros, sizediff, new, wikibase = columns
    times = [_EPOCH + timedelta(microseconds=m) for m in micros]
    flags = [bool(n) for n in new]
    revisions = RevisionTable.from_rows(
        zip(revid, user, pageid, namespace, title, times, sizediff, flags, wikibase, strict=True)
    )
    texts = {int(r): RevisionReferences(int(parent), refs) for r, parent, refs in known}
    return revisions, texts
