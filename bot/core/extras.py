"""The figures beyond the contribution counts: new and retained editors, file usage and
pageviews (metrics.md). Asked on full refreshes only: they change slowly (pageviews come
daily), and each costs requests that an every-few-minutes refresh need not repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pywikibot.site import APISite

from bot.core.contributions import MAIN_NAMESPACE, WikiRecords
from bot.core.editors import RETENTION_DELAYS, EditorFigures, fetch_editor_figures
from bot.core.errors import ProgramsBotError
from bot.core.metrics import Outcomes
from bot.core.model import Window
from bot.wiki.fileusage import count_file_usage, fetch_file_usage
from bot.wiki.pageviews import source_for, user_agent_with_contact, views_since

log = logging.getLogger(__name__)

#: How "not yet known" is written (a value the templates show in words).
UNKNOWN = "unknown"
EXTRA_FIELDS = ("new_editors", "retained_7", "retained_30", "file_usage", "pageviews")
RETENTION_7, RETENTION_30 = RETENTION_DELAYS


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
        return params


def article_first_days(records: WikiRecords, window: Window) -> dict[str, date]:
    """Each counted article's first in-window edit (or creation) day, by title."""
    first: dict[str, date] = {}
    for rev in records.revisions:
        page = records.pages.get(rev.pageid)
        if page is None or page.namespace != MAIN_NAMESPACE or page.redirect or page.deleted:
            continue
        if rev.timestamp in window:
            day = rev.timestamp.date()
            first[page.title] = min(first.get(page.title, day), day)
    return first


def compute_extras(
    sites: Mapping[str, APISite],
    outcomes: Outcomes,
    records: Sequence[WikiRecords],
    window: Window,
    now: datetime,
    *,
    pageview_urls: Mapping[str, str | None] | None = None,
    contact: str = "",
) -> Extras | None:
    """The extra figures, or None when a wiki could not answer (they are then left out)."""
    try:
        editors = fetch_editor_figures(list(sites.values()), outcomes.participants, window, now)
        files = sorted({u.title for r in records for u in r.uploads})
        usage = {
            host: fetch_file_usage(site, files) if files else {} for host, site in sites.items()
        }
        views: int | None = None
        per_article: dict[tuple[str, str], int] = {}
        agent = user_agent_with_contact(contact) if contact else None
        for wiki_records in records:
            base = (pageview_urls or {}).get(wiki_records.wiki)
            source = (
                source_for(wiki_records.wiki, base, user_agent=agent)
                if agent
                else source_for(wiki_records.wiki, base)
            )
            counted = views_since(
                source, wiki_records.wiki, article_first_days(wiki_records, window), now.date()
            )
            if counted is not None:
                views = (views or 0) + sum(counted.values())
                per_article.update({(wiki_records.wiki, t): n for t, n in counted.items()})
    except ProgramsBotError as error:
        log.warning("extra figures left out this time: %s", error)
        return None
    return Extras(
        new_editors=len(editors.new),
        retained_7=editors.count(RETENTION_7),
        retained_30=editors.count(RETENTION_30),
        file_usage=count_file_usage(usage),
        pageviews=views,
        editors=editors,
        article_views=per_article,
    )
