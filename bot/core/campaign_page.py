"""Reading a campaign page and writing the bot's block into it, on the wikitext primitives.

A campaign page carries one {{Campaign details}} (organizer-owned) and one bot-owned block
from {{Campaign programs}} to {{End of campaign programs}} inclusive. Writing replaces that
block (or inserts it right after {{Campaign details}}) and leaves every other byte alone.
"""

from __future__ import annotations

from mwparserfromhell.wikicode import Wikicode

from bot.core.dates import parse_moment
from bot.core.errors import NotACampaignError
from bot.core.model import CampaignDetails, CampaignPage, Notice
from bot.core.pageformat import PageFormat
from bot.core.wikitext import (
    block_place,
    block_range,
    detect_format,
    first_values,
    nested,
    parse_shown,
    read_only,
    template_values,
    top_templates,
)


def detect_campaign_format(text: str) -> PageFormat:
    """The language a campaign page is written in, told by its {{Campaign details}} name."""
    return detect_format(read_only(text)[0], PageFormat.campaign_details)


def is_campaign_page(text: str) -> bool:
    """Whether the page uses {{Campaign details}} at its top level (for dispatching)."""
    fmt = detect_campaign_format(text)
    code, _ = read_only(text)
    return any(key == fmt.campaign_details for _, key, _ in top_templates(code, fmt))


def parse_campaign_page(text: str, fmt: PageFormat | None = None) -> CampaignPage:
    """Read a campaign page; raises NotACampaignError when it has no {{Campaign details}}."""
    fmt = fmt or detect_campaign_format(text)
    code, _ = read_only(text)
    key = fmt.campaign_details
    found = [t for _, k, t in top_templates(code, fmt) if k == key]
    shown = "{{" + fmt.name(key) + "}}"
    if not found:
        if nested(code, key, fmt):
            raise NotACampaignError(
                f"{shown} is only found nested inside other markup; "
                "it must stand on its own in the page"
            )
        raise NotACampaignError(f"the page does not use {shown}")

    values, unknown = template_values(found[0], key, fmt)
    notices = [Notice("unknown-parameter", (name, shown)) for name in unknown]
    if len(found) > 1:
        notices.append(Notice("several-details", (shown,)))
    raw_start, raw_end = values.get("start", ""), values.get("end", "")
    start = parse_moment(raw_start, end_of_day=False) if raw_start else None
    end = parse_moment(raw_end, end_of_day=True) if raw_end else None
    for name, raw, parsed in (("start", raw_start, start), ("end", raw_end, end)):
        if raw and parsed is None:
            notices.append(Notice("campaign-bad-date", (fmt.param(key, name), raw)))
    if start and end and end < start:
        notices.append(Notice("campaign-end-before-start", (raw_start, raw_end)))
    details = CampaignDetails(
        name=values.get("name", ""),
        start=start,
        end=end,
        description=values.get("description", ""),
    )
    return CampaignPage(details, tuple(notices))


def current_campaign_param(text: str, name: str, fmt: PageFormat | None = None) -> str | None:
    """A parameter of the page's {{Campaign programs}}, e.g. ``computed``; None if absent."""
    fmt = fmt or detect_campaign_format(text)
    values = first_values(read_only(text)[0], fmt.campaign_programs, fmt)
    return None if values is None else values.get(name, "")


def render_campaign_page(text: str, block: str, fmt: PageFormat | None = None) -> str:
    """Put ``block`` into the page: in place of the existing block, else right after
    {{Campaign details}}. Every byte outside the block stays as it was; the same block
    gives back the same text."""
    fmt = fmt or detect_campaign_format(text)
    code, hidden = parse_shown(text)

    def after_details(code: Wikicode) -> int:
        for index, key, _ in top_templates(code, fmt):
            if key == fmt.campaign_details:
                return index + 1
        raise NotACampaignError(f"the page does not use {{{{{fmt.name(fmt.campaign_details)}}}}}")

    found = block_range(
        code, fmt.campaign_programs, fmt.campaign_end, fmt.campaign_block_parts, fmt
    )
    before, after = block_place(code, found, after_details)
    return before + block + after + hidden
