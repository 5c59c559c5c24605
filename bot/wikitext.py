"""Reading a program page and writing the bot's fields back: pure mwparserfromhell.

Only top-level templates count: anything inside comments, ``<nowiki>``, ``<pre>`` or
another template is not read as part of the program. Rendering touches only what the bot
owns (row statistics and the outcomes block); every other byte stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import mwparserfromhell
from mwparserfromhell.nodes import Comment, Node, Template, Text
from mwparserfromhell.nodes.extras import Parameter
from mwparserfromhell.wikicode import Wikicode

from bot.dates import parse_moment
from bot.errors import NotAProgramError
from bot.model import Notice, ParticipantRow, ProgramDetails, ProgramPage, Scope, Window
from bot.pageformat import (
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


@dataclass(frozen=True)
class PageUpdate:
    """What the bot writes: statistics per row position, and the whole outcomes block."""

    row_stats: Mapping[int, Mapping[str, str]]
    outcomes_block: str


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
        item = normalize_title(raw)
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


def _unknown(unknown: list[str], key: str, fmt: PageFormat) -> list[Notice]:
    return [Notice("unknown-parameter", (name, "{{" + fmt.name(key) + "}}")) for name in unknown]


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
    depth = int(depth_raw) if depth_raw.isdigit() else -1
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
    fmt = fmt or detect_format(text)
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    notices: list[Notice] = []
    details_templates = []
    rows: list[ParticipantRow] = []
    seen_users: set[str] = set()
    top = list(_top_templates(code, fmt))
    starts = [index for index, key, _ in top if key == fmt.table_start]
    start_at = starts[0] if starts else None
    ends = [
        index
        for index, key, _ in top
        if key == fmt.table_end and (start_at is None or index > start_at)
    ]
    end_at = ends[0] if ends else None

    position = -1
    for index, key, template in top:
        if key == fmt.details:
            details_templates.append(template)
            continue
        if key != fmt.row:
            continue
        position += 1
        values, unknown = template_values(template, fmt.row, fmt)
        username = normalize_title(values.get("username", ""))
        inside = (start_at is None or index > start_at) and (end_at is None or index < end_at)
        if not inside:
            notices.append(Notice("row-outside-table", (username or "?",)))
            continue
        notices.extend(_unknown(unknown, fmt.row, fmt))
        if not username:
            notices.append(Notice("row-without-username", (str(position + 1),)))
            continue
        if username in seen_users:
            notices.append(Notice("duplicate-user", (username,)))
            continue
        seen_users.add(username)
        stats = tuple((name, values.get(name, "")) for name in ROW_STATS)
        rows.append(ParticipantRow(position, username, values.get("joined", ""), stats))

    if not details_templates:
        nested = [
            t
            for t in code.filter_templates(recursive=True)
            if template_key(str(t.name), fmt) == fmt.details
        ]
        if nested:
            raise NotAProgramError(
                f"{{{{{fmt.name(fmt.details)}}}}} is only found nested inside other markup; "
                "it must stand on its own in the page"
            )
        raise NotAProgramError(f"the page does not use {{{{{fmt.name(fmt.details)}}}}}")
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
            notices.append(Notice("nested-row", (nested_values.get("username") or "?",)))

    details, detail_notices = _read_details(details_templates[0], fmt)
    return ProgramPage(details, tuple(rows), tuple(detail_notices + notices))


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
    fmt = fmt or detect_format(text)
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    for _, key, template in _top_templates(code, fmt):
        if key == fmt.outcomes:
            return template_values(template, key, fmt)[0].get(name, "")
    return None


def _set_param(template: Template, key: str, name: str, value: str, fmt: PageFormat) -> None:
    """Set a bot-owned parameter under the name the page already uses, else the language's."""
    existing = _find_param(template, key, name, fmt)
    if existing is not None:
        if _clean(existing) != value:
            template.add(existing.name, value, preserve_spacing=True)
    elif value:
        template.add(fmt.param(key, name), value, preserve_spacing=True)


def render_program_page(text: str, update: PageUpdate, fmt: PageFormat | None = None) -> str:
    """Write ``update`` into ``text``, changing only the bot-owned fields and block."""
    fmt = fmt or detect_format(text)
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    row_templates = [t for _, key, t in _top_templates(code, fmt) if key == fmt.row]
    for position, stats in update.row_stats.items():
        template = row_templates[position]
        for name in ROW_STATS:
            if name in stats:
                _set_param(template, fmt.row, name, stats[name], fmt)

    block = _block_range(code, fmt)
    nodes: list[Node] = code.nodes
    if block is not None:
        first, last = block
        if "".join(map(str, nodes[first : last + 1])) != update.outcomes_block:
            nodes[first : last + 1] = [Text(update.outcomes_block)]
    else:
        ends = [i for i, key, _ in _top_templates(code, fmt) if key == fmt.table_end]
        if ends:
            nodes.insert(ends[0] + 1, Text("\n\n" + update.outcomes_block))
        else:
            nodes.append(Text("\n\n" + update.outcomes_block))
    return str(code)


def read_outcome_rows(text: str, fmt: PageFormat | None = None) -> dict[str, dict[str, str]]:
    """The per-wiki figures of the page's outcomes block, as written (wiki -> field -> value)."""
    fmt = fmt or detect_format(text)
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    rows = {}
    for _, key, template in _top_templates(code, fmt):
        if key == fmt.outcomes_row:
            values, _ = template_values(template, key, fmt)
            wiki = values.pop("wiki", "")
            rows[fmt.canonical_value(wiki) if wiki else wiki] = values
    return rows


def detect_format(text: str) -> PageFormat:
    """The language a program page is written in, told by its {{Program details}} name."""
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    names = {
        normalize_title(str(node.name)).partition(":")[2] or normalize_title(str(node.name))
        for node in code.nodes
        if isinstance(node, Template)
    }
    for fmt in available_formats()[1:]:
        if normalize_title(fmt.name(fmt.details)) in names:
            return fmt
    return ENGLISH
