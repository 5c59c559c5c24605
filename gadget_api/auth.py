"""API tokens: minted after the OAuth handshake, sent as ``Authorization: Bearer``.

Only a token's SHA-256 is stored, so a copy of the database hands out no working token.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta
from html.entities import html5

from flask import request

from bot.store import ApiToken, Store
from gadget_api.errors import ApiError

log = logging.getLogger(__name__)

#: What token_urlsafe makes; anything else is refused before the database is asked.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
_REALM = 'Bearer realm="programs-bot"'
#: What no MediaWiki username holds: title-breaking characters, ``/``, controls, the
#: characters MediaWiki refuses in names (UserNameUtils::isValid), character references
#: (MediaWiki decodes them) and ``~~~`` (a signature once saved).
_NOT_A_USERNAME = re.compile(
    r"[#<>\[\]|{}/\x00-\x1f\x7f-\x9f\xa0\u2000-\u200f\u2028-\u202f\u3000\ue000-\uf8ff"
    r"\ud800-\udfff\ufffe\uffff]|~~~|&#[0-9]+;|&#x[0-9a-f]+;",
    re.IGNORECASE,
)
_NAMED_REFERENCE = re.compile(r"&([A-Za-z][A-Za-z0-9]*;)")
#: MediaWiki's $wgMaxNameChars (and its title limit): 255 bytes.
_MAX_USERNAME_BYTES = 255


def usable_username(name: str) -> bool:
    """Whether ``name`` can be a MediaWiki username, as an identity from the wiki gives it.

    Only the wiki's OAuth identity names a token's user, so a token with any other name
    was not made by the sign-in; it is refused rather than let the name reach a page.
    """
    return (
        bool(name)
        and name == name.strip()
        and len(name.encode("utf-8", "surrogatepass")) <= _MAX_USERNAME_BYTES
        and _NOT_A_USERNAME.search(name) is None
        and not any(m.group(1) in html5 for m in _NAMED_REFERENCE.finditer(name))
    )


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
    if record is not None and not usable_username(record.username):
        log.warning("refused a token whose username is not a username: %r", record.username)
        record = None
    if record is None:
        raise ApiError(
            401,
            "invalid-token",
            "The token is unknown or has expired: sign in again.",
            headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'},
        )
    return record
