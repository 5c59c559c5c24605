"""Page claims: one worker at a time edits a page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.store import tables as t
from bot.store.database import Database, matching, naive

#: The lease of a released page: long over, so anyone may claim it.
_EPOCH = datetime(1970, 1, 1)


class ClaimStore(Database):
    """Leases that serialize the work on a page between workers."""

    def claim_page(
        self,
        wiki: str,
        title: str,
        worker: str,
        now: datetime,
        lease: timedelta,
        *,
        dead: Callable[[str], bool] | None = None,
    ) -> bool:
        """Take the page for ``worker`` until ``now + lease``, unless another holds it.

        A lease, not a held transaction: a worker killed mid-edit frees the page when the
        lease runs out, or at once when ``dead(holder)`` says the holder no longer runs
        (a process of this machine that was killed and restarted).
        """
        table = t.page_claims
        until = naive(now + lease)
        where = matching(table, wiki=wiki, title=title)
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(table)
                .where(*where, (table.c.lease_until < naive(now)) | (table.c.worker == worker))
                .values(worker=worker, lease_until=until)
            ).rowcount
            holder = None
            if not taken and dead is not None:
                holder = conn.execute(select(table.c.worker).where(*where)).scalar_one_or_none()
            if holder is not None and dead is not None and dead(holder):
                # Only the dead holder's claim is taken over: if another worker took it
                # meanwhile, this matches nothing.
                taken = conn.execute(
                    update(table)
                    .where(*where, table.c.worker == holder)
                    .values(worker=worker, lease_until=until)
                ).rowcount
        if taken:
            return True
        try:
            self._write(
                insert(table).values(wiki=wiki, title=title, worker=worker, lease_until=until)
            )
        except IntegrityError:
            return False
        return True

    def release_page(self, wiki: str, title: str, worker: str) -> None:
        table = t.page_claims
        self._write(
            update(table)
            .where(*matching(table, wiki=wiki, title=title, worker=worker))
            .values(lease_until=_EPOCH)
        )
