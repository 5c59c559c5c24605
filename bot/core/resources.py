"""The files the project ships beside its code: ``i18n/`` and ``wikitemplates/``.

Both folders are package data of the distribution, installed as ``bot.i18n`` and
``bot.wikitemplates`` (setup.cfg maps them), and read through importlib.resources, so that
an installed wheel finds them wherever it lives.
"""

from __future__ import annotations

import json
from importlib.resources import files
from importlib.resources.abc import Traversable

from bot.core.errors import ConfigError

#: Message files already read, by path: they do not change while a process runs.
_MESSAGE_FILES: dict[str, dict[str, str]] = {}


def i18n(*parts: str) -> Traversable:
    """A file or folder under ``i18n/``: ``i18n("bot", "en.json")``."""
    return files("bot.i18n").joinpath(*parts)


def wikitemplates(*parts: str) -> Traversable:
    """A file or folder under ``wikitemplates/``: ``wikitemplates("gadget")``."""
    return files("bot.wikitemplates").joinpath(*parts)


def stems(folder: Traversable, suffix: str) -> list[str]:
    """The names without ``suffix`` of the files in ``folder`` that end with it, sorted."""
    if not folder.is_dir():
        return []
    return sorted(
        entry.name.removesuffix(suffix)
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(suffix)
    )


def subfolders(folder: Traversable) -> list[str]:
    """The names of the folders in ``folder``, sorted."""
    return sorted(entry.name for entry in folder.iterdir() if entry.is_dir())


def banana_messages(path: Traversable) -> dict[str, str]:
    """The messages of a file in MediaWiki's banana JSON format (``@metadata`` left out);
    empty when there is no such file."""
    key = str(path)
    if key not in _MESSAGE_FILES:
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ConfigError(f"{path} is not valid JSON: {error}") from error
        if not isinstance(data, dict):
            raise ConfigError(f"{path} is not a JSON object")
        _MESSAGE_FILES[key] = {
            str(name): str(text) for name, text in data.items() if not str(name).startswith("@")
        }
    return _MESSAGE_FILES[key]
