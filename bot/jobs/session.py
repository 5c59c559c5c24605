"""The bot's Pywikibot session kept in the store, so that a process starting in a fresh
Pywikibot directory (a new container or machine, a cleared cookie jar) asks the wikis what
a warm one asks: no login, no site information (bot.wiki.session_files says what is kept
and how it is sealed)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pywikibot import config

from bot.jobs.environment import config_dir
from bot.store import Store
from bot.wiki.session_files import (
    MAX_BUNDLE,
    fingerprint,
    restore_files,
    session_files,
    session_seal,
)

log = logging.getLogger(__name__)


class KeptSession:
    """Restores the session from the store before the first request, keeps it after."""

    def __init__(self, store: Store, base_dir: Path | None = None) -> None:
        self.store = store
        self.base_dir = base_dir or config_dir()
        self.seal = session_seal()
        #: What the store holds, as far as this process knows (not written again).
        self._kept: str | None = None

    def restore(self) -> list[str]:
        """Write the kept files the Pywikibot directory lacks; their names. Call it before
        the first site is made: Pywikibot reads the cookie jar then."""
        if self.seal is None:
            return []
        bundle = self.store.kept_session(self.seal.key_id)
        if bundle is None:
            return []
        files = self.seal.open(bundle)
        if files is None:
            log.warning("the kept session cannot be opened (the bot logs in)")
            return []
        self._kept = fingerprint(files)
        written = restore_files(self.base_dir, files)
        if written:
            log.info("restored %d session file(s) from the store", len(written))
        return written

    def keep(self) -> bool:
        """Keep the directory's session in the store when it changed; whether it did.
        Under ``-simulate`` nothing is written, to the store either."""
        if self.seal is None or config.simulate:
            return False
        files = session_files(self.base_dir)
        now = fingerprint(files)
        if not files or now == self._kept:
            return False
        bundle = self.seal.seal(files)
        if len(bundle) > MAX_BUNDLE:
            log.warning("the session is not kept: %d bytes sealed", len(bundle))
            return False
        self.store.keep_session(self.seal.key_id, bundle, datetime.now(UTC))
        self._kept = now
        return True


@contextmanager
def kept_session(store: Store) -> Iterator[KeptSession]:
    """The session restored on entering, kept on leaving (an error on the way too: a
    login made before it is worth keeping)."""
    session = KeptSession(store)
    session.restore()
    try:
        yield session
    finally:
        session.keep()
