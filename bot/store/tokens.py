"""Join API tokens and the identity each stands for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select

from bot.store import tables as t
from bot.store.database import Database, columns, naive


@dataclass(frozen=True)
class ApiToken:
    """A Join API token (only its SHA-256 is kept) and who it identifies."""

    token_hash: str
    wiki: str
    username: str
    user_id: int
    blocked: bool
    registered: datetime | None
    editcount: int
    created_at: datetime
    expires_at: datetime


class TokenStore(Database):
    """The API's tokens, found by hash until they expire."""

    def add_token(self, token: ApiToken) -> None:
        """Keep a new token (its hash) and the identity it stands for."""
        self._write(insert(t.api_tokens).values(**columns(token)))

    def find_token(self, token_hash: str, now: datetime) -> ApiToken | None:
        """The token with this hash, unless it is unknown or expired."""
        table = t.api_tokens
        return self._record(
            ApiToken,
            select(table).where(table.c.token_hash == token_hash, table.c.expires_at > naive(now)),
        )

    def revoke_token(self, token_hash: str) -> None:
        self._write(delete(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash))

    def purge_expired_tokens(self, now: datetime) -> int:
        """Forget expired tokens; returns how many."""
        return self._write(delete(t.api_tokens).where(t.api_tokens.c.expires_at <= naive(now)))
