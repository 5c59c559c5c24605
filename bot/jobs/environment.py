"""What every command runs with: the Pywikibot directory, the bot's settings file in it,
the SQL store, and the garbage collector's pace."""

from __future__ import annotations

import gc
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pywikibot

from bot.core.errors import ConfigError
from bot.core.settings import BotConfig, config_from_mapping
from bot.store import Store, default_url

#: Young collections every 50,000 new objects instead of Python's 700 (the older generations
#: as by default: pacing them too changed nothing measurable).
GC_THRESHOLDS = (50_000, 10, 10)

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


def pace_garbage_collector() -> None:
    """Collect cyclic garbage less often than Python does by default.

    A refresh builds hundreds of thousands of objects that live to its end (the parsed
    program page, the counted revisions read back from the store), none of them garbage;
    at the default pace the collector went over all of them again and again while they
    were built: about a third of the CPU time of an incremental refresh of a 1,000-row
    program (docs/benchmarks.md). What the bot builds has next to no reference cycles, so
    collecting them later holds little memory.
    """
    gc.set_threshold(*GC_THRESHOLDS)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (one page's refresh): what a refresh builds lives
    to its end, so a collection inside it only goes over live objects; the first one after
    it finds what is left, much less. Restores the collector as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
