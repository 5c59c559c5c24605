"""The API's configuration: a TOML file (or a mapping in tests), checked into frozen dataclasses.

The file is named by ``PROGRAMS_API_CONFIG``; ``PROGRAMS_API_SECRET_KEY`` and
``PROGRAMS_BOT_DB`` override its ``secret_key`` and ``store_url`` so that secrets can stay
out of the file. Every problem is a ApiConfigError naming the key, so a bad deployment fails
at start-up with a clear message instead of at the first request.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gadget_api.errors import ApiConfigError

CONFIG_ENV = "PROGRAMS_API_CONFIG"
SECRET_KEY_ENV = "PROGRAMS_API_SECRET_KEY"
STORE_ENV = "PROGRAMS_BOT_DB"
DEFAULT_USER_AGENT = "programs-bot-api/0.1 (Join API of programs-bot)"
MIN_SECRET_LENGTH = 16
#: Marks of a value still to be written: "...", "…", "<the consumer key>", "$SECRET".
_PLACEHOLDER_MARK = re.compile(r"\.\.\.|…|<[^<>]*>|^\$\{?\w+\}?$")
#: Words of example values (the documentation's, and common ones) that no real secret or
#: consumer key holds.
_PLACEHOLDER_WORDS = (
    "random string",
    "at least 16 characters",
    "consumer key",
    "consumer secret",
    "change me",
    "changeme",
    "replace me",
    "placeholder",
)
#: How to get each secret, for the message that refuses a placeholder.
_HOW_TO_GET = {
    "secret_key": (
        "a long random string, e.g. from python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(32))' (or set PROGRAMS_API_SECRET_KEY)"
    ),
    "consumer_key": "the consumer key that Special:OAuthConsumerRegistration showed",
    "consumer_secret": "the consumer secret that Special:OAuthConsumerRegistration showed",
}


@dataclass(frozen=True)
class WikiConfig:
    """One wiki people may join programs on, with its own OAuth consumer."""

    #: The host as program pages and URLs of the API write it (``en.wikipedia.org``).
    host: str
    #: The wiki's api.php, for reading program pages.
    api_url: str
    #: The exact origin of the wiki's pages: the only one CORS and postMessage answer.
    origin: str
    #: The wiki's index.php that serves Special:OAuth (mwoauth's ``mw_uri``).
    oauth_url: str
    consumer_key: str
    consumer_secret: str = field(repr=False)


@dataclass(frozen=True)
class RateLimits:
    refresh_per_user_per_hour: int = 10
    refresh_per_program_per_hour: int = 30
    joins_per_user_per_minute: int = 10


@dataclass(frozen=True)
class ApiConfig:
    """Everything the app needs; built by :func:`load_config` or directly in tests."""

    secret_key: str = field(repr=False)
    store_url: str
    #: The API's own base URL (the OAuth consumer's callback is ``<public_url>/oauth/callback``).
    public_url: str
    wikis: tuple[WikiConfig, ...]
    token_ttl: timedelta = timedelta(hours=12)
    rate_limits: RateLimits = RateLimits()
    max_body_bytes: int = 16 * 1024
    user_agent: str = DEFAULT_USER_AGENT
    #: Seconds to wait for a wiki's api.php before falling back to the last snapshot.
    wiki_timeout: float = 5.0

    def wiki(self, host: str) -> WikiConfig | None:
        """The configured wiki with this host (case-insensitive), if any."""
        host = host.lower()
        return next((w for w in self.wikis if w.host == host), None)

    def wiki_for_origin(self, origin: str) -> WikiConfig | None:
        return next((w for w in self.wikis if w.origin == origin), None)

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(w.origin for w in self.wikis)


# -- checking a mapping --------------------------------------------------------------------

_TOP_KEYS = {
    "secret_key",
    "store_url",
    "public_url",
    "wikis",
    "token_ttl_seconds",
    "rate_limits",
    "max_body_bytes",
    "user_agent",
    "wiki_timeout_seconds",
}
_WIKI_KEYS = {"host", "api_url", "origin", "oauth_url", "consumer_key", "consumer_secret"}
_LIMIT_KEYS = {
    "refresh_per_user_per_hour",
    "refresh_per_program_per_hour",
    "joins_per_user_per_minute",
}


def _no_unknown(data: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ApiConfigError(
            f"unknown key {unknown[0]!r} in {where} (known: {', '.join(sorted(known))})"
        )


def _string(data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    if key not in data:
        if default is None:
            raise ApiConfigError(f"missing key {key!r} in {where}")
        return default
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise ApiConfigError(f"{where}: {key!r} must be a non-empty string")
    # The user agent is free text (a contact in angle brackets is a real value there).
    return value.strip() if key == "user_agent" else _real(value.strip(), key, where)


def _placeholder(value: str, key: str) -> str | None:
    """Why ``value`` of ``key`` is a placeholder, or None when it may be a real value."""
    mark = _PLACEHOLDER_MARK.search(value)
    if mark:
        return f"it holds {mark.group(0)!r}"
    if key in _HOW_TO_GET:
        lowered = " ".join(value.lower().split())
        word = next((w for w in _PLACEHOLDER_WORDS if w in lowered), None)
        if word is not None:
            return f"it reads like an example ({word!r})"
    if key in ("consumer_key", "consumer_secret") and len(value.split()) > 1:
        return "it holds spaces, which the wiki's consumer keys and secrets never do"
    return None


def _real(value: str, key: str, where: str) -> str:
    """``value``, unless it is an obvious placeholder: then the error names the key."""
    reason = _placeholder(value, key)
    if reason is not None:
        wanted = _HOW_TO_GET.get(key, "the real value")
        raise ApiConfigError(f"{where}: {key!r} is a placeholder ({reason}); put {wanted} there")
    return value


def _number(
    data: Mapping[str, Any], key: str, where: str, default: float, *, integer: bool = True
) -> float:
    value = data.get(key, default)
    number_ok = isinstance(value, int) or (not integer and isinstance(value, float))
    if isinstance(value, bool) or not number_ok or value <= 0:
        kind = "integer" if integer else "number"
        raise ApiConfigError(f"{where}: {key!r} must be a positive {kind}, not {value!r}")
    return float(value)


def _url(value: str, key: str, where: str, *, origin_only: bool = False) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiConfigError(f"{where}: {key!r} must be an http(s) URL, not {value!r}")
    if parts.query or parts.fragment:
        raise ApiConfigError(f"{where}: {key!r} must have no query or fragment: {value!r}")
    if origin_only:
        if parts.path not in ("", "/") or parts.username or parts.password:
            raise ApiConfigError(
                f"{where}: {key!r} must be an origin (scheme://host[:port]), not {value!r}"
            )
        return f"{parts.scheme}://{parts.netloc.lower()}"
    return value.rstrip("/") if key == "public_url" else value


def _host(value: str, where: str) -> str:
    host = value.lower()
    parts = urlsplit(f"//{host}")
    valid = bool(parts.hostname) and parts.netloc == host and not parts.path
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        valid = False
    if not valid or "@" in host:
        raise ApiConfigError(
            f"{where}: 'host' must be a host as in URLs (en.wikipedia.org), not {value!r}"
        )
    return host


def _wiki(data: Any, index: int) -> WikiConfig:
    where = f"[[wikis]] #{index + 1}"
    if not isinstance(data, Mapping):
        raise ApiConfigError(f"{where} must be a table")
    _no_unknown(data, _WIKI_KEYS, where)
    return WikiConfig(
        host=_host(_string(data, "host", where), where),
        api_url=_url(_string(data, "api_url", where), "api_url", where),
        origin=_url(_string(data, "origin", where), "origin", where, origin_only=True),
        oauth_url=_url(_string(data, "oauth_url", where), "oauth_url", where),
        consumer_key=_string(data, "consumer_key", where),
        consumer_secret=_string(data, "consumer_secret", where),
    )


def config_from_mapping(data: Mapping[str, Any]) -> ApiConfig:
    """Check a TOML-shaped mapping and build the configuration from it."""
    where = "the configuration"
    _no_unknown(data, _TOP_KEYS, where)
    raw_wikis = data.get("wikis")
    if not isinstance(raw_wikis, list) or not raw_wikis:
        raise ApiConfigError("the configuration needs at least one [[wikis]] table")
    wikis = tuple(_wiki(w, i) for i, w in enumerate(raw_wikis))
    for attribute in ("host", "origin"):
        values = [getattr(w, attribute) for w in wikis]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ApiConfigError(f"two [[wikis]] have the same {attribute} {duplicates[0]!r}")

    limits = data.get("rate_limits", {})
    if not isinstance(limits, Mapping):
        raise ApiConfigError("[rate_limits] must be a table")
    _no_unknown(limits, _LIMIT_KEYS, "[rate_limits]")
    defaults = RateLimits()
    rate_limits = RateLimits(
        **{
            key: int(_number(limits, key, "[rate_limits]", getattr(defaults, key)))
            for key in _LIMIT_KEYS
        }
    )

    secret_key = _string(data, "secret_key", where)
    if len(secret_key) < MIN_SECRET_LENGTH:
        raise ApiConfigError(f"'secret_key' must be at least {MIN_SECRET_LENGTH} characters long")
    store_url = _string(data, "store_url", where)
    if "://" not in store_url:
        raise ApiConfigError(f"'store_url' must be an SQLAlchemy URL, not {store_url!r}")
    return ApiConfig(
        secret_key=secret_key,
        store_url=store_url,
        public_url=_url(_string(data, "public_url", where), "public_url", where),
        wikis=wikis,
        token_ttl=timedelta(seconds=_number(data, "token_ttl_seconds", where, 12 * 3600)),
        rate_limits=rate_limits,
        max_body_bytes=int(_number(data, "max_body_bytes", where, 16 * 1024)),
        user_agent=_string(data, "user_agent", where, DEFAULT_USER_AGENT),
        wiki_timeout=float(_number(data, "wiki_timeout_seconds", where, 5.0, integer=False)),
    )


def load_config(environ: Mapping[str, str] | None = None) -> ApiConfig:
    """The configuration named by ``PROGRAMS_API_CONFIG``, with the environment's overrides."""
    env = os.environ if environ is None else environ
    path = env.get(CONFIG_ENV)
    if not path:
        raise ApiConfigError(f"set {CONFIG_ENV} to the path of the API's TOML configuration file")
    try:
        data: dict[str, Any] = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ApiConfigError(f"cannot read {CONFIG_ENV}={path}: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ApiConfigError(f"{path} is not valid TOML: {error}") from error
    if env.get(SECRET_KEY_ENV):
        data["secret_key"] = env[SECRET_KEY_ENV]
    if env.get(STORE_ENV):
        data["store_url"] = env[STORE_ENV]
    try:
        return config_from_mapping(data)
    except ApiConfigError as error:
        raise ApiConfigError(f"{path}: {error}") from error
