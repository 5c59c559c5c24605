"""The names of the templates, parameters and values a program page is written with.

The code speaks the English (canonical) names everywhere; a PageFormat maps them to the
names of one language, read from ``i18n/templates/<lang>.json``. Reading accepts both the
language's names and the English ones; writing uses the language's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib.resources.abc import Traversable
from typing import Any

from bot.core import resources
from bot.core.dashboard import TEMPLATE_ALIASES
from bot.core.errors import ConfigError
from bot.core.extras import EXTRA_FIELDS
from bot.core.titles import normalize_title
from bot.core.wikibase import WIKIDATA_FIGURES

TRANSLATIONS_DIR = resources.i18n("templates")

#: Statistics fields of a participant row, in the order the bot adds missing ones.
ROW_STATS = ("edits", "articles_edited", "articles_created", "bytes_added", "uploads")

#: Figures of a per-wiki outcomes row.
OUTCOME_FIELDS = (
    "edits",
    "mainspace_edits",
    "articles_edited",
    "articles_created",
    "bytes_added",
    "uploads",
    "deleted",
)

#: Figures of the whole program on {{Program outcomes}} beyond the table's (the Wikidata
#: ones written only when one is not zero).
CONTENT_FIELDS = ("references_added", *WIKIDATA_FIGURES)

DETAILS_PARAMS = frozenset(
    {
        "name",
        "organizer",
        "facilitators",
        "start",
        "end",
        "wikis",
        "registration",
        "campaign",
        "categories",
        "category_depth",
        "templates",
        "articles",
        "count_facilitators",
        "event_registration",
        "hashtags",
        "goals",
    }
)

ROW_PARAMS = frozenset({"username", "joined", *ROW_STATS})

#: Figures of a {{Campaign program row}}, in the order they are written.
CAMPAIGN_ROW_FIGURES = (
    "participants",
    "edits",
    "articles_edited",
    "articles_created",
    "bytes_added",
    "uploads",
)


@dataclass(frozen=True)
class PageFormat:
    """One language's names for the program format.

    The attributes ``details``, ``row``, ... are the canonical (English) keys the code
    compares with; :meth:`name`, :meth:`param` and :meth:`value` give what is written.
    """

    lang: str = "en"
    template_namespace: str = "Template"
    category_namespace: str = "Category"
    user_namespace: str = "User"
    local_names: Mapping[str, str] = field(default_factory=dict)
    local_params: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    local_values: Mapping[str, str] = field(default_factory=dict)

    details = "Program details"
    table_start = "Participants table"
    row = "Participant table row"
    table_end = "End of participants table"
    outcomes = "Program outcomes"
    outcomes_row = "Program outcomes row"
    deleted_article = "Program deleted article"
    source_participant = "Program source participant"
    goal = "Program goal"
    activity = "Program activity"
    activity_row = "Program activity row"
    notice = "Program notice"
    outcomes_end = "End of program outcomes"
    participant_marker = "Participant editor"
    instructor_marker = "Program instructor"
    assignment_marker = "Program assignment"
    campaign_details = "Campaign details"
    campaign_programs = "Campaign programs"
    campaign_row = "Campaign program row"
    campaign_notice = "Campaign notice"
    campaign_end = "End of campaign programs"

    @property
    def bot_block_parts(self) -> frozenset[str]:
        """Templates that may only appear inside the bot-owned outcomes block."""
        return frozenset(
            {
                self.outcomes,
                self.outcomes_row,
                self.deleted_article,
                self.source_participant,
                self.goal,
                self.activity,
                self.activity_row,
                self.notice,
                self.outcomes_end,
            }
        )

    @property
    def campaign_block_parts(self) -> frozenset[str]:
        """Templates that make up the bot-owned block of a campaign page."""
        return frozenset(
            {
                self.campaign_programs,
                self.campaign_row,
                self.activity,
                self.activity_row,
                self.campaign_notice,
                self.campaign_end,
            }
        )

    def name(self, template: str) -> str:
        """The name this language writes for a canonical template name."""
        return self.local_names.get(template, template)

    def param(self, template: str, param: str) -> str:
        """The name this language writes for a canonical parameter of a template."""
        return self.local_params.get(template, {}).get(param, param)

    def value(self, canonical: str) -> str:
        """How this language writes a value such as ``open`` or ``yes``."""
        return self.local_values.get(canonical, canonical)

    def canonical_value(self, written: str) -> str:
        """The canonical value for one written in this language (or in English)."""
        lowered = written.strip().lower()
        for canonical, local in self.local_values.items():
            if lowered == local.lower():
                return canonical
        return lowered

    def template_key(self, raw_name: str) -> str:
        """The canonical name of a template as used on a page; unknown names normalized.

        ``Template:`` or the language's namespace prefix is dropped first.
        """
        name = normalize_title(raw_name)
        prefix, colon, rest = name.partition(":")
        namespaces = {"template", self.template_namespace.lower()}
        if colon and prefix.strip().lower() in namespaces:
            name = normalize_title(rest)
        return self._canonical_names.get(name, name)

    def canonical_param(self, template: str, raw: str) -> str | None:
        """The canonical name of a parameter written on a page, None if unknown."""
        raw = raw.strip()
        local = self.local_params.get(template, {})
        for canonical, written in local.items():
            if raw == written:
                return canonical
        return raw if raw in _KNOWN_PARAMS.get(template, frozenset()) else None

    @cached_property
    def _canonical_names(self) -> dict[str, str]:
        # Pages the Programs & Events Dashboard wrote are read in every language.
        names = {normalize_title(k): v for k, v in TEMPLATE_ALIASES.items()}
        names.update({normalize_title(k): k for k in _KNOWN_PARAMS})
        names.update({normalize_title(v): k for k, v in self.local_names.items()})
        return names


_KNOWN_PARAMS: dict[str, frozenset[str]] = {
    PageFormat.details: DETAILS_PARAMS,
    PageFormat.table_start: frozenset(),
    PageFormat.row: ROW_PARAMS,
    PageFormat.table_end: frozenset(),
    PageFormat.outcomes: frozenset(
        {"computed", "participants", "sentence", *EXTRA_FIELDS, *CONTENT_FIELDS}
    ),
    # wiki_name: what the row shows for its wiki (wiki stays the key).
    PageFormat.outcomes_row: frozenset({"wiki", "wiki_name", *OUTCOME_FIELDS}),
    PageFormat.deleted_article: frozenset({"wiki", "title"}),
    PageFormat.source_participant: frozenset({"source", "username", *ROW_STATS}),
    PageFormat.goal: frozenset({"goal", "target", "reached"}),
    PageFormat.activity: frozenset({"period", "max", "columns"}),
    PageFormat.activity_row: frozenset({"start", "edits", "articles", "max", "columns"}),
    PageFormat.notice: frozenset({"message"}),
    PageFormat.outcomes_end: frozenset(),
    PageFormat.participant_marker: frozenset({"program", "role"}),
    PageFormat.instructor_marker: frozenset({"program", "role"}),
    PageFormat.assignment_marker: frozenset({"program", "user", "term"}),
    PageFormat.campaign_details: frozenset({"name", "start", "end", "description"}),
    PageFormat.campaign_programs: frozenset({"computed", "participants", "sentence"}),
    PageFormat.campaign_row: frozenset({"program", *CAMPAIGN_ROW_FIGURES}),
    PageFormat.campaign_notice: frozenset({"message"}),
    PageFormat.campaign_end: frozenset(),
}

ENGLISH = PageFormat()


def _load(path: Traversable, lang: str) -> PageFormat:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        templates: dict[str, dict[str, Any]] = data["templates"]
        names = {key: str(entry["name"]) for key, entry in templates.items()}
        params = {
            key: {str(k): str(v) for k, v in (entry.get("params") or {}).items()}
            for key, entry in templates.items()
        }
        values = {str(k): str(v) for k, v in data.get("values", {}).items()}
        namespace = str(data.get("template_namespace", "Template"))
        categories = str(data.get("category_namespace", "Category"))
        users = str(data.get("user_namespace", "User"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f"{path} is not a usable template translation: {error}") from error
    return PageFormat(lang, namespace, categories, users, names, params, values)


@cache
def page_format(lang: str) -> PageFormat:
    """The names for ``lang`` (English when the project has no translation for it)."""
    path = TRANSLATIONS_DIR / f"{lang}.json"
    return _load(path, lang) if path.is_file() else ENGLISH


def available_formats() -> list[PageFormat]:
    """Every language the project has template names for, English first."""
    langs = [lang for lang in resources.stems(TRANSLATIONS_DIR, ".json") if lang != "qqq"]
    return [ENGLISH, *(page_format(lang) for lang in langs if lang != "en")]
