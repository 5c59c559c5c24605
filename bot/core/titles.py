"""Titles and usernames as MediaWiki compares them, and the keys and file names made of them."""

from __future__ import annotations

import re
import unicodedata

#: Directional marks MediaWiki strips from titles (MediaWikiTitleCodec::splitTitleString).
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e]")
#: What MediaWiki turns into one space in a title, beyond Python's whitespace (U+180E).
_TITLE_SPACES = re.compile("[_\u180e]")
#: The longest file-name stem made of a title, in UTF-8 bytes: file systems allow 255 per
#: name, and a table's name and ".csv" follow the stem.
_SLUG_BYTES = 150
#: The longest page title with its namespace kept or accepted: a title is up to 255 bytes
#: without its namespace, and a namespace's name can be long ("Обсуждение Википедии:").
MAX_TITLE_WITH_NAMESPACE = 512


def normalize_title(name: str) -> str:
    """MediaWiki's title normalization for comparisons: NFC (as every saved text is),
    directional marks dropped, underscores and runs of spaces made one space, first letter
    upper case."""
    name = _BIDI_MARKS.sub("", unicodedata.normalize("NFC", name))
    name = " ".join(_TITLE_SPACES.sub(" ", name).split())
    # Again after the upper case: "i" + U+0307 becomes "I" + U+0307, which is "İ" in NFC.
    return unicodedata.normalize("NFC", name[:1].upper() + name[1:])


def title_key(title: str) -> str:
    """A title as written in a parameter, for comparison: link brackets, a leading colon
    and a label dropped, normalized as MediaWiki does, the namespace part compared
    case-insensitively."""
    title = title.strip()
    if title.startswith("[[") and title.endswith("]]"):
        title = title[2:-2].partition("|")[0]
    title = normalize_title(title.strip().lstrip(":"))
    prefix, colon, rest = title.partition(":")
    if colon and rest:
        return prefix.strip().lower() + ":" + normalize_title(rest)
    return title


def names_campaign(value: str, full_title: str, title_without_namespace: str) -> bool:
    """Whether a program's ``campaign=`` value names this campaign page.

    The value must be the campaign page's full title (``Wikipedia:Wiki Science 2026``) or
    its title without the namespace (``Wiki Science 2026``), as MediaWiki normalizes
    titles (underscores, spaces, first letter); ``[[...]]`` around it is allowed.
    Namespace aliases (``WP:``) are not resolved. An empty value names no campaign.
    """
    if not value.strip():
        return False
    wanted = title_key(value)
    return wanted in {title_key(full_title), title_key(title_without_namespace)}


def program_key(host: str, pageid: int) -> str:
    """How the store files a program page: its wiki and page id (titles change with moves)."""
    return f"{host}#{pageid}"


def file_slug(title: str) -> str:
    """A file-name stem for a title: letters and digits kept, anything else ``_``."""
    slug = "".join(c if c.isalnum() else "_" for c in title)
    return slug.encode()[:_SLUG_BYTES].decode(errors="ignore")


def ascii_slug(title: str) -> str:
    """:func:`file_slug` in ASCII letters and digits only (for HTTP's plain ``filename``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", file_slug(title))
