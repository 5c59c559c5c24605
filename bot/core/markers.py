"""Marker templates the bot puts on user pages and article talk pages, when a wiki's
community turned those edits on: pure text edits, never twice, only the marker changes.
"""

from __future__ import annotations

import mwparserfromhell
from mwparserfromhell.nodes import Node, Template, Text

from bot.core.errors import BadUsernameError
from bot.core.pageformat import ENGLISH, PageFormat
from bot.core.titles import normalize_title
from bot.core.wikitext import inert_text, read_name, template_call, template_values

_FORBIDDEN = set("{}|[]<>\n\r")


def _markers(nodes: list[Node], key: str, program: str, fmt: PageFormat) -> list[int]:
    wanted = normalize_title(program)
    found = []
    for index, node in enumerate(nodes):
        if isinstance(node, Template) and fmt.template_key(str(node.name)) == key:
            values, _ = template_values(node, key, fmt)
            if read_name(values.get("program", "")) == wanted:
                found.append(index)
    return found


def marker_text(key: str, program: str, fmt: PageFormat = ENGLISH, **params: str) -> str:
    """``{{<marker>|program=<title>|...}}`` in the page's language."""
    values = {"program": program, **params}
    if any(_FORBIDDEN & set(value) for value in values.values()):
        raise BadUsernameError(f"{values!r} cannot be written into {{{{{fmt.name(key)}}}}}")
    # Inert, as participant rows: a title may hold "~~~~", which saving would turn into
    # the bot's signature, or "''", "=" and the like.
    return template_call(key, [(name, inert_text(value)) for name, value in values.items()], fmt)


def add_marker(
    text: str, key: str, program: str, fmt: PageFormat = ENGLISH, **params: str
) -> str | None:
    """The page with the marker on its first line; None if it already has one for ``program``."""
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    if _markers(code.nodes, key, program, fmt):
        return None
    marker = marker_text(key, program, fmt, **params)
    return marker + "\n" + text if text.strip() else marker


def remove_marker(text: str, key: str, program: str, fmt: PageFormat = ENGLISH) -> str | None:
    """The page without the marker for ``program`` (and its line break); None if absent."""
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    nodes: list[Node] = code.nodes
    found = _markers(nodes, key, program, fmt)
    if not found:
        return None
    for index in reversed(found):
        following = nodes[index + 1] if index + 1 < len(nodes) else None
        if isinstance(following, Text) and following.value.startswith("\n"):
            following.value = following.value[1:]
        del nodes[index]
    return str(code)
