"""Rate limits that hold when requests arrive together, in one API process or several.

A limit is checked by counting what the store holds, then the new request is written.
Two requests doing that at the same moment both see room for one more, and a flood of
them goes far past the limit. So the count and the write run one at a time per limit,
under a short lease taken in the store (the same ``page_claims`` leases the workers use,
under a name no page can have: ``{`` is never in a title), which every API process
sees. A request that cannot get the lease in time is itself answered ``rate-limited``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from bot.store import Store
from gadget_api.errors import ApiError

#: How long a lease lasts if the request holding it dies before giving it back.
LEASE = timedelta(seconds=10)
#: How long a request waits for the lease before it is answered 429.
WAIT_SECONDS = 5.0
_FIRST_PAUSE, _MAX_PAUSE = 0.002, 0.05


def lease_name(kind: str, who: str) -> str:
    """The lease's title: never a page title, and short whatever ``who`` is."""
    return f"{{rate-limit}}{kind}:{hashlib.sha256(who.encode()).hexdigest()[:40]}"


@contextmanager
def one_at_a_time(
    store: Store,
    wiki: str,
    name: str,
    clock: Callable[[], datetime],
    *,
    wait: float = WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the lease ``name`` on ``wiki`` for the body; ApiError 429 if not got in ``wait`` s."""
    holder = secrets.token_hex(16)
    deadline = time.monotonic() + wait
    pause = _FIRST_PAUSE
    while not store.claim_page(wiki, name, holder, clock(), LEASE):
        if time.monotonic() >= deadline:
            raise ApiError(
                429,
                "rate-limited",
                "Too many requests at the same moment; try again in a moment.",
                headers={"Retry-After": "1"},
            )
        sleep(pause)
        pause = min(pause * 2, _MAX_PAUSE)
    try:
        yield
    finally:
        store.release_page(wiki, name, holder)
