"""The figures beyond the contribution counts: new and retained editors, file usage and
pageviews (metrics.md), as one value a refresh writes on {{Program outcomes}}.

They are asked on full refreshes only: they change slowly (pageviews come daily), and each
costs requests that an every-few-minutes refresh need not repeat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from bot.core.contributions import MAIN_NAMESPACE, WikiRecords
from bot.core.editors import EditorFigures
from bot.core.model import Window

#: How "not yet known" is written (a value the templates show in words).
UNKNOWN = "unknown"
EXTRA_FIELDS = (
    "new_editors",
    "retained_7",
    "retained_30",
    "file_usage",
    "pageviews",
    "pageviews_created",
    "pageviews_improved",
)


@dataclass(frozen=True)
class Extras:
    """The extra figures; None means not yet known (retention) or not available (views)."""

    new_editors: int
    retained_7: int | None
    retained_30: int | None
    file_usage: int
    pageviews: int | None
    #: Who, for the exports: the editor figures, and views per (wiki, article title).
    editors: EditorFigures | None = None
    article_views: Mapping[tuple[str, str], int] = field(default_factory=dict)
    #: ``pageviews`` split: of the articles the program created (from their creation) and
    #: of those it improved (from the participants' first edit of each).
    pageviews_created: int | None = None
    pageviews_improved: int | None = None

    def as_params(self) -> list[tuple[str, str]]:
        """As {{Program outcomes}} parameters; pageviews left out where there are none."""
        params = [
            ("new_editors", str(self.new_editors)),
            ("retained_7", UNKNOWN if self.retained_7 is None else str(self.retained_7)),
            ("retained_30", UNKNOWN if self.retained_30 is None else str(self.retained_30)),
            ("file_usage", str(self.file_usage)),
        ]
        if self.pageviews is not None:
            params.append(("pageviews", str(self.pageviews)))
        if self.pageviews_created is not None and self.pageviews_improved is not None:
            params.append(("pageviews_created", str(self.pageviews_created)))
            params.append(("pageviews_improved", str(self.pageviews_improved)))
        return params


def article_first_days(records: WikiRecords, window: Window) -> dict[str, date]:
    """Each counted article's first in-window edit (or creation) day, by title: where its
    pageviews start counting."""
    first: dict[str, date] = {}
    for rev in records.revisions:
        page = records.pages.get(rev.pageid)
        if page is None or page.namespace != MAIN_NAMESPACE or page.redirect or page.deleted:
            continue
        if rev.timestamp in window:
            day = rev.timestamp.date()
            first[page.title] = min(first.get(page.title, day), day)
    return first


def created_titles(records: WikiRecords, window: Window) -> set[str]:
    """The counted articles whose first revision is in the records and in the window: the
    articles the program created (the others it improved)."""
    created = set()
    for rev in records.revisions:
        page = records.pages.get(rev.pageid)
        if page is None or page.namespace != MAIN_NAMESPACE or page.redirect or page.deleted:
            continue
        if rev.new and rev.timestamp in window:
            created.add(page.title)
    return created


def split_views(
    views: Mapping[tuple[str, str], int], created: Iterable[tuple[str, str]]
) -> tuple[int, int]:
    """Views of the created articles, and of the improved ones (every other counted one)."""
    made = set(created)
    of_created = sum(n for key, n in views.items() if key in made)
    return of_created, sum(views.values()) - of_created


def usage_pairs(
    usage_by_wiki: Mapping[str, Mapping[str, Iterable[str]]],
) -> frozenset[tuple[str, str]]:
    """The distinct ``(wiki, page)`` pairs using any of the files (a page using two counts once)."""
    return frozenset(
        (wiki, page)
        for wiki, usage in usage_by_wiki.items()
        for pages in usage.values()
        for page in pages
    )


def count_file_usage(usage_by_wiki: Mapping[str, Mapping[str, Iterable[str]]]) -> int:
    """The file usage figure: distinct main-namespace pages, per wiki, that use the files."""
    return len(usage_pairs(usage_by_wiki))
