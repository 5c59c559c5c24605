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
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class BotConfig:
    """Settings of every configured wiki; unlisted wikis get the defaults (all off)."""

    wikis: Mapping[str, WikiSettings] = field(default_factory=dict)

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
    for key in ("language", "name", "api_url", "pageviews_url"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise ConfigError(f"{where}: {key} must be a non-empty string")
    return WikiSettings(
        user_page_templates=data.get("user_page_templates", False),
        talk_page_notices=data.get("talk_page_notices", False),
        language=data.get("language"),
        name=data["name"].strip() if "name" in data else None,
        api_url=data.get("api_url"),
        pageviews_url=data.get("pageviews_url"),
    )


def config_from_mapping(data: Mapping[str, Any]) -> BotConfig:
    """Check a TOML-shaped mapping and build the settings from it."""
    unknown = sorted(set(data) - {"wikis"})
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in the bot's configuration")
    wikis = data.get("wikis", {})
    if not isinstance(wikis, Mapping):
        raise ConfigError("[wikis] must be a table of wiki hosts")
    return BotConfig({host.lower(): _wiki(host, entry) for host, entry in wikis.items()})
