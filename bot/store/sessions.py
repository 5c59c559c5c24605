"""The bot's Pywikibot session, as a sealed bundle the store only keeps (it cannot open
it: bot.wiki.session_files seals and opens)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.store import tables as t
from bot.store.database import Database, naive, upsert


class SessionStore(Database):
    """One sealed session bundle per bot, replaced by each newer one."""

    def keep_session(self, key_id: str, bundle: bytes, saved_at: datetime) -> None:
        """Keep ``bundle`` as the session of the bot ``key_id`` names."""
        row = {"key_id": key_id, "bundle": bundle, "saved_at": naive(saved_at)}
        with self.engine.begin() as conn:
            upsert(conn, t.pywikibot_sessions, row, ("key_id",))

    def kept_session(self, key_id: str) -> bytes | None:
        """The bundle kept for the bot ``key_id`` names, if any."""
        table = t.pywikibot_sessions
        with self.engine.connect() as conn:
            found = conn.execute(select(table.c.bundle).where(table.c.key_id == key_id)).first()
        return bytes(found[0]) if found is not None else None
