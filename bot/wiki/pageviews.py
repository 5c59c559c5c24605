"""Pageviews of articles, from a pageview source (see shared metrics.md, "pageviews").

On Wikimedia wikis the source is Wikimedia's per-article pageview REST API::

    GET {base}/metrics/pageviews/per-article/{project}/{access}/{agent}/{article}/
        {granularity}/{start}/{end}

It has no batch endpoint: one request covers one article, so the titles of a wiki are
asked in a small thread pool (4 at a time by default). Wikimedia documents a limit of
100 requests per second for it and recommends waiting for each answer before the next;
4 in flight stays far below that limit, and ``workers=1`` makes the client strictly serial.
Every request carries a descriptive User-Agent, as Wikimedia's User-Agent policy requires.

Other wikis have no pageview service unless one is configured: their source is
:class:`NoPageviews`, and the report says "not available" rather than 0.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from urllib.parse import quote

import requests

from bot.core.errors import ConfigError, WikiAccessError

log = logging.getLogger(__name__)

WIKIMEDIA_BASE_URL = "https://wikimedia.org/api/rest_v1"


def user_agent_with_contact(contact: str) -> str:
    """A User-Agent in the form Wikimedia's policy asks for, with the operator's contact.

    ``contact`` is e.g. the bot's user page (``https://en.wikipedia.org/wiki/User:X``) or an
    address: the policy wants a way to reach whoever runs the client.
    """
    return f"programs-bot/0.1 ({contact}) python-requests/{requests.__version__}"


#: Used when no contact is configured; pass ``user_agent_with_contact(contact)`` in production.
DEFAULT_USER_AGENT = user_agent_with_contact("Wikimedia program statistics bot")
#: Hosts whose wikis the Wikimedia pageview API covers (and their subdomains).
WIKIMEDIA_DOMAINS = (
    "wikipedia.org",
    "wikimedia.org",
    "wikidata.org",
    "wiktionary.org",
    "wikisource.org",
    "wikibooks.org",
    "wikinews.org",
    "wikiquote.org",
    "wikiversity.org",
    "wikivoyage.org",
    "mediawiki.org",
)
ACCESS = "all-access"
AGENT = "user"
GRANULARITY = "daily"
#: The problem type of the API's "no data" 404 (RESTBase/HyperSwitch form).
NOT_FOUND_TYPE = "https://mediawiki.org/wiki/HyperSwitch/errors/not_found"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Longest Retry-After the client honours; a longer one is an outage, not a pause.
_MAX_RETRY_AFTER = 30.0


class PageviewSource(Protocol):
    """Where pageviews come from: total user views per title over whole UTC days."""

    @property
    def available(self) -> bool:
        """False when the wiki has no pageview service (the report says "not available")."""
        ...

    def views(self, wiki: str, titles: Sequence[str], start: date, end: date) -> dict[str, int]:
        """Total views of each title from ``start`` to ``end``, both days included.

        ``wiki`` is the host (``en.wikipedia.org``); titles are MediaWiki titles with spaces.
        """
        ...


@dataclass(frozen=True)
class NoPageviews:
    """The source of a wiki without a pageview service: it knows nothing."""

    @property
    def available(self) -> bool:
        return False

    def views(self, wiki: str, titles: Sequence[str], start: date, end: date) -> dict[str, int]:
        return {}


def is_wikimedia_host(host: str) -> bool:
    """Whether ``host`` is a Wikimedia wiki (``en.wikipedia.org``, ``commons.wikimedia.org``)."""
    host = host.strip().lower()
    return any(host == domain or host.endswith("." + domain) for domain in WIKIMEDIA_DOMAINS)


def source_for(
    host: str,
    base_url: str | None = None,
    *,
    user_agent: str = DEFAULT_USER_AGENT,
    session: requests.Session | None = None,
) -> PageviewSource:
    """The pageview source of a wiki: Wikimedia's API for Wikimedia hosts, else none.

    A configured ``base_url`` (an API serving the same endpoint) applies to any host.
    """
    if base_url is None and not is_wikimedia_host(host):
        return NoPageviews()
    return WikimediaPageviews(
        base_url or WIKIMEDIA_BASE_URL, user_agent=user_agent, session=session
    )


def article_path(project: str, title: str, start: date, end: date) -> str:
    """The per-article path (after the base URL) of ``title`` on ``project`` over the days.

    The article is the title with underscores, percent-encoded including ``/`` (an encoded
    slash stays inside the one path segment; a bare one would be read as a separator).
    """
    article = quote(title.strip().replace(" ", "_"), safe="")
    return (
        f"/metrics/pageviews/per-article/{quote(project, safe='')}/{ACCESS}/{AGENT}/"
        f"{article}/{GRANULARITY}/{start:%Y%m%d}/{end:%Y%m%d}"
    )


def is_no_data(body: bytes) -> bool:
    """Whether a 404 body is the API's "no data for those dates" problem (which means 0 views).

    Both documented forms count: RESTBase's (type ``.../HyperSwitch/errors/not_found``) and
    the newer service's (type ``about:blank``, detail "... we either do not have data ...").
    A 404 for an unknown route (``.../not_found#route``, "invalid route") is not: it means a
    wrong URL, and treating it as 0 would hide a misconfiguration.
    """
    try:
        problem = json.loads(body)
    except ValueError:
        return False
    if not isinstance(problem, dict):
        return False
    detail = problem.get("detail")
    if problem.get("type") == NOT_FOUND_TYPE:
        return True
    return isinstance(detail, str) and "do not have data" in detail


def total_views(body: bytes) -> int:
    """The sum of ``views`` over the items of a per-article answer."""
    try:
        answer = json.loads(body)
        return sum(int(item["views"]) for item in answer["items"])
    except (ValueError, KeyError, TypeError) as error:
        raise WikiAccessError(f"pageview API answered something unexpected: {error}") from error


def _problem_detail(response: requests.Response) -> str:
    """The problem's ``detail`` (or the start of the body) for an error message."""
    try:
        problem = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(problem, dict) and "detail" in problem:
        detail = problem["detail"]
        return "; ".join(map(str, detail)) if isinstance(detail, list) else str(detail)
    return response.text[:200]


class WikimediaPageviews:
    """Wikimedia's per-article pageview REST API (or a server with the same endpoint).

    Counts user views (``agent=user``: no spiders, no automated traffic) of all access
    methods, per day. A 404 "no data" answer means 0 views (a new article, a title nobody
    viewed). 429 and 5xx answers are retried ``retries`` times with exponential backoff
    (or the server's Retry-After); any other failure raises WikiAccessError.
    """

    def __init__(
        self,
        base_url: str = WIKIMEDIA_BASE_URL,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        workers: int = 4,
        retries: int = 2,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        agent = user_agent.strip()
        # Wikimedia may block requests without a User-Agent or with a library's default one.
        if not agent or re.match(r"(python-requests|python-urllib|curl|wget)\b", agent, re.I):
            raise ConfigError(
                "the pageview API needs a descriptive User-Agent with contact information, "
                f"e.g. 'programs-bot/0.1 (https://…/User:YourBot; you@example.org)', not {agent!r}"
            )
        if workers < 1 or retries < 0 or timeout <= 0 or backoff < 0:
            raise ConfigError(
                "pageview client: workers >= 1, retries >= 0, timeout > 0, backoff >= 0"
            )
        self.base_url = base_url.rstrip("/")
        self.user_agent = agent
        self.timeout = timeout
        self.workers = workers
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._lock = threading.Lock()
        #: HTTP requests sent so far (retries included), for reports.
        self.requests_made = 0

    @property
    def available(self) -> bool:
        return True

    def close(self) -> None:
        """Close the HTTP session if this client made it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> WikimediaPageviews:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def views(self, wiki: str, titles: Sequence[str], start: date, end: date) -> dict[str, int]:
        """Total user views of each title from ``start`` to ``end`` (UTC days, inclusive).

        One request per distinct title, ``workers`` at a time. A range that ends before
        it starts asks nothing and gives 0 for every title.
        """
        unique = list(dict.fromkeys(titles))
        if not unique:
            return {}
        if end < start:
            return dict.fromkeys(unique, 0)
        project = wiki.strip().lower()
        totals: dict[str, int] = {}
        began = time.monotonic()
        with ThreadPoolExecutor(
            max_workers=min(self.workers, len(unique)), thread_name_prefix="pageviews"
        ) as pool:
            futures: dict[Future[int], str] = {
                pool.submit(self._title_views, project, title, start, end): title
                for title in unique
            }
            try:
                for future in as_completed(futures):
                    totals[futures[future]] = future.result()
            except BaseException:
                # One failure fails the figure: do not keep asking for the rest.
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        log.info(
            "%s: pageviews of %d titles, %s to %s, in %.1f s",
            project,
            len(unique),
            start.isoformat(),
            end.isoformat(),
            time.monotonic() - began,
        )
        return {title: totals[title] for title in unique}

    def _get(self, url: str) -> requests.Response | None:
        """One GET; None when the connection failed (retried like a 5xx)."""
        with self._lock:
            self.requests_made += 1
        try:
            return self._session.get(
                url,
                headers={"User-Agent": self.user_agent, "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            log.warning("pageview API: %s: %s", url, error)
            return None

    def _title_views(self, project: str, title: str, start: date, end: date) -> int:
        url = self.base_url + article_path(project, title, start, end)
        for attempt in range(self.retries + 1):
            response = self._get(url)
            if response is not None:
                if response.status_code == 200:
                    return total_views(response.content)
                if response.status_code == 404 and is_no_data(response.content):
                    return 0
                if response.status_code not in _RETRY_STATUSES:
                    raise WikiAccessError(
                        f"pageview API: HTTP {response.status_code} for {title!r} on {project}: "
                        f"{_problem_detail(response)} ({url})"
                    )
            if attempt < self.retries:
                self._sleep(self._delay(attempt, response))
        status = "no connection" if response is None else f"HTTP {response.status_code}"
        raise WikiAccessError(
            f"pageview API: {status} for {title!r} on {project} after "
            f"{self.retries + 1} attempts ({url})"
        )

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        """Seconds to wait before the next attempt: Retry-After if given, else exponential."""
        if response is not None:
            try:
                return min(float(response.headers.get("Retry-After", "")), _MAX_RETRY_AFTER)
            except ValueError:
                pass  # absent, or an HTTP date: back off exponentially instead
        return float(self.backoff * 2**attempt)


def views_since(
    source: PageviewSource, wiki: str, first_days: Mapping[str, date], until: date
) -> dict[str, int] | None:
    """Each article's views from its own first day to ``until``; None if not available.

    The pageview figure of metrics.md: an article's window starts on the day of the
    participants' first in-window edit (or its creation) and ends on the report day.
    Titles are grouped by first day so each group is one call to the source.
    """
    if not source.available:
        return None
    by_day: dict[date, list[str]] = {}
    for title, day in first_days.items():
        by_day.setdefault(day, []).append(title)
    totals: dict[str, int] = {}
    for day, titles in sorted(by_day.items()):
        found = source.views(wiki, titles, day, until)
        totals.update({title: found.get(title, 0) for title in titles})
    return totals
