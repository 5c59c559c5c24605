"""The bot's messages (edit summaries, report sentences, notices) from ``i18n/bot``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core import resources
from bot.core.errors import ConfigError

MESSAGES_DIR = resources.i18n("bot")
PREFIX = "programs-bot-"
_PLACEHOLDER = re.compile(r"\$(\d+)")


def nowiki(text: str) -> str:
    """Make text from a page or a user inert when placed in wikitext."""
    return "<nowiki>" + text.replace("<", "&lt;") + "</nowiki>" if text else ""


@dataclass(frozen=True)
class Messages:
    """Messages of one language, falling back to English key by key."""

    lang: str = "en"

    def text(self, key: str, *params: object) -> str:
        """The message ``programs-bot-<key>`` with ``$1``, ``$2``... replaced."""
        name = PREFIX + key
        for lang in (self.lang, "en"):
            messages = resources.banana_messages(MESSAGES_DIR / f"{lang}.json")
            if name in messages:
                template = messages[name]
                break
        else:
            raise ConfigError(f"message {name!r} is missing from {MESSAGES_DIR / 'en.json'}")
        values = [str(p) for p in params]
        return _PLACEHOLDER.sub(
            lambda m: values[int(m[1]) - 1] if 0 < int(m[1]) <= len(values) else m[0], template
        )
