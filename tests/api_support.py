"""Helpers shared by the Join API's tests (test_api*.py): configs, tokens, program pages."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.store import ApiToken, Store
from harness import Farm, LocalWiki

#: The API's clock in tests; program pages are written around it.
NOW = datetime(2026, 11, 15, 12, 0, 0, tzinfo=UTC)
PROGRAM = "Project:Test program"
SECRET_KEY = "test-secret-key-0123456789"
#: A wiki that never answers (nothing listens on the discard port), for tests without MediaWiki.
OFFLINE_HOST = "offline.wiki.test"
OFFLINE_ORIGIN = "https://offline.wiki.test"


@dataclass
class Clock:
    """A settable clock for create_app(clock=...)."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def wiki_entry(wiki: LocalWiki, oauth_url: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "host": wiki.host,
        "api_url": wiki.api_url,
        "origin": wiki.url,
        "oauth_url": oauth_url or wiki.index_url,
        "consumer_key": "k" * 32,
        "consumer_secret": "s" * 32,
        **extra,
    }


def offline_entry() -> dict[str, str]:
    return {
        "host": OFFLINE_HOST,
        "api_url": "http://127.0.0.1:9/api.php",
        "origin": OFFLINE_ORIGIN,
        "oauth_url": "http://127.0.0.1:9/index.php",
        "consumer_key": "k" * 32,
        "consumer_secret": "s" * 32,
    }


def api_config(tmp_path: Path, wikis: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    """A TOML-shaped configuration with a fresh SQLite store under ``tmp_path``."""
    return {
        "secret_key": SECRET_KEY,
        "store_url": f"sqlite:///{tmp_path / 'api.sqlite'}",
        "public_url": "http://api.test",
        "wikis": wikis,
        **extra,
    }


def farm_config(tmp_path: Path, farm: Farm, **extra: Any) -> dict[str, Any]:
    return api_config(
        tmp_path, [wiki_entry(farm.content), wiki_entry(farm.media), offline_entry()], **extra
    )


def add_token(
    store: Store,
    username: str,
    wiki: str,
    *,
    blocked: bool = False,
    now: datetime = NOW,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """A bearer token for ``username`` on ``wiki``, stored as the OAuth callback would."""
    token = secrets.token_urlsafe(32)
    store.add_token(
        ApiToken(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            wiki=wiki,
            username=username,
            user_id=1,
            blocked=blocked,
            registered=now - timedelta(days=30),
            editcount=5,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def program_text(
    *,
    rows: tuple[str, ...] = ("Alice",),
    registration: str = "open",
    start: str = "2026-11-01",
    end: str = "2026-11-30",
    extra_rows: str = "",
    outcomes: str = "",
) -> str:
    """A program page in the README's format, with organizer prose around it."""
    row_text = "".join(
        f"{{{{Participant table row|username={name}|joined=2026-11-0{i + 1}}}}}\n"
        for i, name in enumerate(rows)
    )
    return (
        "Organizer prose stays.\n"
        "{{Program details\n|name=Test edit-a-thon\n|organizer=Alice\n"
        f"|start={start}\n|end={end}\n|wikis=en.wikipedia.org\n|registration={registration}\n"
        "}}\n\n{{Participants table}}\n"
        f"{row_text}{extra_rows}"
        "{{End of participants table}}\n"
        f"{outcomes}"
        "Closing prose.\n"
    )


#: Every operation of the OpenAPI document, as (path, method).
OPERATIONS = [
    ("/me", "GET"),
    ("/programs/{wiki}/{title}", "GET"),
    ("/programs/{wiki}/{title}/join", "GET"),
    ("/programs/{wiki}/{title}/join", "POST"),
    ("/programs/{wiki}/{title}/leave", "POST"),
    ("/programs/{wiki}/{title}/refresh", "POST"),
    ("/programs/{wiki}/{title}/report", "GET"),
    ("/campaigns/{wiki}/{title}/report", "GET"),
    ("/openapi.json", "GET"),
]
