"""The bot's messages (edit summaries, report sentences, notices) from ``i18n/bot``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core import resources
from bot.core.errors import ConfigError

MESSAGES_DIR = resources.i18n("bot")
PREFIX = "programs-bot-"
_PLACEHOLDER = re.compile(r"\$(\d+)")
#: What may be markup inside a sentence or a table cell: brackets, braces, tags, pipes,
#: quotes (bold, italics), tildes (signatures), entities, magic words, links, a line break,
#: and a line's first character when it starts a list, an indent or a rule.
_MARKUP = re.compile(r"[\[\]{}<>|'~&\n]|__|://|^[\s:;*#!-]")


def nowiki(text: str) -> str:
    """Make text from a page or a user inert when placed in wikitext."""
    return "<nowiki>" + text.replace("<", "&lt;") + "</nowiki>" if text else ""


def inert(text: str) -> str:
    """Text from a page, a user or a wiki, inert in wikitext: as it is when nothing in it
    could be markup (so that a plain name stays readable in the page's source), else
    wrapped in ``<nowiki>``."""
    return nowiki(text) if _MARKUP.search(text) else text


@dataclass(frozen=True)
class Messages:
    """Messages of one language, falling back to English key by key.

    A page is written in its own language (``Messages(fmt.lang)``, the language of its
    templates' names); the command line speaks English.
    """

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
