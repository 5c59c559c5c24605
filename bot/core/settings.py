"""The bot's own settings per wiki: which automatic edits a community agreed to.

Written in ``programs-bot.toml`` in the Pywikibot directory (or the file named by
``PROGRAMS_BOT_CONFIG``; bot.jobs.environment reads it). Everything is off unless a wiki's
table turns it on::

    [wikis."en.wikipedia.org"]
    user_page_templates = true   # {{Participant editor}} / {{Program instructor}}
    talk_page_notices = true     # {{Program assignment}} on the listed articles' talk pages
    language = "en"              # the names templates are installed with (default: the wiki's)
    name = "English Wikipedia"   # what pages call the wiki (default: its Wikimedia or site name)
    api_url = "https://programs-bot.toolforge.org"   # the Join API the gadget talks to
    pageviews_url = "https://wikimedia.org/api/rest_v1"   # only for non-Wikimedia hosts
    campaignevents_url = "https://meta.wikimedia.org/w/rest.php/campaignevents/v0"
                                 # Event Registration's REST API (default: the wiki's own)
    recent_changes_days = 90     # how long the wiki keeps recent changes ($wgRCMaxAge;
                                 # default 30 on Wikimedia wikis, 90 elsewhere)

    [stream]    # take the covered wikis' changes from EventStreams instead of polling each
    url = "https://stream.wikimedia.org/v2/stream/recentchange"   # the default
    hosts = ["wikipedia.org", "wikidata.org"]   # hosts and parent domains (default: Wikimedia's)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import ConfigError

_WIKI_KEYS = {
    "user_page_templates",
    "talk_page_notices",
    "language",
    "name",
    "api_url",
    "pageviews_url",
    "campaignevents_url",
    "recent_changes_days",
}


@dataclass(frozen=True)
class WikiSettings:
    """What the bot may do on one wiki beyond the program pages themselves."""

    user_page_templates: bool = False
    talk_page_notices: bool = False
    language: str | None = None
    #: What outcome sentences and tables call the wiki (see bot.core.wikinames).
    name: str | None = None
    api_url: str | None = None
    #: The pageview service (Wikimedia's REST API's base URL); Wikimedia wikis need none.
    pageviews_url: str | None = None
    #: Event Registration's REST module (default: the wiki's own ``rest.php``).
    campaignevents_url: str | None = None
    #: How many days of recent changes the wiki keeps (``$wgRCMaxAge``); None: the default
    #: (recent_changes_days).
    recent_changes_days: int | None = None


#: Wikimedia's public EventStreams endpoint for the ``recentchange`` stream.
WIKIMEDIA_STREAM_URL = "https://stream.wikimedia.org/v2/stream/recentchange"
#: The domains of Wikimedia's public wikis, whose changes that stream carries (private
#: wikis such as office.wikimedia.org are not in it).
WIKIMEDIA_DOMAINS = (
    "wikipedia.org",
    "wikimedia.org",
    "wikidata.org",
    "wiktionary.org",
    "wikibooks.org",
    "wikinews.org",
    "wikiquote.org",
    "wikisource.org",
    "wikiversity.org",
    "wikivoyage.org",
    "wikifunctions.org",
    "mediawiki.org",
)
_STREAM_KEYS = {"url", "hosts"}
_STREAM_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$")


@dataclass(frozen=True)
class StreamSettings:
    """Where the changes of the covered wikis come from instead of polling each wiki."""

    url: str = WIKIMEDIA_STREAM_URL
    #: Host names (``en.wikipedia.org``, ``127.0.0.1:8080``) and parent domains
    #: (``wikipedia.org`` covers every ``*.wikipedia.org``).
    hosts: tuple[str, ...] = WIKIMEDIA_DOMAINS

    def covers(self, host: str) -> bool:
        """Whether the stream carries ``host``'s changes."""
        host = host.strip().lower()
        return any(host == entry or host.endswith("." + entry) for entry in self.hosts)


@dataclass(frozen=True)
class BotConfig:
    """Settings of every configured wiki; unlisted wikis get the defaults (all off)."""

    wikis: Mapping[str, WikiSettings] = field(default_factory=dict)
    #: The EventStreams settings, or None to poll every wiki.
    stream: StreamSettings | None = None

    def wiki(self, host: str) -> WikiSettings:
        return self.wikis.get(host.lower(), WikiSettings())


def _wiki(host: str, data: Any) -> WikiSettings:
    where = f'[wikis."{host}"]'
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(data) - _WIKI_KEYS)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in {where}")
    for key in ("user_page_templates", "talk_page_notices"):
        if not isinstance(data.get(key, False), bool):
            raise ConfigError(f"{where}: {key} must be true or false")
    for key in ("language", "name", "api_url", "pageviews_url", "campaignevents_url"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise ConfigError(f"{where}: {key} must be a non-empty string")
    return WikiSettings(
        user_page_templates=data.get("user_page_templates", False),
        talk_page_notices=data.get("talk_page_notices", False),
        language=data.get("language"),
        name=data["name"].strip() if "name" in data else None,
        api_url=data.get("api_url"),
        pageviews_url=data.get("pageviews_url"),
        campaignevents_url=data.get("campaignevents_url"),
        recent_changes_days=_days(where, data.get("recent_changes_days")),
    )


def _days(where: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise ConfigError(f"{where}: recent_changes_days must be a whole number of days, 1-3650")
    return value


#: How long MediaWiki keeps recent changes by default ($wgRCMaxAge), and Wikimedia's wikis.
DEFAULT_RC_DAYS = 90
WIKIMEDIA_RC_DAYS = 30


def recent_changes_days(host: str, settings: WikiSettings) -> int:
    """How many days of recent changes ``host`` keeps, as configured or by default."""
    if settings.recent_changes_days is not None:
        return settings.recent_changes_days
    host = host.strip().lower()
    wikimedia = any(host == d or host.endswith("." + d) for d in WIKIMEDIA_DOMAINS)
    return WIKIMEDIA_RC_DAYS if wikimedia else DEFAULT_RC_DAYS


def _stream(data: Any) -> StreamSettings:
    if not isinstance(data, Mapping):
        raise ConfigError("[stream] must be a table")
    unknown = sorted(set(data) - _STREAM_KEYS)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in [stream]")
    url = data.get("url", WIKIMEDIA_STREAM_URL)
    if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+/\S*$", url.strip()):
        raise ConfigError("[stream]: url must be an http:// or https:// URL of a stream")
    hosts = data.get("hosts", WIKIMEDIA_DOMAINS)
    if not isinstance(hosts, list | tuple) or not hosts:
        raise ConfigError("[stream]: hosts must be a non-empty list of host names")
    for host in hosts:
        if not isinstance(host, str) or not _STREAM_HOST.match(host.strip().lower()):
            raise ConfigError(f"[stream]: {host!r} in hosts is not a host name")
    return StreamSettings(url.strip(), tuple(host.strip().lower() for host in hosts))


def config_from_mapping(data: Mapping[str, Any]) -> BotConfig:
    """Check a TOML-shaped mapping and build the settings from it."""
    unknown = sorted(set(data) - {"wikis", "stream"})
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in the bot's configuration")
    wikis = data.get("wikis", {})
    if not isinstance(wikis, Mapping):
        raise ConfigError("[wikis] must be a table of wiki hosts")
    return BotConfig(
        {host.lower(): _wiki(host, entry) for host, entry in wikis.items()},
        _stream(data["stream"]) if "stream" in data else None,
    )
