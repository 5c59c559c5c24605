"""Counted revisions packed many to a row, with what is known of their texts.

A refresh reads back every revision its program counted, tens of thousands of them, and
what their texts hold (for the references added); one row each, the rows alone cost
seconds to read. Packed ``PACK_SIZE`` revisions to a row (compressed JSON, one list per
field, then the texts known of them and of their parents), they cost what decompressing
them costs. Packs are cut from the revisions in revision-id order, so a recount that only
adds new revisions (higher ids) changes the last packs only, and only those are written
again.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from bot.core.contributions import Revision
from bot.core.errors import StoreError
from bot.core.references import RevisionReferences

#: Revisions a pack holds (the last one of a program may hold fewer).
PACK_SIZE = 2000
#: What a pack's first element says: the layout below.
FORMAT = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIELDS = 9

#: A pack's content: its revisions, and what is known of their texts and their parents'.
Pack = tuple[tuple[Revision, ...], dict[int, RevisionReferences]]


def cut(
    revisions: Iterable[Revision], references: Mapping[int, RevisionReferences] | None = None
) -> list[Pack]:
    """The revisions in revision-id order, ``PACK_SIZE`` a pack, each with the texts
    ``references`` knows of its revisions and of their parents."""
    ordered = sorted(revisions, key=lambda rev: rev.revid)
    known = references or {}
    packs = []
    for at in range(0, len(ordered), PACK_SIZE):
        part = tuple(ordered[at : at + PACK_SIZE])
        texts = {rev.revid: known[rev.revid] for rev in part if rev.revid in known}
        parents = {ref.parentid for ref in texts.values() if ref.parentid in known}
        texts.update({parent: known[parent] for parent in parents})
        packs.append((part, texts))
    return packs


def pack(revisions: Sequence[Revision], texts: Mapping[int, RevisionReferences]) -> bytes:
    """One pack's bytes: the format, then each field's values in the revisions' order
    (times as whole microseconds since 1970 UTC: exact, and cheap to read back), then the
    texts as [revision id, parent id, references or null]."""
    columns = [
        [rev.revid for rev in revisions],
        [rev.user for rev in revisions],
        [rev.pageid for rev in revisions],
        [rev.namespace for rev in revisions],
        [rev.title for rev in revisions],
        [(rev.timestamp - _EPOCH) // timedelta(microseconds=1) for rev in revisions],
        [rev.sizediff for rev in revisions],
        [int(rev.new) for rev in revisions],
        [rev.wikibase for rev in revisions],
    ]
    known = [[revid, ref.parentid, ref.references] for revid, ref in sorted(texts.items())]
    text = json.dumps([FORMAT, *columns, known], ensure_ascii=False, separators=(",", ":"))
    # The fastest level: the packs are read on every refresh, written on few.
    return zlib.compress(text.encode(), 1)


def unpack(data: bytes) -> tuple[list[Revision], dict[int, RevisionReferences]]:
    """The revisions of one pack and the texts it knows; StoreError when the bytes are
    not a pack."""
    try:
        version, *columns, known = json.loads(zlib.decompress(data))
        if version != FORMAT or len(columns) != _FIELDS:
            raise StoreError(f"a pack of counted revisions in an unknown format ({version!r})")
        revid, user, pageid, namespace, title, micros, sizediff, new, wikibase = columns
        times = [_EPOCH + timedelta(microseconds=m) for m in micros]
        flags = [bool(n) for n in new]
        revisions = list(
            map(Revision, revid, user, pageid, namespace, title, times, sizediff, flags, wikibase)
        )
        texts = {int(r): RevisionReferences(int(parent), refs) for r, parent, refs in known}
    except (zlib.error, ValueError, TypeError) as error:
        raise StoreError(f"a pack of counted revisions could not be read: {error}") from error
    return revisions, texts
