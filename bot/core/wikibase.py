"""Wikidata figures from the edit summaries Wikibase writes (no request per revision).

Wikibase starts every summary of its own API with an autocomment
``/* KEY:N|lang-or-site|more */``: KEY names the message (``wikibase-entity-summary-KEY``
in Wikibase's lib/i18n/en.json), N is the number of the summary's arguments. Only the
keys below say unambiguously what was added; the rest (``wbeditentity-update``, removals,
changes of existing values, the Wikidata UI's older summaries) add nothing to the figures.
"""

from __future__ import annotations

import re

#: The figures, in the order they are written.
WIKIDATA_FIGURES = (
    "wikidata_items_created",
    "wikidata_statements",
    "wikidata_labels",
    "wikidata_descriptions",
    "wikidata_aliases",
    "wikidata_sitelinks",
    "wikidata_merges",
)

#: Autocomment key -> what it adds to each figure. ``N`` stands for the summary's count
#: (aliases: each one added is named in the summary).
_ACTIONS: dict[str, tuple[tuple[str, int | str], ...]] = {
    "wbeditentity-create-item": (("wikidata_items_created", 1),),
    # Older Wikibase (before the create summaries were split by entity type).
    "wbeditentity-create": (("wikidata_items_created", 1),),
    "wbcreateclaim-create": (("wikidata_statements", 1),),
    "wbsetclaim-create": (("wikidata_statements", 1),),
    "wbsetlabel-add": (("wikidata_labels", 1),),
    "wbsetdescription-add": (("wikidata_descriptions", 1),),
    "wbsetaliases-add": (("wikidata_aliases", "N"),),
    "wbsetsitelink-add": (("wikidata_sitelinks", 1),),
    # The same with badges.
    "wbsetsitelink-add-both": (("wikidata_sitelinks", 1),),
    # wblinktitles: "connect" adds one page's sitelink to the other's item, "create" makes
    # a new item with both.
    "wblinktitles-connect": (("wikidata_sitelinks", 1),),
    "wblinktitles-create": (("wikidata_items_created", 1), ("wikidata_sitelinks", 2)),
    # A merge writes a summary on both items; the one merged away names the merge.
    "wbmergeitems-from": (("wikidata_merges", 1),),
}
_AUTOCOMMENT = re.compile(r"^\s*/\*\s*([a-z-]+):(\d+)\s*(?:\||\*/)")


def summary_action(comment: str) -> str:
    """The countable Wikibase action a summary names, as ``KEY:N``; "" for any other."""
    found = _AUTOCOMMENT.match(comment)
    if found is None or found.group(1) not in _ACTIONS:
        return ""
    return f"{found.group(1)}:{int(found.group(2))}"


def action_figures(action: str) -> tuple[tuple[str, int], ...]:
    """What an action (from summary_action) adds to which figures."""
    key, _, number = action.partition(":")
    count = int(number) if number.isdigit() else 0
    return tuple(
        (figure, count if amount == "N" else int(amount))
        for figure, amount in _ACTIONS.get(key, ())
    )
