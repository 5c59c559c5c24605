"""Adding and removing participant rows for the Join flow: pure text edits.

Only the rows change; every other byte of the page stays as it was. A username is written
so that it shows as itself and injects nothing (``=``, ``''``, ``~~~~`` and the like are
written as character references) and reads back as the same name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from mwparserfromhell.nodes import Node, Template, Text

from bot.core.errors import BadUsernameError
from bot.core.pageformat import ENGLISH, PageFormat
from bot.core.program_page import detect_format, read_username
from bot.core.titles import normalize_title
from bot.core.wikitext import (
    inert_text,
    parse_shown,
    template_call,
    template_values,
)

#: Characters that no MediaWiki username contains and that would break a template.
_FORBIDDEN = set("{}|[]<>#\n\r")
#: Nor does a username contain control characters, or lone surrogates (not even UTF-8).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs"})


def _check(username: str, joined: str) -> None:
    if (
        not normalize_title(username)
        or _FORBIDDEN & set(username + joined)
        or any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in username + joined)
    ):
        raise BadUsernameError(f"{username!r} cannot be written into a participant row")


def row_text(username: str, joined: str, fmt: PageFormat = ENGLISH) -> str:
    """The wikitext of one participant row, as the Join flow writes it: the name
    normalized as MediaWiki does, and made inert (see :func:`bot.core.wikitext.inert_text`)."""
    _check(username, joined)
    written = inert_text(normalize_title(username))
    return template_call(fmt.row, [("username", written), ("joined", inert_text(joined))], fmt)


def _rows(nodes: Sequence[Node], fmt: PageFormat) -> list[tuple[int, str]]:
    found = []
    for index, node in enumerate(nodes):
        if isinstance(node, Template) and fmt.template_key(str(node.name)) == fmt.row:
            values, _ = template_values(node, fmt.row, fmt)
            found.append((index, read_username(values.get("username", ""), fmt)))
    return found


def _index_of(nodes: Sequence[Node], name: str, fmt: PageFormat) -> int | None:
    for index, node in enumerate(nodes):
        if isinstance(node, Template) and fmt.template_key(str(node.name)) == name:
            return index
    return None


def add_rows(
    text: str, rows: Sequence[tuple[str, str]], fmt: PageFormat | None = None
) -> tuple[str, list[str]]:
    """Add ``(username, joined)`` rows at the end of the participants table.

    Users who already have a row anywhere on the page are skipped, so applying a join
    twice never duplicates a row. A page without a table gets one after its details.
    Returns the new text and the names added.
    """
    fmt = fmt or detect_format(text)
    code, hidden = parse_shown(text)
    nodes: list[Node] = code.nodes
    present = {name for _, name in _rows(nodes, fmt)}
    new: list[str] = []
    added: list[str] = []
    for username, joined in rows:
        _check(username, joined)
        name = normalize_title(username)
        if name not in present:
            new.append(row_text(name, joined, fmt))
            added.append(name)
            present.add(name)
    if not new:
        return text, []

    start = _index_of(nodes, fmt.table_start, fmt)
    end = None
    if start is not None:
        end = next(
            (
                i
                for i, node in enumerate(nodes)
                if i > start
                and isinstance(node, Template)
                and fmt.template_key(str(node.name)) == fmt.table_end
            ),
            None,
        )
    if end is not None:
        nodes.insert(end, Text("".join(row + "\n" for row in new)))
    elif start is not None:
        in_table = [i for i, _ in _rows(nodes, fmt) if i > start]
        nodes.insert(
            (in_table[-1] if in_table else start) + 1, Text("".join("\n" + r for r in new))
        )
    else:
        details = _index_of(nodes, fmt.details, fmt)
        start_name, end_name = fmt.name(fmt.table_start), fmt.name(fmt.table_end)
        table = "\n".join([f"{{{{{start_name}}}}}", *new, f"{{{{{end_name}}}}}"])
        position = len(nodes) if details is None else details + 1
        nodes.insert(position, Text("\n\n" + table))
    return str(code) + hidden, added


def remove_rows(
    text: str, usernames: Iterable[str], fmt: PageFormat | None = None
) -> tuple[str, list[str]]:
    """Remove the rows of these users (with their line break); returns text and names removed."""
    fmt = fmt or detect_format(text)
    wanted = {normalize_title(name) for name in usernames}
    code, hidden = parse_shown(text)
    nodes: list[Node] = code.nodes
    removed: list[str] = []
    for index, name in reversed(_rows(nodes, fmt)):
        if name not in wanted:
            continue
        following = nodes[index + 1] if index + 1 < len(nodes) else None
        if isinstance(following, Text) and following.value.startswith("\n"):
            following.value = following.value[1:]
        del nodes[index]
        removed.append(name)
    return str(code) + hidden, sorted(set(removed))
