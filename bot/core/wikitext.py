"""Reading a program page and writing the bot's fields back: pure mwparserfromhell.

Only top-level templates count: anything inside comments, ``<nowiki>``, ``<pre>`` or
another template is not read as part of the program, and, as in MediaWiki, a comment that
is never closed hides the rest of the page. Rendering touches only what the bot owns (row
statistics and the outcomes block); every other byte stays as it was. What looks like a
part of the program but cannot be read (a row template that is not closed, say) gives a
notice rather than vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from html.entities import html5

import mwparserfromhell
from mwparserfromhell.definitions import PARSER_BLACKLIST
from mwparserfromhell.nodes import Comment, Node, Tag, Template, Text
from mwparserfromhell.nodes.extras import Parameter
from mwparserfromhell.wikicode import Wikicode

from bot.core.dates import parse_moment
from bot.core.errors import NotAProgramError
from bot.core.model import Notice, ParticipantRow, ProgramDetails, ProgramPage, Scope, Window
from bot.core.pageformat import (
    ENGLISH,
    ROW_STATS,
    PageFormat,
    available_formats,
    normalize_title,
    template_key,
)

MAX_CATEGORY_DEPTH = 5
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}

#: The notice for a row the bot cannot read: a row template that is not closed (or has a
#: brace too few or too many), or whose statistics swallowed the lines after it.
UNREADABLE_ROW = "unreadable-row"


@dataclass(frozen=True)
class PageUpdate:
    """What the bot writes: statistics per row position, and the whole outcomes block."""

    row_stats: Mapping[int, Mapping[str, str]]
    outcomes_block: str


# -- names as text: what a value shows, and a value that shows a name ---------------------

#: MediaWiki's character references (Sanitizer::CHAR_REFS_REGEX without the lone "&").
_CHAR_REF = re.compile(r"&(?:([A-Za-z0-9\x80-\U0010ffff]+);|#([0-9]+);|#[xX]([0-9A-Fa-f]+);)")
#: MediaWiki's own entity names (Sanitizer::MW_ENTITY_ALIASES).
_ENTITY_ALIASES = {"\u05e8\u05dc\u05de": "rlm", "\u0631\u0644\u0645": "rlm"}
_NOWIKI = re.compile(r"<nowiki\s*>(.*?)</nowiki\s*>|<nowiki\s*/>", re.IGNORECASE | re.DOTALL)


def _valid_codepoint(code: int) -> bool:
    """Sanitizer::validateCodepoint: what a numeric reference may stand for."""
    return (
        code in (0x09, 0x0A)
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _decode_reference(match: re.Match[str]) -> str:
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        return html5.get(_ENTITY_ALIASES.get(name, name) + ";", match[0])
    digits, base = (decimal, 10) if decimal is not None else (hexadecimal, 16)
    # Python refuses to read more than 4300 digits; past 8 there is no code point anyway.
    code = int(digits, base) if len(digits.lstrip("0")) <= 8 else -1
    return chr(code) if _valid_codepoint(code) else "\ufffd"


def plain_text(value: str) -> str:
    """What a value written on a page shows, for names: ``<nowiki>`` unwrapped and
    character references (``&amp;``, ``&#61;``) decoded as MediaWiki decodes them."""
    if "<" in value:
        value = _NOWIKI.sub(lambda m: m[1] or "", value)
    return _CHAR_REF.sub(_decode_reference, value) if "&" in value else value


#: Characters that are markup wherever they stand in a template argument, a link or an
#: attribute (``=`` would make the argument a named one, ``"`` ends an attribute).
_ALWAYS_ESCAPED = frozenset('="{}|[]<>')
#: Characters that are markup in runs: two apostrophes (italics, bold), three tildes
#: (signatures, expanded when the page is saved), two underscores (__NOTOC__ and the like).
_RUN_ESCAPED = {"'": 2, "~": 3, "_": 2}
#: Characters that are markup at the start of a line (lists, rules, table cells).
_LEADING_ESCAPED = frozenset("*#:;-!")


def _run_length(value: str, index: int) -> int:
    """How long the run of equal characters that ``value[index]`` belongs to is."""
    char, start, end = value[index], index, index
    while start > 0 and value[start - 1] == char:
        start -= 1
    while end < len(value) and value[end] == char:
        end += 1
    return end - start


def inert_text(value: str) -> str:
    """Wikitext that shows ``value`` literally (no markup, signature or magic word comes
    out of it) and that :func:`plain_text` reads back as ``value``."""
    out = []
    for index, char in enumerate(value):
        if (
            char in _ALWAYS_ESCAPED
            or (char in _RUN_ESCAPED and _run_length(value, index) >= _RUN_ESCAPED[char])
            or (index == 0 and char in _LEADING_ESCAPED)
        ):
            out.append(f"&#{ord(char)};")
        elif char == "&" and _CHAR_REF.match(value, index):
            out.append("&amp;")  # a literal "&amp;" in a name must not read back as "&"
        else:
            out.append(char)
    return "".join(out)


# -- parsing ------------------------------------------------------------------------------

#: Where the preprocessor may open something that hides the rest of the page: a comment,
#: or an <includeonly> (never shown on the page itself); and the tags whose content is
#: not wikitext, so that a "<!--" inside them does not count.
_HIDING = re.compile(
    r"<!--|<(includeonly|" + "|".join(PARSER_BLACKLIST) + r")(?:\s[^>]*?)?(/?)>",
    re.IGNORECASE,
)


def _scan_tags(text: str) -> tuple[int, int | None]:
    """Where MediaWiki's preprocessor starts hiding the rest of the page (a comment or an
    ``<includeonly>`` never closed; ``len(text)`` if nowhere), and where the first
    extension tag that is never closed opens (``<nowiki>`` with no ``</nowiki>``: shown as
    text, but a closing tag written after it, in the bot's block, would close it)."""
    hidden, unclosed_at = len(text), None
    if "<" not in text:
        return hidden, unclosed_at
    unclosed: set[str] = set()  # tags with no closing tag left: MediaWiki's shortcut too
    position = 0
    while match := _HIDING.search(text, position):
        if match[0] == "<!--":
            close = text.find("-->", match.end())
            if close < 0:
                return match.start(), unclosed_at
            position = close + 3
            continue
        name = match[1].lower()
        if match[2]:  # <nowiki/>: opens nothing
            position = match.end()
            continue
        closing = None
        if name not in unclosed:
            closing = re.compile(rf"</{re.escape(name)}\s*>", re.IGNORECASE).search(
                text, match.end()
            )
        if closing is not None:
            position = closing.end()
        elif name == "includeonly":
            return match.start(), unclosed_at
        else:  # an extension tag never closed is plain text
            unclosed.add(name)
            unclosed_at = match.start() if unclosed_at is None else unclosed_at
            position = match.end()
    return hidden, unclosed_at


def _split_hidden_tail(text: str) -> tuple[str, str]:
    """The page before a comment (or ``<includeonly>``) that is never closed, and the rest:
    MediaWiki hides everything from there on, so the bot neither reads nor writes in it."""
    hidden, _ = _scan_tags(text)
    return text[:hidden], text[hidden:]


def parse_shown(text: str) -> tuple[Wikicode, str]:
    """The page parsed up to what MediaWiki hides for good, and that hidden rest."""
    body, hidden = _split_hidden_tail(text)
    return mwparserfromhell.parse(body, skip_style_tags=True), hidden


@lru_cache(maxsize=2)
def _read_only(text: str) -> tuple[Wikicode, str]:
    """:func:`parse_shown` for readers that change nothing: a refresh reads the same page
    several times (its rows, its format, its outcomes), and a 10,000-row page takes seconds
    to parse."""
    return parse_shown(text)


def _clean(param: Parameter) -> str:
    """A parameter's value without comments, stripped."""
    return "".join(str(n) for n in param.value.nodes if not isinstance(n, Comment)).strip()


def template_values(
    template: Template, key: str, fmt: PageFormat
) -> tuple[dict[str, str], list[str]]:
    """Values by canonical parameter name (the language's or English names), and the
    names of parameters the format does not know. As in MediaWiki, the last one wins."""
    values: dict[str, str] = {}
    unknown: list[str] = []
    for param in template.params:
        raw = str(param.name).strip()
        canonical = fmt.canonical_param(key, raw)
        if canonical is None:
            unknown.append(raw)
        else:
            values[canonical] = _clean(param)
    return values, unknown


def read_username(value: str) -> str:
    """A username as written in a row (``&#61;``, ``<nowiki>`` and all), normalized."""
    return normalize_title(plain_text(value))


def _find_param(template: Template, key: str, name: str, fmt: PageFormat) -> Parameter | None:
    """The parameter written for canonical ``name``, under either of its names."""
    found = None
    for param in template.params:
        if fmt.canonical_param(key, str(param.name)) == name:
            found = param
    return found


def _list(value: str, prefixes: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Comma-separated titles, normalized, without a namespace prefix from ``prefixes``."""
    items = []
    for raw in value.split(","):
        item = normalize_title(plain_text(raw))
        prefix, colon, rest = item.partition(":")
        if colon and prefix.strip().lower() in {p.lower() for p in prefixes}:
            item = normalize_title(rest)
        if item and item not in items:
            items.append(item)
    return tuple(items)


def _wiki_hosts(value: str) -> tuple[str, ...]:
    hosts: list[str] = []
    for raw in value.split(","):
        host = raw.strip().lower()
        if "://" in host:
            host = host.split("://", 1)[1]
        host = host.split("/", 1)[0]
        if host and host not in hosts:
            hosts.append(host)
    return tuple(hosts)


def _top_templates(code: Wikicode, fmt: PageFormat) -> Iterator[tuple[int, str, Template]]:
    for index, node in enumerate(code.nodes):
        if isinstance(node, Template):
            yield index, template_key(str(node.name), fmt), node


def _table_bounds(
    top: list[tuple[int, str, Template]], fmt: PageFormat
) -> tuple[int | None, int | None]:
    """Node indexes of the table's start (the first) and of its end (the first after it)."""
    start = next((i for i, key, _ in top if key == fmt.table_start), None)
    end = next(
        (i for i, key, _ in top if key == fmt.table_end and (start is None or i > start)), None
    )
    return start, end


def _unknown(unknown: list[str], key: str, fmt: PageFormat) -> list[Notice]:
    return [Notice("unknown-parameter", (name, "{{" + fmt.name(key) + "}}")) for name in unknown]


def _program_keys(fmt: PageFormat) -> frozenset[str]:
    """Templates that are part of the program's structure."""
    return fmt.bot_block_parts | {fmt.details, fmt.table_start, fmt.row, fmt.table_end}


def _overwritable(param: Parameter, fmt: PageFormat) -> bool:
    """Whether a statistics value is the bot's one-line field, and not, after a brace
    missing somewhere, the lines and rows that follow it (those stay as they are)."""
    if "\n" in _clean(param):
        return False
    keys = _program_keys(fmt)
    return not any(template_key(str(t.name), fmt) in keys for t in param.value.filter_templates())


def _texts(code: Wikicode) -> Iterator[str]:
    """The text MediaWiki reads as wikitext: all text nodes, at any depth, except inside
    tags whose content is not wikitext (``<nowiki>``, ``<pre>``...)."""
    for node in code.nodes:
        if isinstance(node, Text):
            yield node.value
        elif isinstance(node, Tag) and str(node.tag).strip().lower() in PARSER_BLACKLIST:
            continue
        else:
            for child in _children(node):
                yield from _texts(child)
            if isinstance(node, Tag) and node.attributes:
                # Text after ``{|`` is the table's attributes, which the parser splits at
                # spaces and ``=``: joined again, a broken row written there is seen
                # (only when no fragment alone has the call, so none is seen twice).
                fragments = [
                    fragment
                    for attribute in node.attributes
                    for part in (attribute.name, attribute.value)
                    if part is not None
                    for fragment in _texts(part)
                ]
                if not any("{{" in fragment for fragment in fragments):
                    continue
                joined = " ".join(fragments)
                if not _CALL.search(" ".join(f for f in fragments if "{{" in f)):
                    yield joined


def _children(node: Node) -> Iterator[Wikicode]:
    """The wikicode inside a node (template names and arguments, link texts, tag bodies),
    as mwparserfromhell's own recursive filters walk it."""
    children: Iterator[Wikicode] = node.__children__()
    return children


#: A template call that did not parse (so MediaWiki shows it as text): its name.
_CALL = re.compile(r"\{\{+\s*([^{}|<>\[\]\n]*)")
_USERNAME_IN_TEXT = re.compile(r"\|\s*username\s*=\s*([^|{}\n]*)")


def _unreadable_rows(code: Wikicode, fmt: PageFormat) -> Iterator[str]:
    """Row templates that did not come out as templates: not closed, a brace too few, or
    written with three braces. Yields what names each (its username, else its text)."""
    for text in _texts(code):
        if "{{" not in text:
            continue
        for match in _CALL.finditer(text):
            if template_key(match[1], fmt) == fmt.row:
                yield _row_label(text[match.start() :])
    for argument in code.filter_arguments(recursive=True):
        if template_key(str(argument.name), fmt) == fmt.row:
            yield _row_label(str(argument))


def _row_label(snippet: str) -> str:
    """What names a row that could not be read: its username if one shows, else its start."""
    line = snippet.split("\n", 1)[0]
    found = _USERNAME_IN_TEXT.search(line)
    name = read_username(found[1]) if found else ""
    return name or line[:60]


def _read_details(template: Template, fmt: PageFormat) -> tuple[ProgramDetails, list[Notice]]:
    values, unknown = template_values(template, fmt.details, fmt)
    notices = _unknown(unknown, fmt.details, fmt)
    window = None
    raw_start, raw_end = values.get("start", ""), values.get("end", "")
    start = parse_moment(raw_start, end_of_day=False) if raw_start else None
    end = parse_moment(raw_end, end_of_day=True) if raw_end else None
    for field_name, raw, parsed in (("start", raw_start, start), ("end", raw_end, end)):
        if not raw:
            notices.append(Notice("missing-date", (fmt.param(fmt.details, field_name),)))
        elif parsed is None:
            notices.append(Notice("bad-date", (fmt.param(fmt.details, field_name), raw)))
    if start and end:
        if end < start:
            notices.append(Notice("end-before-start", (raw_start, raw_end)))
        else:
            window = Window(start, end)

    wikis = _wiki_hosts(values.get("wikis", ""))
    if not wikis:
        notices.append(Notice("no-wikis"))

    depth_raw = values.get("category_depth") or "0"
    # ASCII digits only: str.isdigit() accepts "²", which int() refuses, and int() refuses
    # more than 4300 digits.
    depth = int(depth_raw) if re.fullmatch(r"[0-9]{1,3}", depth_raw) else -1
    if not 0 <= depth <= MAX_CATEGORY_DEPTH:
        notices.append(Notice("bad-category-depth", (depth_raw, str(MAX_CATEGORY_DEPTH))))
        depth = 0

    count_raw = values.get("count_facilitators", "")
    count = fmt.canonical_value(count_raw) if count_raw else "no"
    if count not in _YES | _NO:
        notices.append(
            Notice("bad-yes-no", (fmt.param(fmt.details, "count_facilitators"), count_raw))
        )

    registration_raw = values.get("registration", "")
    registration = fmt.canonical_value(registration_raw) if registration_raw else "open"
    if registration not in {"open", "closed"}:
        notices.append(Notice("bad-registration", (registration_raw,)))

    details = ProgramDetails(
        name=values.get("name", ""),
        organizer=normalize_title(values.get("organizer", "")),
        facilitators=_list(values.get("facilitators", "")),
        window=window,
        wikis=wikis,
        registration=registration,
        campaign=values.get("campaign", ""),
        scope=Scope(
            categories=_list(values.get("categories", ""), ("Category", fmt.category_namespace)),
            category_depth=depth,
            templates=_list(values.get("templates", ""), ("Template", fmt.template_namespace)),
            articles=_list(values.get("articles", "")),
        ),
        count_facilitators=count in _YES,
    )
    return details, notices


def parse_program_page(text: str, fmt: PageFormat | None = None) -> ProgramPage:
    """Read a program page; raises NotAProgramError when it has no {{Program details}}."""
    code, _ = _read_only(text)
    fmt = fmt or _detect(code)
    notices: list[Notice] = []
    details_templates = []
    rows: list[ParticipantRow] = []
    seen_users: set[str] = set()
    top = list(_top_templates(code, fmt))
    start_at, end_at = _table_bounds(top, fmt)
    for key in (fmt.table_start, fmt.table_end, fmt.outcomes):
        if sum(1 for _, k, _ in top if k == key) > 1:
            notices.append(Notice("several-details", ("{{" + fmt.name(key) + "}}",)))

    position = -1
    for index, key, template in top:
        if key == fmt.details:
            details_templates.append(template)
            continue
        if key in (fmt.table_start, fmt.table_end):
            notices.extend(_unknown(template_values(template, key, fmt)[1], key, fmt))
            continue
        if key != fmt.row:
            continue
        position += 1
        values, unknown = template_values(template, fmt.row, fmt)
        username = read_username(values.get("username", ""))
        inside = (start_at is None or index > start_at) and (end_at is None or index < end_at)
        if not inside:
            notices.append(Notice("row-outside-table", (username or "?",)))
            continue
        notices.extend(_unknown(unknown, fmt.row, fmt))
        if not username:
            notices.append(Notice("row-without-username", (str(position + 1),)))
            continue
        stats_params = [_find_param(template, fmt.row, name, fmt) for name in ROW_STATS]
        if not all(p is None or _overwritable(p, fmt) for p in stats_params):
            notices.append(Notice(UNREADABLE_ROW, (username,)))
            continue
        if username in seen_users:
            notices.append(Notice("duplicate-user", (username,)))
            continue
        seen_users.add(username)
        stats = tuple((name, values.get(name, "")) for name in ROW_STATS)
        rows.append(ParticipantRow(position, username, values.get("joined", ""), stats))

    if not details_templates:
        raise NotAProgramError(_why_no_details(code, text, fmt))
    if len(details_templates) > 1:
        notices.append(Notice("several-details", ("{{" + fmt.name(fmt.details) + "}}",)))
    if rows and start_at is None:
        notices.append(Notice("no-table-start", ("{{" + fmt.name(fmt.table_start) + "}}",)))
    if start_at is not None and end_at is None:
        notices.append(Notice("no-table-end", ("{{" + fmt.name(fmt.table_end) + "}}",)))

    top_ids = {id(t) for _, _, t in top}
    for template in code.filter_templates(recursive=True):
        if id(template) not in top_ids and template_key(str(template.name), fmt) == fmt.row:
            nested_values, _ = template_values(template, fmt.row, fmt)
            name = read_username(nested_values.get("username", ""))
            notices.append(Notice("nested-row", (name or "?",)))
    notices.extend(Notice(UNREADABLE_ROW, (label,)) for label in _unreadable_rows(code, fmt))

    details, detail_notices = _read_details(details_templates[0], fmt)
    return ProgramPage(details, tuple(rows), tuple(detail_notices + notices))


def _why_no_details(code: Wikicode, text: str, fmt: PageFormat) -> str:
    """The NotAProgramError message: no {{Program details}}, or one that cannot be read."""
    name = "{{" + fmt.name(fmt.details) + "}}"
    nested = [
        t
        for t in code.filter_templates(recursive=True)
        if template_key(str(t.name), fmt) == fmt.details
    ]
    if nested:
        return f"{name} is only found nested inside other markup; it must stand on its own"
    broken = [m for t in _texts(code) for m in _CALL.finditer(t)]
    if any(template_key(m[1], fmt) == fmt.details for m in broken):
        return f"{name} is not closed (a }}}} is missing), so the page cannot be read"
    if len(str(code)) < len(text):
        return f"the page does not use {name} outside a comment that is never closed (<!--)"
    return f"the page does not use {name}"


def _block_range(code: Wikicode, fmt: PageFormat) -> tuple[int, int] | None:
    """Node indexes (inclusive) of the bot-owned outcomes block, if the page has one.

    Without an end template the block is taken to be the run of bot-owned templates and
    whitespace after the start, so that organizer text after it is never swallowed.
    """
    nodes = code.nodes
    for index, key, _ in _top_templates(code, fmt):
        if key != fmt.outcomes:
            continue
        last = index
        for later in range(index + 1, len(nodes)):
            node = nodes[later]
            if isinstance(node, Template):
                later_key = template_key(str(node.name), fmt)
                if later_key == fmt.outcomes_end:
                    return index, later
                if later_key not in fmt.bot_block_parts - {fmt.outcomes}:
                    break
                last = later
            elif not (isinstance(node, Text) and not node.value.strip()):
                break
        return index, last
    return None


def current_outcomes_param(text: str, name: str, fmt: PageFormat | None = None) -> str | None:
    """A parameter of the page's {{Program outcomes}}, e.g. ``computed``; None if absent."""
    code, _ = _read_only(text)
    fmt = fmt or _detect(code)
    for _, key, template in _top_templates(code, fmt):
        if key == fmt.outcomes:
            return template_values(template, key, fmt)[0].get(name, "")
    return None


def _replace_value(param: Parameter, value: str) -> None:
    """Write ``value`` as the parameter's text; its comments and the spacing around it stay
    (an organizer's ``<!-- counted by hand -->`` is theirs, not the bot's)."""
    pieces: list[tuple[bool, str]] = []  # (is a comment, text), other nodes run together
    for node in param.value.nodes:
        is_comment = isinstance(node, Comment)
        if pieces and not is_comment and not pieces[-1][0]:
            pieces[-1] = (False, pieces[-1][1] + str(node))
        else:
            pieces.append((is_comment, str(node)))
    out: list[str] = []
    placed = False
    for is_comment, piece in pieces:
        if is_comment or not piece.strip():
            out.append(piece)
            continue
        core = piece.strip()
        lead, trail = piece[: piece.index(core)], piece[piece.index(core) + len(core) :]
        out.append(lead + ("" if placed else value) + trail)
        placed = True
    written = "".join(out)
    if not placed:  # nothing but spaces and comments: the value goes first
        rest = written.lstrip()
        written = written[: len(written) - len(rest)] + value + rest
    param.value = written


def _set_param(template: Template, key: str, name: str, value: str, fmt: PageFormat) -> None:
    """Set a bot-owned parameter under the name the page already uses, else the language's."""
    existing = _find_param(template, key, name, fmt)
    if existing is not None:
        if _clean(existing) != value and _overwritable(existing, fmt):
            _replace_value(existing, value)
    elif value:
        template.add(fmt.param(key, name), value, preserve_spacing=True)


def render_program_page(text: str, update: PageUpdate, fmt: PageFormat | None = None) -> str:
    """Write ``update`` into ``text``, changing only the bot-owned fields and block."""
    code, hidden = parse_shown(text)
    fmt = fmt or _detect(code)
    top = list(_top_templates(code, fmt))
    row_templates = [t for _, key, t in top if key == fmt.row]
    for position, stats in update.row_stats.items():
        template = row_templates[position]
        for name in ROW_STATS:
            if name in stats:
                _set_param(template, fmt.row, name, stats[name], fmt)

    nodes: list[Node] = code.nodes
    # The block must come before a tag that is never closed, or its own </nowiki> would
    # close that tag and swallow everything in between (MediaWiki reads it so too).
    limit = _node_at(nodes, _scan_tags(str(code))[1])
    block = _block_range(code, fmt)
    if block is not None and block[1] < limit:
        first, last = block
        if "".join(map(str, nodes[first : last + 1])) != update.outcomes_block:
            nodes[first : last + 1] = [Text(update.outcomes_block)]
        return str(code) + hidden
    if block is not None:
        del nodes[block[0] : block[1] + 1]
    # After the table's end as the reader sees it, else at the end of what is shown.
    _, end = _table_bounds(list(_top_templates(code, fmt)), fmt)
    position = min(len(nodes) if end is None else end + 1, limit)
    nodes.insert(position, Text("\n\n" + update.outcomes_block))
    return str(code) + hidden


def _node_at(nodes: list[Node], offset: int | None) -> int:
    """The index of the top-level node holding text offset ``offset`` (all: None)."""
    if offset is None:
        return len(nodes)
    seen = 0
    for index, node in enumerate(nodes):
        seen += len(str(node))
        if seen > offset:
            return index
    return len(nodes)


def read_outcome_rows(text: str, fmt: PageFormat | None = None) -> dict[str, dict[str, str]]:
    """The per-wiki figures of the page's outcomes block, as written (wiki -> field -> value)."""
    code, _ = _read_only(text)
    fmt = fmt or _detect(code)
    rows = {}
    for _, key, template in _top_templates(code, fmt):
        if key == fmt.outcomes_row:
            values, _ = template_values(template, key, fmt)
            wiki = values.pop("wiki", "")
            rows[fmt.canonical_value(wiki) if wiki else wiki] = values
    return rows


def _detect(code: Wikicode) -> PageFormat:
    names = {
        normalize_title(str(node.name)).partition(":")[2] or normalize_title(str(node.name))
        for node in code.nodes
        if isinstance(node, Template)
    }
    for fmt in available_formats()[1:]:
        if normalize_title(fmt.name(fmt.details)) in names:
            return fmt
    return ENGLISH


def detect_format(text: str) -> PageFormat:
    """The language a program page is written in, told by its {{Program details}} name."""
    return _detect(_read_only(text)[0])
