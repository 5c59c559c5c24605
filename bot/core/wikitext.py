"""Wikitext primitives shared by program and campaign pages: pure mwparserfromhell.

Only top-level templates count: anything inside comments, ``<nowiki>``, ``<pre>`` or
another template is not part of a page's structure, and, as in MediaWiki, a comment that
is never closed hides the rest of the page. Writing touches only what the bot owns (a
parameter's value, a block of templates); every other byte stays as it was.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from html.entities import html5

import mwparserfromhell
from mwparserfromhell.definitions import PARSER_BLACKLIST
from mwparserfromhell.nodes import Argument, Comment, Node, Tag, Template, Text
from mwparserfromhell.nodes.extras import Parameter
from mwparserfromhell.smart_list import SmartList
from mwparserfromhell.wikicode import Wikicode

from bot.core.pageformat import ENGLISH, PageFormat, available_formats
from bot.core.titles import normalize_title

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


def read_name(value: str) -> str:
    """A username or title as written in a parameter (``&#61;``, ``<nowiki>`` and all),
    normalized as MediaWiki does."""
    return normalize_title(plain_text(value))


def title_list(value: str, prefixes: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Comma-separated titles, normalized, each once, without a namespace prefix from
    ``prefixes``."""
    wanted = {p.lower() for p in prefixes}
    items: list[str] = []
    for raw in value.split(","):
        item = read_name(raw)
        prefix, colon, rest = item.partition(":")
        if colon and prefix.strip().lower() in wanted:
            item = normalize_title(rest)
        if item and item not in items:
            items.append(item)
    return tuple(items)


# -- parsing ------------------------------------------------------------------------------

#: Where the preprocessor may open something that hides the rest of the page: a comment,
#: or an <includeonly> (never shown on the page itself); and the tags whose content is
#: not wikitext, so that a "<!--" inside them does not count.
_HIDING = re.compile(
    r"<!--|<(includeonly|" + "|".join(PARSER_BLACKLIST) + r")(?:\s[^>]*?)?(/?)>",
    re.IGNORECASE,
)


def scan_tags(text: str) -> tuple[int, int | None]:
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


def parse_shown(text: str) -> tuple[Wikicode, str]:
    """The page parsed up to what MediaWiki hides for good (after a comment or an
    ``<includeonly>`` that is never closed), and that hidden rest: the bot neither reads
    nor writes in it."""
    hidden, _ = scan_tags(text)
    return mwparserfromhell.parse(text[:hidden], skip_style_tags=True), text[hidden:]


#: The last pages parsed for readers, by text (a refresh reads the same page several times:
#: its rows, its format, its outcomes; a 10,000-row page takes seconds to parse).
_TREES: dict[str, tuple[Wikicode, str]] = {}
_TREES_KEPT = 2
_TREES_LOCK = threading.Lock()


def read_only(text: str) -> tuple[Wikicode, str]:
    """:func:`parse_shown` for readers that change nothing: parsed once for all of them.
    The tree returned must not be changed."""
    with _TREES_LOCK:
        found = _TREES.get(text)
    if found is not None:
        return found
    parsed = parse_shown(text)
    with _TREES_LOCK:
        _TREES[text] = parsed
        while len(_TREES) > _TREES_KEPT:
            del _TREES[next(iter(_TREES))]
    return parsed


def forget_parsed() -> None:
    """Drop the readers' trees (tests count parses from a clean start)."""
    with _TREES_LOCK:
        _TREES.clear()


def for_writing(text: str) -> tuple[Wikicode, str]:
    """:func:`parse_shown` for a writer, who may change the tree: the readers' tree of this
    very text when there is one (it is no longer theirs: the next reader parses again),
    else a new parse. A refresh that read a page and then writes it parses it once."""
    with _TREES_LOCK:
        found = _TREES.pop(text, None)
    return found if found is not None else parse_shown(text)


def top_templates(code: Wikicode, fmt: PageFormat) -> Iterator[tuple[int, str, Template]]:
    """The top-level templates: node index, canonical name, template."""
    for index, node in enumerate(code.nodes):
        if isinstance(node, Template):
            yield index, fmt.template_key(str(node.name)), node


def detect_format(code: Wikicode, key: str) -> PageFormat:
    """The language a page is written in, told by the name it uses for the template
    ``key`` (e.g. ``Program details``): English unless a translation's name is used."""
    names = set()
    for node in code.nodes:
        if isinstance(node, Template):
            # Any namespace prefix goes: the local one (Vorlage:) is what tells the language.
            name = normalize_title(str(node.name))
            names.add(normalize_title(name.partition(":")[2]) if ":" in name else name)
    for fmt in available_formats()[1:]:
        local = fmt.name(key)
        if local != key and normalize_title(local) in names:
            return fmt
    return ENGLISH


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


def first_values(code: Wikicode, key: str, fmt: PageFormat) -> dict[str, str] | None:
    """The values of the first top-level template ``key``; None when the page has none."""
    for _, found, template in top_templates(code, fmt):
        if found == key:
            return template_values(template, key, fmt)[0]
    return None


def named_params(template: Template, key: str, fmt: PageFormat) -> dict[str, Parameter]:
    """Each parameter by its canonical name (the last one written under either of its
    names, which MediaWiki uses): a row's fields are looked up by one pass over it."""
    named = {}
    for param in template.params:
        canonical = fmt.canonical_param(key, str(param.name))
        if canonical is not None:
            named[canonical] = param
    return named


def single_line_value(param: Parameter) -> bool:
    """Whether a value is one line: a bot-owned field, and not, after a brace missing
    somewhere, the lines that follow it (those stay as they are)."""
    return "\n" not in _clean(param)


#: Where mwparserfromhell's tokenizer may start markup (its ``Tokenizer.regex``), and NUL,
#: where its C tokenizer stops reading: text with none of these parses as itself, one text
#: node, so the bot's own values (figures) are written without parsing them.
_MARKUP = re.compile(r"[{}\[\]<>|=&'#*;:/\\\"\-!\x00]")


def _plain(text: str) -> bool:
    """Whether ``text`` holds no markup: written as a text node, it is what parsing gives."""
    return not _MARKUP.search(text)


def _text_code(*texts: str | None) -> Wikicode:
    """Wikicode of plain texts (:func:`_plain`), one text node each, as parsing each gives."""
    nodes = SmartList([Text(text) for text in texts if text])  # type: ignore[no-untyped-call]
    return Wikicode(nodes)


def _replace_value(param: Parameter, value: str) -> None:
    """Write ``value`` as the parameter's text; its comments and the spacing around it stay
    (an organizer's ``<!-- counted by hand -->`` is theirs, not the bot's)."""
    pieces: list[Comment | str] = []  # comments as they are, other nodes run together
    for node in param.value.nodes:
        if isinstance(node, Comment):
            pieces.append(node)
        elif pieces and isinstance(pieces[-1], str):
            pieces[-1] += str(node)
        else:
            pieces.append(str(node))
    out: list[Comment | str] = []
    placed = False
    for piece in pieces:
        if isinstance(piece, Comment) or not piece.strip():
            out.append(piece)
            continue
        core = piece.strip()
        lead, trail = piece[: piece.index(core)], piece[piece.index(core) + len(core) :]
        out.append(lead + ("" if placed else value) + trail)
        placed = True
    if not placed:  # nothing but spaces and comments: the value goes first
        if out and isinstance(out[0], str):
            out[0] += value
        else:
            out.insert(0, value)
    if _plain(value):  # every text left is spacing or the value: no need to parse it
        nodes = [piece if isinstance(piece, Comment) else Text(piece) for piece in out if piece]
        param.value = Wikicode(SmartList(nodes))  # type: ignore[no-untyped-call]
    else:
        param.value = "".join(map(str, out))


def _select_spacing(seen: dict[str, int]) -> str | None:
    """The spacing more than half the parameters share (the first seen, on a tie)."""
    best = max(seen.values(), default=0)
    if not best or best / sum(seen.values()) <= 0.5:
        return None
    return next(spacing for spacing, count in seen.items() if count == best)


#: Spacing before and after a parameter's name (or value); None: no convention.
_Spacing = tuple[str | None, str | None]
#: A parameter's name or value: the spacing before it, and after it.
_EDGES = re.compile(r"^(\s*).*?(\s*)$", re.DOTALL)


def _spacing(template: Template) -> tuple[_Spacing, _Spacing]:
    """The spacing a template's named parameters use before and after their names, and
    before and after their values, as mwparserfromhell 0.7's
    ``Template.add(preserve_spacing=True)`` finds it."""
    seen: tuple[dict[str, int], ...] = ({}, {}, {}, {})  # before and after names, values
    for param in template.params:
        if not param.showkey:
            continue
        for at, component in ((0, str(param.name)), (2, str(param.value))):
            match = _EDGES.search(component)
            assert match is not None  # the pattern matches any text
            before, after = match[1], match[2]
            if at and component.isspace() and "\n" in before:
                # An empty value's line break belongs after it, not before.
                before, after = before.split("\n", 1)
                after = "\n" + after
            seen[at][before] = seen[at].get(before, 0) + 1
            seen[at + 1][after] = seen[at + 1].get(after, 0) + 1
    names = _select_spacing(seen[0]), _select_spacing(seen[1])
    return names, (_select_spacing(seen[2]), _select_spacing(seen[3]))


def _add_param(template: Template, name: str, value: str) -> None:
    """Add ``name=value`` at the end of the template, spaced as its parameters are.

    The same as mwparserfromhell's ``Template.add(name, value, preserve_spacing=True)``,
    without parsing plain names and values (a refresh writes thousands of figures); the
    rest (markup to escape, a key that could hide, a name already there) goes to it.
    """
    if not (_plain(name) and _plain(value)) or Parameter.can_hide_key(name) or template.has(name):
        template.add(name, value, preserve_spacing=True)
        return
    (before_name, after_name), (before_value, after_value) = _spacing(template)
    template.params.append(
        Parameter(
            _text_code(before_name, name, after_name), _text_code(before_value, value, after_value)
        )
    )


def set_param(
    template: Template,
    key: str,
    name: str,
    value: str,
    fmt: PageFormat,
    writable: Callable[[Parameter], bool] = single_line_value,
    named: Mapping[str, Parameter] | None = None,
) -> None:
    """Set a bot-owned parameter under the name the page already uses, else the
    language's; an existing value is only replaced where ``writable`` allows.
    ``named``: the template's :func:`named_params`, when the caller has them."""
    existing = (named if named is not None else named_params(template, key, fmt)).get(name)
    if existing is not None:
        if _clean(existing) != value and writable(existing):
            _replace_value(existing, value)
    elif value:
        _add_param(template, fmt.param(key, name), value)


def template_call(key: str, params: Sequence[tuple[str, str]], fmt: PageFormat) -> str:
    """A template call in the page's language (names translated, values as given)."""
    written = "".join(f"|{fmt.param(key, name)}={value}" for name, value in params)
    return "{{" + fmt.name(key) + written + "}}"


# -- text MediaWiki shows, and template calls that did not parse ----------------------------


def _children(node: Node) -> Iterator[Wikicode]:
    """The wikicode inside a node (template names and arguments, link texts, tag bodies),
    as mwparserfromhell's own recursive filters walk it."""
    children: Iterator[Wikicode] = node.__children__()
    return children


#: A template call that did not parse (so MediaWiki shows it as text): its name.
CALL = re.compile(r"\{\{+\s*([^{}|<>\[\]\n]*)")


def shown_texts(code: Wikicode) -> Iterator[str]:
    """The text MediaWiki reads as wikitext: all text nodes, at any depth, except inside
    tags whose content is not wikitext (``<nowiki>``, ``<pre>``...)."""
    for node in code.nodes:
        if isinstance(node, Text):
            yield node.value
        elif isinstance(node, Tag) and str(node.tag).strip().lower() in PARSER_BLACKLIST:
            continue
        else:
            for child in _children(node):
                yield from shown_texts(child)
            if isinstance(node, Tag) and node.attributes:
                # Text after ``{|`` is the table's attributes, which the parser splits at
                # spaces and ``=``: joined again, a broken call written there is seen
                # (only when no fragment alone has the call, so none is seen twice).
                fragments = [
                    fragment
                    for attribute in node.attributes
                    for part in (attribute.name, attribute.value)
                    if part is not None
                    for fragment in shown_texts(part)
                ]
                if not any("{{" in fragment for fragment in fragments):
                    continue
                joined = " ".join(fragments)
                if not CALL.search(" ".join(f for f in fragments if "{{" in f)):
                    yield joined


def broken_calls(code: Wikicode, key: str, fmt: PageFormat) -> Iterator[str]:
    """Calls of the template ``key`` that did not come out as templates (not closed, a
    brace too few, or written with three braces): the text from each call on."""
    for text in shown_texts(code):
        if "{{" not in text:
            continue
        for match in CALL.finditer(text):
            if fmt.template_key(match[1]) == key:
                yield text[match.start() :]
    for argument in every_node(code):
        if isinstance(argument, Argument) and fmt.template_key(str(argument.name)) == key:
            yield str(argument)


def nested(code: Wikicode, key: str, fmt: PageFormat) -> list[Template]:
    """Templates ``key`` that stand inside other markup, not at the top level."""
    top = {id(node) for node in code.nodes}
    return [
        template
        for template in every_node(code)
        if isinstance(template, Template)
        and id(template) not in top
        and fmt.template_key(str(template.name)) == key
    ]


def every_node(code: Wikicode) -> Iterator[Node]:
    """Every node at any depth, in the order of mwparserfromhell's recursive filters, at
    less than half their cost (they are run over every row of a program page)."""
    stack = list(reversed(code.nodes))
    while stack:
        node = stack.pop()
        yield node
        if type(node) is Text:
            continue  # most nodes: nothing inside
        inside = [child for part in node.__children__() for child in part.nodes]
        stack += inside[::-1]


# -- the bot's blocks -----------------------------------------------------------------------


def block_range(
    code: Wikicode, start: str, end: str, parts: frozenset[str], fmt: PageFormat
) -> tuple[int, int] | None:
    """Node indexes (inclusive) of a bot-owned block from the first top-level ``start``
    template to its ``end`` template, if the page has one.

    Without an end template the block is taken to be the run of block templates
    (``parts``) and whitespace after the start, so that organizer text after it is never
    swallowed.
    """
    nodes = code.nodes
    for index, key, _ in top_templates(code, fmt):
        if key != start:
            continue
        last = index
        for later in range(index + 1, len(nodes)):
            node = nodes[later]
            if isinstance(node, Template):
                later_key = fmt.template_key(str(node.name))
                if later_key == end:
                    return index, later
                if later_key not in parts - {start}:
                    break
                last = later
            elif not (isinstance(node, Text) and not node.value.strip()):
                break
        return index, last
    return None


def _node_at(shown: Sequence[str], offset: int | None) -> int:
    """The index of the top-level node (``shown`` as text) holding text offset ``offset``
    (all: None)."""
    if offset is None:
        return len(shown)
    seen = 0
    for index, text in enumerate(shown):
        seen += len(text)
        if seen > offset:
            return index
    return len(shown)


def block_place(
    code: Wikicode,
    found: tuple[int, int] | None,
    insert_at: Callable[[Wikicode], int],
) -> tuple[str, str]:
    """The text before and after the place of a bot-owned block: the nodes ``found``,
    else a paragraph of its own at the node index ``insert_at`` gives. The block is
    written between the two, so one page serves any block (the same figures with another
    computed time, say).

    The block must come before a tag that is never closed, or its own closing tags
    (``</nowiki>`` in a notice) would close that tag and swallow everything in between,
    as MediaWiki reads it: a block standing after one is moved before it.
    """
    shown = [str(node) for node in code.nodes]
    limit = _node_at(shown, scan_tags("".join(shown))[1])
    if found is not None and found[1] < limit:
        return "".join(shown[: found[0]]), "".join(shown[found[1] + 1 :])
    if found is not None:
        del code.nodes[found[0] : found[1] + 1]
        del shown[found[0] : found[1] + 1]
    at = min(insert_at(code), limit)
    return "".join(shown[:at]) + "\n\n", "".join(shown[at:])
