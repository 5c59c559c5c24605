"""File usage (see shared metrics.md): main-namespace pages on the listed wikis that use the
files the participants uploaded.

MediaWiki records a page's use of a file by the file's name (``imagelinks``), whether the
file lives on the same wiki or on a shared repository such as Commons; so each listed wiki
is asked about the files by title, wherever they were uploaded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from pywikibot.site import APISite

from bot.core.contributions import MAIN_NAMESPACE
from bot.wiki.sites import api_query, batch_limit, chunks, host_of

log = logging.getLogger(__name__)


def fetch_file_usage(site: APISite, file_titles: Iterable[str]) -> dict[str, set[str]]:
    """For each file title (``File:X.png``), the main-namespace pages of ``site`` using it.

    ``prop=fileusage`` with ``titles`` in batches of ``batch_limit`` and ``fulimit=max``,
    redirects left out (not articles); continuations are followed. Every given title is in
    the answer (an unused file maps to an empty set), under the title as given.
    """
    titles = list(dict.fromkeys(file_titles))
    usage: dict[str, set[str]] = {title: set() for title in titles}
    for batch in chunks(titles, batch_limit(site)):
        params = {
            "prop": "fileusage",
            "titles": batch,
            "fuprop": "title",
            "funamespace": MAIN_NAMESPACE,
            "fushow": "!redirect",
            "fulimit": "max",
        }
        # The API answers under its own form of a title (the namespace in the wiki's language,
        # first letter upper-case, spaces) and says which title it normalized to which.
        given = {title: title for title in batch}
        for answer in api_query(site, params):
            for entry in answer.get("normalized", []):
                if entry.get("from") in given:
                    given[str(entry["to"])] = given[entry["from"]]
            for page in answer.get("pages", []):
                title = str(page.get("title", ""))
                users = usage.setdefault(given.get(title, title), set())
                users.update(
                    str(user["title"])
                    for user in page.get("fileusage", [])
                    if int(user.get("ns", MAIN_NAMESPACE)) == MAIN_NAMESPACE
                )
    log.info(
        "%s: %d of %d files used on %d main-namespace pages",
        host_of(site),
        sum(1 for pages in usage.values() if pages),
        len(titles),
        count_file_usage({host_of(site): usage}),
    )
    return usage


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
