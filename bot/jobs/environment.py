"""What every command runs with: the Pywikibot directory, the bot's settings file in it,
and the SQL store."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pywikibot

from bot.core.errors import ConfigError
from bot.core.settings import BotConfig, config_from_mapping
from bot.store import Store, default_url

#: Names another settings file than the one in the Pywikibot directory.
CONFIG_ENV = "PROGRAMS_BOT_CONFIG"
FILE_NAME = "programs-bot.toml"


def config_dir() -> Path:
    """The Pywikibot directory (``PYWIKIBOT_DIR``, ``-dir:``) this process runs with."""
    return Path(pywikibot.config.base_dir)


def load_bot_config(base_dir: Path | None = None) -> BotConfig:
    """The settings file, or all defaults when there is none."""
    named = os.environ.get(CONFIG_ENV)
    path = Path(named or (base_dir or config_dir()) / FILE_NAME)
    if not path.exists():
        if named:
            raise ConfigError(f"{CONFIG_ENV} names {path}, which does not exist")
        return BotConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path} cannot be read: {error}") from error
    return config_from_mapping(data)


def store_url(url: str | None = None) -> str:
    """``url``, else ``$PROGRAMS_BOT_DB``, else a SQLite file in the Pywikibot directory."""
    return url or default_url(config_dir())


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """The store at :func:`store_url`; its schema brought up to date unless ``migrate`` is
    False."""
    return Store(store_url(url), migrate=migrate)
