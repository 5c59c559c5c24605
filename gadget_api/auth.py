"""API tokens: minted after the OAuth handshake, sent as ``Authorization: Bearer``.

Only a token's SHA-256 is stored, so a copy of the database hands out no working token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import request

from bot.store import ApiToken, Store
from gadget_api.errors import ApiError

#: What token_urlsafe makes; anything else is refused before the database is asked.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
_REALM = 'Bearer realm="programs-bot"'


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token(
    store: Store,
    *,
    wiki: str,
    username: str,
    user_id: int,
    blocked: bool,
    registered: datetime | None,
    editcount: int,
    now: datetime,
    ttl: timedelta,
) -> tuple[str, ApiToken]:
    """A new random token (returned once, never stored) and its stored record."""
    token = secrets.token_urlsafe(32)
    record = ApiToken(
        token_hash=hash_token(token),
        wiki=wiki,
        username=username,
        user_id=user_id,
        blocked=blocked,
        registered=registered,
        editcount=editcount,
        created_at=now,
        expires_at=now + ttl,
    )
    store.add_token(record)
    return token, record


def bearer_token() -> str | None:
    """The request's bearer token; None without an Authorization header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(
            401,
            "invalid-token",
            "The Authorization header must be 'Bearer <token>'.",
            headers={"WWW-Authenticate": f'{_REALM}, error="invalid_request"'},
        )
    return value.strip()


def authenticate(store: Store, now: datetime, *, required: bool = True) -> ApiToken | None:
    """The caller's token record; ApiError ``missing-token`` or ``invalid-token``."""
    token = bearer_token()
    if token is None:
        if not required:
            return None
        raise ApiError(
            401,
            "missing-token",
            "Sign in first: this needs an 'Authorization: Bearer <token>' header.",
            headers={"WWW-Authenticate": _REALM},
        )
    record = store.find_token(hash_token(token), now) if _TOKEN_SHAPE.match(token) else None
    if record is None:
        raise ApiError(
            401,
            "invalid-token",
            "The token is unknown or has expired: sign in again.",
            headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'},
        )
    return record
