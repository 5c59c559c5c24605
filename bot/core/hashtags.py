"""Hashtags in edit summaries, by the rules of Wikimedia's Hashtags tool
(hashtags.wmcloud.org, ``scripts/common.py``), so that a program counts the edits that tool
would list for the same tag.

- A hashtag is ``#`` or the full-width number sign (U+FF03) followed by word characters
  (Unicode letters, digits, ``_``), at the start of the summary or after white space:
  ``(#tag)``, ``,#tag`` and ``[[Page#Section]]`` are none; a hyphen ends it
  (``#wiki-loves`` is ``#wiki``).
- Tags of digits only, of one character, and the tool's excluded words (``redirect``,
  ``if``, ``switch``...) are no hashtags.
- Tags match whatever their case, accents or width (the tool compares them in MariaDB's
  ``utf8mb4_unicode_ci``): ``#1Lib1Ref`` is ``#1lib1ref``, and full-width letters
  are the letters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: The number signs: "#" and the full-width one.
_SIGNS = "#\uff03"
_HASHTAG = re.compile(r"(?:^|\s)[" + _SIGNS + r"](\w+)")
_WORD = re.compile(r"\w+")
_EXCLUDED = frozenset(
    {
        "redirect",
        "weiterleitung",
        "redirection",
        "ifexist",
        "switch",
        "ifexpr",
        "if",
        "rs",
        "default",
        "mw",
        "flickr2commons",
        "quickstatements",
    }
)
_EXCLUDED_PATTERN = re.compile(r"^temporary_batch_[0-9]{13}$")


def tag_key(tag: str) -> str:
    """What two tags must share to be one: case, accents and width folded."""
    decomposed = unicodedata.normalize("NFKD", tag)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare.casefold())


def is_hashtag(tag: str) -> bool:
    """Whether the tool counts ``tag`` (without its ``#``) as a hashtag."""
    if not _WORD.fullmatch(tag) or tag.isdigit() or len(tag) < 2:
        return False
    lowered = tag.lower()
    return lowered not in _EXCLUDED and not _EXCLUDED_PATTERN.match(lowered)


def hashtags_in(summary: str) -> set[str]:
    """The keys (tag_key) of the hashtags an edit summary carries."""
    return {tag_key(tag) for tag in _HASHTAG.findall(summary) if is_hashtag(tag)}


def parse_hashtags(raw: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``hashtags=`` as organizers write it (comma-separated, with or without ``#``): the
    tags, and the values that are no hashtag (spaces, markup, digits only...)."""
    tags: list[str] = []
    bad: list[str] = []
    for item in raw.split(","):
        value = item.strip()
        if not value:
            continue
        tag = value[1:] if value[:1] and value[0] in _SIGNS else value
        if is_hashtag(tag):
            if tag_key(tag) not in {tag_key(t) for t in tags}:
                tags.append(tag)
        else:
            bad.append(value)
    return tuple(tags), tuple(bad)


def tag_keys(tags: Iterable[str]) -> frozenset[str]:
    """The keys of a set of tags, to compare two sets."""
    return frozenset(tag_key(tag) for tag in tags)


def carries(summary: str, tags: Iterable[str]) -> bool:
    """Whether an edit summary carries one of ``tags``."""
    wanted = {tag_key(tag) for tag in tags}
    return bool(wanted & hashtags_in(summary))
