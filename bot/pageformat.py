"""The names of the templates and parameters a program page is written with.

Kept in one place so that a wiki's translated names (see ``i18n/``) can replace them.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    }
)

ROW_PARAMS = frozenset({"username", "joined", *ROW_STATS})


@dataclass(frozen=True)
class PageFormat:
    """Template names of the program format (without the ``Template:`` prefix)."""

    details: str = "Program details"
    table_start: str = "Participants table"
    row: str = "Participant table row"
    table_end: str = "End of participants table"
    outcomes: str = "Program outcomes"
    outcomes_row: str = "Program outcomes row"
    deleted_article: str = "Program deleted article"
    notice: str = "Program notice"
    outcomes_end: str = "End of program outcomes"
    template_namespace: str = "Template"

    @property
    def bot_block_parts(self) -> frozenset[str]:
        """Templates that may only appear inside the bot-owned outcomes block."""
        return frozenset(
            {self.outcomes, self.outcomes_row, self.deleted_article, self.notice, self.outcomes_end}
        )


ENGLISH = PageFormat()


def normalize_title(name: str) -> str:
    """MediaWiki's title normalization for comparisons: underscores, spaces, first letter."""
    name = " ".join(name.replace("_", " ").split())
    return name[:1].upper() + name[1:]


def template_key(raw_name: str, page_format: PageFormat = ENGLISH) -> str:
    """The normalized name of a template as used on a page (``Template:`` prefix dropped)."""
    name = normalize_title(raw_name)
    prefix, colon, rest = name.partition(":")
    if colon and prefix.strip().lower() in {"template", page_format.template_namespace.lower()}:
        name = normalize_title(rest)
    return name
