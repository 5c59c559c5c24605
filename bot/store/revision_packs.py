"""Counted revisions packed many to a row.

A refresh reads back every revision its program counted, tens of thousands of them; one
row each, the rows alone cost seconds to read. Packed ``PACK_SIZE`` to a row (compressed
JSON, one list per field), they cost what decompressing them costs. Packs are cut from
the revisions in revision-id order, so a recount that only adds new revisions (higher
ids) changes the last packs only, and only those are written again.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from bot.core.contributions import Revision
from bot.core.errors import StoreError

#: Revisions a pack holds (the last one of a program may hold fewer).
PACK_SIZE = 2000
#: What a pack's first element says: the layout below.
FORMAT = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIELDS = 9


def cut(revisions: Iterable[Revision]) -> list[tuple[Revision, ...]]:
    """The revisions in revision-id order, ``PACK_SIZE`` a pack."""
    ordered = sorted(revisions, key=lambda rev: rev.revid)
    return [tuple(ordered[at : at + PACK_SIZE]) for at in range(0, len(ordered), PACK_SIZE)]


def pack(revisions: Sequence[Revision]) -> bytes:
    """One pack's bytes: the format, then each field's values in the revisions' order
    (times as whole microseconds since 1970 UTC: exact, and cheap to read back)."""
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
    text = json.dumps([FORMAT, *columns], ensure_ascii=False, separators=(",", ":"))
    # The fastest level: the packs are read on every refresh, written on few.
    return zlib.compress(text.encode(), 1)


def unpack(data: bytes) -> list[Revision]:
    """The revisions of one pack; StoreError when the bytes are not a pack."""
    try:
        found = json.loads(zlib.decompress(data))
        version, *columns = found
        if version != FORMAT or len(columns) != _FIELDS:
            raise StoreError(f"a pack of counted revisions in an unknown format ({version!r})")
        revid, user, pageid, namespace, title, micros, sizediff, new, wikibase = columns
        times = [_EPOCH + timedelta(microseconds=m) for m in micros]
        flags = [bool(n) for n in new]
        return list(
            map(Revision, revid, user, pageid, namespace, title, times, sizediff, flags, wikibase)
        )
    except (zlib.error, ValueError, TypeError) as error:
        raise StoreError(f"a pack of counted revisions could not be read: {error}") from error
