"""Finding a wiki from the host name a program page gives, and running queries on it.

Every request goes through Pywikibot's Request, so maxlag, retries and the throttle apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import pywikibot
from pywikibot import config
from pywikibot.exceptions import APIError
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.family import Family
from pywikibot.site import APISite

from bot.core.errors import InvalidNameError, UnknownWikiError, WikiAccessError

_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$")


@cache
def _host_index() -> dict[str, tuple[str, str]]:
    """Every host Pywikibot knows, from its families and user-config's family_files.

    Built once: matching by host only never makes Pywikibot guess a family from a URL,
    which would send requests to whatever host a page names.
    """
    index: dict[str, tuple[str, str]] = {}
    for family_name in config.family_files:
        try:
            family = Family.load(family_name)
        except Exception:  # a broken family file must not hide the others
            continue
        for code, hostname in family.langs.items():
            if hostname:
                index.setdefault(hostname.lower(), (family_name, code))
    return index


def family_and_code(host: str) -> tuple[str, str]:
    """Pywikibot's family and code for ``host`` (``en.wikipedia.org``, ``127.0.0.1:8080``)."""
    host = host.strip().lower()
    if not _HOST.match(host):
        raise UnknownWikiError(f"{host!r} is not a host name")
    found = _host_index().get(host)
    if found is None:
        raise UnknownWikiError(
            f"no Pywikibot family serves {host}: write one with 'pwb generate_family_file.py "
            f"<its URL> <a name>' (it goes to the Pywikibot directory's families folder) or "
            "name one in a family_files line of user-config.py"
        )
    return found


def site_for_host(host: str, *, login: bool = True) -> APISite:
    """The Pywikibot site serving ``host``; asks nothing of a host Pywikibot does not know.

    With ``login`` (the default) the bot's account is logged in before the first read
    (:func:`log_in`).
    """
    family_name, code = family_and_code(host)
    try:
        site = pywikibot.Site(code, family_name)
    except (PywikibotError, OSError) as error:
        # Making the site asks the wiki for its siteinfo; a wiki that cannot be reached
        # (Pywikibot raises ConnectionError at once for an unknown host name) is an
        # access problem of this wiki, not of the whole run.
        raise WikiAccessError(f"{host} cannot be reached: {error}") from error
    if not isinstance(site, APISite):
        raise UnknownWikiError(f"{host} is not served by the MediaWiki Action API")
    return log_in(site) if login else site


def home_site() -> APISite:
    """The wiki of user-config.py's ``family`` and ``mylang``, logged in (see log_in)."""
    try:
        site = pywikibot.Site()
    except (PywikibotError, OSError) as error:
        raise WikiAccessError(f"the home wiki cannot be reached: {error}") from error
    if not isinstance(site, APISite):
        raise UnknownWikiError(f"{site} is not served by the MediaWiki Action API")
    return log_in(site)


def log_in(site: APISite) -> APISite:
    """Log the bot's account in, where user-config.py names one, before anything is read.

    Logged in, a request carries 500 names and returns 5,000 rows where an anonymous one
    carries 50 and returns 500. And Pywikibot keeps the site and parameter information it
    reads in its API cache under the account that read it: read logged in from the start,
    the next run (logged in by its session cookie) finds them there.
    """
    if site.username() and not site.logged_in():
        try:
            site.login()
        except (PywikibotError, OSError) as error:
            raise WikiAccessError(
                f"{host_of(site)}: the bot cannot log in as {site.username()} ({error}); "
                "'programs-bot doctor' says what to fix"
            ) from error
    return site


def host_of(site: APISite) -> str:
    """The host name a program page uses for ``site``."""
    return str(site.hostname()).lower()


def site_name(site: APISite) -> str:
    """The wiki's own name (``$wgSitename``), from the site information Pywikibot keeps for
    the whole run (read once per wiki, at most)."""
    try:
        return str(site.siteinfo["sitename"])
    except (PywikibotError, OSError) as error:
        # Failing here rather than falling back to the host keeps the page from switching
        # between two names as a wiki comes and goes.
        raise WikiAccessError(f"{host_of(site)}: {error}") from error


def batch_limit(site: APISite) -> int:
    """How many values one multi-value parameter may carry for this account."""
    return 500 if site.has_right("apihighlimits") else 50


def query_once(site: APISite, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One ``action=query`` request: its ``query`` part and its continuation ({} at the end)."""
    request = {"action": "query", "formatversion": 2, "continue": "", **params}
    try:
        answer = site.simple_request(**request).submit()
    except APIError as error:
        if error.code == "baduser":
            raise InvalidNameError(f"{host_of(site)}: {error.info}") from error
        raise WikiAccessError(f"{host_of(site)}: {error}") from error
    except PywikibotError as error:
        raise WikiAccessError(f"{host_of(site)}: {error}") from error
    return answer.get("query", {}), dict(answer.get("continue", {}))


def run_query(site: APISite, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Run a query and its continuations, yielding each answer's ``query`` part."""
    request = dict(params)
    while True:
        answer, continuation = query_once(site, request)
        yield answer
        if not continuation:
            return
        request.update(continuation)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RequestCounter:
    """Counts the HTTP requests Pywikibot makes while the block runs (for reports)."""

    def __init__(self) -> None:
        self.count = 0

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return response

    def __enter__(self) -> RequestCounter:
        from pywikibot.comms import http

        http.session.hooks["response"].append(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        from pywikibot.comms import http

        http.session.hooks["response"].remove(self._hook)
