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
from mwparserfromhell.wikicode import Wikicode

from bot.dates import parse_moment
from bot.errors import NotAProgramError
from bot.model import Notice, ParticipantRow, ProgramDetails, ProgramPage, Scope, Window
from bot.pageformat import (
    DETAILS_PARAMS,
    ENGLISH,
    ROW_PARAMS,
    ROW_STATS,
    PageFormat,
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


def _value(template: Template, name: str) -> str:
    """A parameter's value without comments, stripped; empty when absent."""
    if not template.has(name):
        return ""
    nodes = template.get(name).value.nodes
    return "".join(str(n) for n in nodes if not isinstance(n, Comment)).strip()


def _list(value: str, prefix: str | None = None) -> tuple[str, ...]:
    items = []
    for raw in value.split(","):
        item = normalize_title(raw)
        if prefix and item.lower().startswith(prefix.lower() + ":"):
            item = normalize_title(item[len(prefix) + 1 :])
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


def _unknown_params(template: Template, known: frozenset[str], where: str) -> list[Notice]:
    return [
        Notice("unknown-parameter", (str(p.name).strip(), "{{" + where + "}}"))
        for p in template.params
        if str(p.name).strip() not in known
    ]


def _read_details(template: Template, fmt: PageFormat) -> tuple[ProgramDetails, list[Notice]]:
    notices = _unknown_params(template, DETAILS_PARAMS, fmt.details)
    window = None
    raw_start, raw_end = _value(template, "start"), _value(template, "end")
    start = parse_moment(raw_start, end_of_day=False) if raw_start else None
    end = parse_moment(raw_end, end_of_day=True) if raw_end else None
    for field_name, raw, parsed in (("start", raw_start, start), ("end", raw_end, end)):
        if not raw:
            notices.append(Notice("missing-date", (field_name,)))
        elif parsed is None:
            notices.append(Notice("bad-date", (field_name, raw)))
    if start and end:
        if end < start:
            notices.append(Notice("end-before-start", (raw_start, raw_end)))
        else:
            window = Window(start, end)

    wikis = _wiki_hosts(_value(template, "wikis"))
    if not wikis:
        notices.append(Notice("no-wikis"))

    depth_raw = _value(template, "category_depth") or "0"
    depth = int(depth_raw) if depth_raw.isdigit() else -1
    if not 0 <= depth <= MAX_CATEGORY_DEPTH:
        notices.append(Notice("bad-category-depth", (depth_raw, str(MAX_CATEGORY_DEPTH))))
        depth = 0

    count_raw = _value(template, "count_facilitators").lower()
    if count_raw not in _YES | _NO:
        notices.append(Notice("bad-yes-no", ("count_facilitators", count_raw)))

    registration = _value(template, "registration").lower() or "open"
    if registration not in {"open", "closed"}:
        notices.append(Notice("bad-registration", (registration,)))

    details = ProgramDetails(
        name=_value(template, "name"),
        organizer=normalize_title(_value(template, "organizer")),
        facilitators=_list(_value(template, "facilitators")),
        window=window,
        wikis=wikis,
        registration=registration,
        campaign=_value(template, "campaign"),
        scope=Scope(
            categories=_list(_value(template, "categories"), "Category"),
            category_depth=depth,
            templates=_list(_value(template, "templates"), fmt.template_namespace),
            articles=_list(_value(template, "articles")),
        ),
        count_facilitators=count_raw in _YES,
    )
    return details, notices


def parse_program_page(text: str, fmt: PageFormat = ENGLISH) -> ProgramPage:
    """Read a program page; raises NotAProgramError when it has no {{Program details}}."""
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
        username = normalize_title(_value(template, "username"))
        inside = (start_at is None or index > start_at) and (end_at is None or index < end_at)
        if not inside:
            notices.append(Notice("row-outside-table", (username or "?",)))
            continue
        notices.extend(_unknown_params(template, ROW_PARAMS, fmt.row))
        if not username:
            notices.append(Notice("row-without-username", (str(position + 1),)))
            continue
        if username in seen_users:
            notices.append(Notice("duplicate-user", (username,)))
            continue
        seen_users.add(username)
        stats = tuple((name, _value(template, name)) for name in ROW_STATS)
        rows.append(ParticipantRow(position, username, _value(template, "joined"), stats))

    if not details_templates:
        nested = [
            t
            for t in code.filter_templates(recursive=True)
            if template_key(str(t.name), fmt) == fmt.details
        ]
        if nested:
            raise NotAProgramError(
                f"{{{{{fmt.details}}}}} is only found nested inside other markup; "
                "it must stand on its own in the page"
            )
        raise NotAProgramError(f"the page does not use {{{{{fmt.details}}}}}")
    if len(details_templates) > 1:
        notices.append(Notice("several-details", ("{{" + fmt.details + "}}",)))
    if rows and start_at is None:
        notices.append(Notice("no-table-start", ("{{" + fmt.table_start + "}}",)))
    if start_at is not None and end_at is None:
        notices.append(Notice("no-table-end", ("{{" + fmt.table_end + "}}",)))

    top_ids = {id(t) for _, _, t in top}
    for template in code.filter_templates(recursive=True):
        if id(template) not in top_ids and template_key(str(template.name), fmt) == fmt.row:
            notices.append(Notice("nested-row", (_value(template, "username") or "?",)))

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


def current_outcomes_param(text: str, name: str, fmt: PageFormat = ENGLISH) -> str | None:
    """A parameter of the page's {{Program outcomes}}, e.g. ``computed``; None if absent."""
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    for _, key, template in _top_templates(code, fmt):
        if key == fmt.outcomes:
            return _value(template, name)
    return None


def _set_param(template: Template, name: str, value: str) -> None:
    if template.has(name):
        if _value(template, name) != value:
            template.add(name, value, preserve_spacing=True)
    elif value:
        template.add(name, value, preserve_spacing=True)


def render_program_page(text: str, update: PageUpdate, fmt: PageFormat = ENGLISH) -> str:
    """Write ``update`` into ``text``, changing only the bot-owned fields and block."""
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    row_templates = [t for _, key, t in _top_templates(code, fmt) if key == fmt.row]
    for position, stats in update.row_stats.items():
        template = row_templates[position]
        for name in ROW_STATS:
            if name in stats:
                _set_param(template, name, stats[name])

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


def read_outcome_rows(text: str, fmt: PageFormat = ENGLISH) -> dict[str, dict[str, str]]:
    """The per-wiki figures of the page's outcomes block, as written (wiki -> field -> value)."""
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    rows = {}
    for _, key, template in _top_templates(code, fmt):
        if key == fmt.outcomes_row:
            rows[_value(template, "wiki")] = {
                str(p.name).strip(): _value(template, str(p.name).strip())
                for p in template.params
                if str(p.name).strip() != "wiki"
            }
    return rows
