"""Reading a program page and writing the bot's fields back, on the wikitext primitives.

The organizers own {{Program details}}, which rows exist, and all prose; the bot owns the
statistics of the rows and the block from {{Program outcomes}} to {{End of program
outcomes}}. What looks like a part of the program but cannot be read (a row template that
is not closed, say) gives a notice rather than vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mwparserfromhell.nodes import Template, Text
from mwparserfromhell.nodes.extras import Parameter
from mwparserfromhell.wikicode import Wikicode

from bot.core.dashboard import ROW_POSITIONS, row_username
from bot.core.dashboard import details_values as dashboard_details
from bot.core.dates import parse_moment
from bot.core.errors import NotAProgramError
from bot.core.event_registration import parse_event_ref
from bot.core.goals import parse_goals
from bot.core.hashtags import parse_hashtags
from bot.core.model import Notice, ParticipantRow, ProgramDetails, ProgramPage, Scope, Window
from bot.core.pageformat import ROW_STATS, PageFormat
from bot.core.titles import normalize_title
from bot.core.wikitext import (
    block_place,
    block_range,
    broken_calls,
    first_values,
    for_writing,
    named_params,
    nested,
    read_name,
    read_only,
    set_param,
    single_line_value,
    template_call,
    template_values,
    title_list,
    top_templates,
)
from bot.core.wikitext import detect_format as _detect_format

MAX_CATEGORY_DEPTH = 5
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}

#: The notice for a row the bot cannot read: a row template that is not closed (or has a
#: brace too few or too many), or whose statistics swallowed the lines after it.
UNREADABLE_ROW = "unreadable-row"
_USERNAME_IN_TEXT = re.compile(r"\|\s*username\s*=\s*([^|{}\n]*)")
#: A link as organizers paste a user into a row: ``[[User:Alice|Alice]]``, ``[[User:Alice]]``.
_LINK = re.compile(r"\[\[\s*([^\[\]|]*?)\s*(?:\|[^\[\]]*)?\]\]")


def read_username(value: str, fmt: PageFormat) -> str:
    """A participant's name as written in a row: the name itself, or as organizers paste
    it, with the namespace (``User:Alice``) or as a link to the user page
    (``[[User:Alice|Alice]]``). No username contains ":", so the prefix is never a name's
    own part."""
    link = _LINK.fullmatch(value.strip())
    name = read_name(link[1] if link else value)
    prefix, colon, rest = name.partition(":")
    if colon and prefix.strip().lower() in {"user", fmt.user_namespace.lower()}:
        name = normalize_title(rest)
    return name


@dataclass(frozen=True)
class PageUpdate:
    """What the bot writes: statistics per row position, and the whole outcomes block."""

    row_stats: Mapping[int, Mapping[str, str]]
    outcomes_block: str
    #: The outcomes block as it reads when nothing but the computed time is new (with the
    #: page's own time): a page that reads so already is left as it is, so that the
    #: computed time changes only when something else does.
    unchanged_block: str | None = None


def detect_format(text: str) -> PageFormat:
    """The language a program page is written in, told by its {{Program details}} name."""
    return _detect_format(read_only(text)[0], PageFormat.details)


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


def _overwritable(param: Parameter, fmt: PageFormat) -> bool:
    """Whether a statistics value is the bot's one-line field, and not, after a brace
    missing somewhere, the lines and rows that follow it (those stay as they are)."""
    if not single_line_value(param):
        return False
    if "{{" not in str(param.value):
        return True  # no template inside (the common case: a figure): no walk over it
    keys = fmt.bot_block_parts | {fmt.details, fmt.table_start, fmt.row, fmt.table_end}
    return not any(fmt.template_key(str(t.name)) in keys for t in param.value.filter_templates())


def _row_label(snippet: str) -> str:
    """What names a row that could not be read: its username if one shows, else its start."""
    line = snippet.split("\n", 1)[0]
    found = _USERNAME_IN_TEXT.search(line)
    name = read_name(found[1]) if found else ""
    return name or line[:60]


def _read_details(template: Template, fmt: PageFormat) -> tuple[ProgramDetails, list[Notice]]:
    values, unknown = template_values(template, fmt.details, fmt)
    from_dashboard, read, dashboard = dashboard_details(template)
    for name, value in from_dashboard.items():
        values.setdefault(name, value)
    notices = _unknown([name for name in unknown if name not in read], fmt.details, fmt)
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
    if not wikis and not dashboard:  # a Dashboard's page counts its own wiki
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

    event = None
    event_raw = values.get("event_registration", "")
    if event_raw:
        event = parse_event_ref(event_raw)
        if event is None:
            notices.append(Notice("bad-event-registration", (event_raw,)))

    goals, bad_goals = parse_goals(values.get("goals", ""))
    notices.extend(Notice("bad-goal", (goal,)) for goal in bad_goals)
    hashtags, bad_tags = parse_hashtags(values.get("hashtags", ""))
    notices.extend(Notice("bad-hashtag", (tag,)) for tag in bad_tags)

    details = ProgramDetails(
        name=values.get("name", ""),
        organizer=normalize_title(values.get("organizer", "")),
        facilitators=title_list(values.get("facilitators", "")),
        window=window,
        wikis=wikis,
        registration=registration,
        campaign=values.get("campaign", ""),
        scope=Scope(
            categories=title_list(
                values.get("categories", ""), ("Category", fmt.category_namespace)
            ),
            category_depth=depth,
            templates=title_list(values.get("templates", ""), ("Template", fmt.template_namespace)),
            articles=title_list(values.get("articles", "")),
        ),
        count_facilitators=count in _YES,
        event=event,
        hashtags=hashtags,
        dashboard=dashboard,
        goals=goals,
    )
    return details, notices


def parse_program_page(text: str, fmt: PageFormat | None = None) -> ProgramPage:
    """Read a program page; raises NotAProgramError when it has no {{Program details}}."""
    code, _ = read_only(text)
    fmt = fmt or _detect_format(code, PageFormat.details)
    notices: list[Notice] = []
    details_templates = []
    rows: list[ParticipantRow] = []
    seen_users: set[str] = set()
    top = list(top_templates(code, fmt))
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
        if "username" not in values:  # as the Programs & Events Dashboard writes rows
            values["username"] = row_username(template) or ""
        unknown = [name for name in unknown if name not in ROW_POSITIONS]
        username = read_username(values.get("username", ""), fmt)
        inside = (start_at is None or index > start_at) and (end_at is None or index < end_at)
        if not inside:
            notices.append(Notice("row-outside-table", (username or "?",)))
            continue
        notices.extend(_unknown(unknown, fmt.row, fmt))
        if not username:
            notices.append(Notice("row-without-username", (str(position + 1),)))
            continue
        named = named_params(template, fmt.row, fmt)
        stats_params = [named.get(name) for name in ROW_STATS]
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

    for template in nested(code, fmt.row, fmt):
        nested_values, _ = template_values(template, fmt.row, fmt)
        name = read_username(nested_values.get("username", ""), fmt)
        notices.append(Notice("nested-row", (name or "?",)))
    for snippet in broken_calls(code, fmt.row, fmt):
        notices.append(Notice(UNREADABLE_ROW, (_row_label(snippet),)))

    details, detail_notices = _read_details(details_templates[0], fmt)
    if not details.count_facilitators:
        # The box says facilitators are not counted; a row of their own counts them.
        listed = {row.username for row in rows}
        notices.extend(
            Notice("facilitator-listed", (name,)) for name in details.facilitators if name in listed
        )
    return ProgramPage(details, tuple(rows), tuple(detail_notices + notices))


def _why_no_details(code: Wikicode, text: str, fmt: PageFormat) -> str:
    """The NotAProgramError message: no {{Program details}}, or one that cannot be read."""
    name = "{{" + fmt.name(fmt.details) + "}}"
    if nested(code, fmt.details, fmt):
        return f"{name} is only found nested inside other markup; it must stand on its own"
    if any(True for _ in broken_calls(code, fmt.details, fmt)):
        return f"{name} is not closed (a }}}} is missing), so the page cannot be read"
    if len(str(code)) < len(text):
        return f"the page does not use {name} outside a comment that is never closed (<!--)"
    return f"the page does not use {name}"


def current_outcomes_params(text: str, fmt: PageFormat | None = None) -> dict[str, str] | None:
    """The parameters of the page's {{Program outcomes}} by canonical name; None without
    one (finding it walks every row before it: ask once for several parameters)."""
    code, _ = read_only(text)
    fmt = fmt or _detect_format(code, PageFormat.details)
    return first_values(code, fmt.outcomes, fmt)


def current_outcomes_param(text: str, name: str, fmt: PageFormat | None = None) -> str | None:
    """A parameter of the page's {{Program outcomes}}, e.g. ``computed``; None if absent."""
    values = current_outcomes_params(text, fmt)
    return None if values is None else values.get(name, "")


def read_outcome_rows(text: str, fmt: PageFormat | None = None) -> dict[str, dict[str, str]]:
    """The per-wiki figures of the page's outcomes block, as written (wiki -> field -> value)."""
    code, _ = read_only(text)
    fmt = fmt or _detect_format(code, PageFormat.details)
    rows = {}
    for _, key, template in top_templates(code, fmt):
        if key == fmt.outcomes_row:
            values, _ = template_values(template, key, fmt)
            wiki = values.pop("wiki", "")
            rows[fmt.canonical_value(wiki) if wiki else wiki] = values
    return rows


def render_program_page(text: str, update: PageUpdate, fmt: PageFormat | None = None) -> str:
    """Write ``update`` into ``text``, changing only the bot-owned fields and block (the
    page is parsed once, whatever the number of rows).

    Without an outcomes block the block goes after the table's end as the reader sees it,
    else at the end of what is shown. A participants table that is never closed would
    swallow everything after it, the bot's block and the organizer's prose alike: the bot
    closes it with {{End of participants table}} after its last row (the one thing it adds
    outside what it owns; the notice says so).
    """
    code, hidden = for_writing(text)
    fmt = fmt or _detect_format(code, PageFormat.details)
    top = list(top_templates(code, fmt))
    start, end = _table_bounds(top, fmt)
    if start is not None and end is None:
        last = max([i for i, key, _ in top if key == fmt.row and i > start], default=start)
        code.nodes.insert(last + 1, Text("\n" + template_call(fmt.table_end, [], fmt)))
    row_templates = [t for _, key, t in top_templates(code, fmt) if key == fmt.row]
    for position, stats in update.row_stats.items():
        template = row_templates[position]
        named = named_params(template, fmt.row, fmt)
        for name in ROW_STATS:
            if name in stats:
                set_param(
                    template,
                    fmt.row,
                    name,
                    stats[name],
                    fmt,
                    lambda p: _overwritable(p, fmt),
                    named=named,
                )

    def after_table(code: Wikicode) -> int:
        _, end = _table_bounds(list(top_templates(code, fmt)), fmt)
        return len(code.nodes) if end is None else end + 1

    found = block_range(code, fmt.outcomes, fmt.outcomes_end, fmt.bot_block_parts, fmt)
    before, after = block_place(code, found, after_table)
    after += hidden
    if update.unchanged_block is not None and before + update.unchanged_block + after == text:
        return text
    return before + update.outcomes_block + after
