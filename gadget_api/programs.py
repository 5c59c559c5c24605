"""Program pages as the API sees them: read from the wiki's api.php, else the last snapshot.

Building the query and reading its answer are pure functions; only :class:`WikiReader`
does I/O. A page read successfully is kept as a ProgramSnapshot in the store so that
joins keep being accepted (and recorded for the worker) while the wiki is down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import requests

from bot.core.errors import NotAProgramError
from bot.core.program_page import parse_program_page
from bot.core.titles import MAX_TITLE_WITH_NAMESPACE, normalize_title
from bot.store import ProgramSnapshot, Store
from gadget_api.config import WikiConfig
from gadget_api.errors import ApiError, WikiUnavailableError

log = logging.getLogger(__name__)

#: Characters MediaWiki never allows in a title (``#`` would start a fragment).
_FORBIDDEN = set("#<>[]|{}")


# -- pure: titles, the query, its answer -----------------------------------------------------


def check_title(raw: str) -> str:
    """The title as given, normalized like MediaWiki does; ApiError ``bad-title`` if unusable."""
    # Checked before normalizing, which would turn tabs and newlines into spaces.
    title = normalize_title(raw)
    problem = None
    if any(ord(c) < 32 or ord(c) == 127 or c in _FORBIDDEN for c in raw):
        problem = "it contains characters MediaWiki does not allow (# < > [ ] | { } or controls)"
    elif not title:
        problem = "it is empty"
    elif len(title) > MAX_TITLE_WITH_NAMESPACE:
        problem = f"it is longer than {MAX_TITLE_WITH_NAMESPACE} characters"
    if problem:
        raise ApiError(400, "bad-title", f"Not a usable page title: {problem}.")
    return title


def page_query(title: str, username: str | None = None) -> dict[str, str]:
    """api.php parameters reading the page's text (and, for a join, the user's blocks).

    No ``redirects`` parameter: MediaWiki takes any value of a boolean parameter,
    ``redirects=0`` included, as true. A redirect is read as itself and is no program.
    """
    params = {
        "action": "query",
        "format": "json",
        "formatversion": "2",
        "prop": "revisions",
        "rvprop": "content|ids",
        "rvslots": "main",
        "titles": title,
    }
    if username:
        params.update({"list": "users", "ususers": username, "usprop": "blockinfo"})
    return params


@dataclass(frozen=True)
class PageRead:
    """What api.php said about a page (and a user)."""

    #: The title as the wiki normalized it (namespace name, spaces, first letter).
    title: str
    #: ``page``, ``missing`` or ``invalid``.
    kind: str
    text: str | None = None
    revid: int | None = None
    #: Whether the user asked about has a sitewide block; None when not asked or unknown.
    user_blocked: bool | None = None
    #: The page's content model: only ``wikitext`` can be a program (a CSS, JavaScript or
    #: JSON page that spells ``{{Program details}}``, in a comment say, is none).
    content_model: str = "wikitext"


def read_answer(body: Any, asked_title: str) -> PageRead:
    """Read the answer to :func:`page_query`; WikiUnavailableError if it is not one."""
    if not isinstance(body, Mapping):
        raise WikiUnavailableError("api.php answered with something that is not a JSON object")
    if "error" in body:
        error = body["error"]
        code = error.get("code", "?") if isinstance(error, Mapping) else "?"
        raise WikiUnavailableError(f"api.php answered with the error {code!r}")
    try:
        query = body["query"]
        blocked = None
        for user in query.get("users", ()):
            if "missing" in user or "invalid" in user:
                blocked = False
            else:
                # A partial block keeps a user off some pages only; the bot makes the edit.
                blocked = "blockid" in user and not user.get("blockpartial", False)
        if "interwiki" in query:
            return PageRead(asked_title, "invalid", user_blocked=blocked)
        page = query["pages"][0]
        title = str(page.get("title", asked_title))
        if page.get("invalid"):
            return PageRead(title, "invalid", user_blocked=blocked)
        if page.get("missing") or not page.get("revisions"):
            return PageRead(title, "missing", user_blocked=blocked)
        revision = page["revisions"][0]
        main = revision["slots"]["main"]
        return PageRead(
            title,
            "page",
            text=str(main["content"]),
            revid=int(revision["revid"]),
            user_blocked=blocked,
            content_model=str(main.get("contentmodel", "wikitext")),
        )
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise WikiUnavailableError(f"api.php answered in an unexpected shape: {error!r}") from error


# -- pure: the program -------------------------------------------------------------------------


@dataclass(frozen=True)
class Program(ProgramSnapshot):
    """A program page's public facts (those a snapshot keeps: ``registration`` is ``open``
    or ``closed``), from the wiki or (while it is down) from the last snapshot."""

    from_snapshot: bool = False
    #: The page's wikitext and revision; None when read from a snapshot.
    text: str | None = None
    revid: int | None = None
    user_blocked: bool | None = None
    #: The goals of ``goals=`` as (figure, target), in the order written; None when read
    #: from a snapshot.
    goals: tuple[tuple[str, int], ...] | None = None

    def ended(self, now: datetime) -> bool:
        return self.end is not None and now > self.end

    def lists(self, username: str) -> bool:
        """Whether the page's participant table lists this user."""
        return normalize_title(username) in self.participants

    def snapshot(self) -> ProgramSnapshot:
        return ProgramSnapshot(**_facts(self))


def program_from_page(wiki: str, read: PageRead, now: datetime) -> Program:
    """The program on a page read from the wiki; ApiError unless it is one."""
    if read.kind == "invalid":
        raise ApiError(400, "bad-title", f"{read.title!r} is not a valid title on {wiki}.")
    if read.kind == "missing" or read.text is None:
        raise ApiError(404, "not-a-program", f"The page {read.title!r} does not exist on {wiki}.")
    if read.content_model != "wikitext":
        # The bot would write wikitext rows into a style sheet or a script.
        raise ApiError(
            404,
            "not-a-program",
            f"The page {read.title!r} on {wiki} is not a program: it holds "
            f"{read.content_model}, not wikitext.",
        )
    try:
        page = parse_program_page(read.text)
    except NotAProgramError as error:
        raise ApiError(
            404, "not-a-program", f"The page {read.title!r} on {wiki} is not a program: {error}."
        ) from error
    details = page.details
    window = details.window
    return Program(
        wiki=wiki,
        title=read.title,
        name=details.name or read.title,
        registration="closed" if details.registration == "closed" else "open",
        start=window.start if window else None,
        end=window.end if window else None,
        participants=tuple(row.username for row in page.rows),
        fetched_at=now,
        text=read.text,
        revid=read.revid,
        user_blocked=read.user_blocked,
        goals=details.goals,
    )


def program_from_snapshot(snapshot: ProgramSnapshot) -> Program:
    return Program(**_facts(snapshot), from_snapshot=True)


def _facts(snapshot: ProgramSnapshot) -> dict[str, Any]:
    """The fields a snapshot keeps, by name."""
    return {field.name: getattr(snapshot, field.name) for field in fields(ProgramSnapshot)}


def _same_facts(a: ProgramSnapshot, b: ProgramSnapshot) -> bool:
    """Whether two reads found the same program (the time of the read aside)."""
    return {**_facts(a), "fetched_at": None} == {**_facts(b), "fetched_at": None}


# -- I/O ---------------------------------------------------------------------------------------


class WikiReader:
    """Reads pages through the wikis' api.php; one HTTP session per thread.

    A failed read (a refused or dropped connection, a 5xx, an answer that is not JSON, an
    API error such as ``maxlag``) is tried again ``attempts - 1`` more times, waiting
    ``backoff`` seconds, then twice that, and so on, at most ``max_wait`` (a longer
    Retry-After is not waited for: the caller falls back to the snapshot instead of
    holding the user). A timeout is not tried again.
    """

    def __init__(
        self,
        user_agent: str,
        timeout: float,
        *,
        attempts: int = 3,
        backoff: float = 0.2,
        max_wait: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.user_agent
            self._local.session = session
        return session

    def read(self, wiki: WikiConfig, title: str, username: str | None = None) -> PageRead:
        """Read a page (and a user's blocks); WikiUnavailableError when the wiki keeps failing."""
        for attempt in range(self.attempts):
            try:
                return self._read_once(wiki, title, username)
            except _Transient as failure:
                if attempt + 1 >= self.attempts:
                    raise WikiUnavailableError(failure.message) from failure.__cause__
                wait = self.backoff * 2**attempt
                if failure.retry_after is not None:
                    wait = max(wait, failure.retry_after)
                if wait > self.max_wait:
                    raise WikiUnavailableError(failure.message) from failure.__cause__
                log.info("reading %r: %s; trying again in %.1f s", title, failure.message, wait)
                self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_once(self, wiki: WikiConfig, title: str, username: str | None) -> PageRead:
        try:
            response = self._session().get(
                wiki.api_url, params=page_query(title, username), timeout=self.timeout
            )
        except requests.Timeout as error:
            # Not tried again: the user has already waited the whole timeout.
            raise WikiUnavailableError(f"{wiki.host} did not answer in time: {error}") from error
        except requests.RequestException as error:
            raise _Transient(f"{wiki.host} did not answer: {error}") from error
        retry_after = _seconds(response.headers.get("Retry-After"))
        if response.status_code != 200:
            raise _Transient(f"{wiki.host} answered HTTP {response.status_code}", retry_after)
        try:
            body = response.json()
        except ValueError as error:
            raise _Transient(f"{wiki.host} did not answer with JSON") from error
        try:
            return read_answer(body, title)
        except WikiUnavailableError as error:
            raise _Transient(str(error), retry_after) from error


class _Transient(Exception):
    """One failed read that may succeed when tried again."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _seconds(value: str | None) -> float | None:
    """A Retry-After given in seconds (an HTTP date is not used by MediaWiki's API)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def load_program(
    store: Store,
    reader: WikiReader,
    wiki: WikiConfig,
    raw_title: str,
    now: datetime,
    *,
    username: str | None = None,
    need_text: bool = False,
) -> Program:
    """The program at ``raw_title``: from the wiki, else from the last snapshot.

    ApiError ``bad-title``, ``not-a-program`` or ``wiki-unavailable`` (the wiki is down
    and no snapshot is known, or the page's text itself is needed).
    """
    title = check_title(raw_title)
    try:
        read = reader.read(wiki, title, username)
    except WikiUnavailableError as error:
        log.warning("reading %r: %s; trying the last snapshot", title, error)
        snapshot = None if need_text else store.program(wiki.host, title)
        if snapshot is None:
            raise ApiError(
                503,
                "wiki-unavailable",
                f"{wiki.host} cannot be read right now and the program is not known from an "
                "earlier read. Try again later.",
                headers={"Retry-After": "60"},
            ) from error
        return program_from_snapshot(snapshot)
    program = program_from_page(wiki.host, read, now)
    fresh = program.snapshot()
    known = store.program(wiki.host, program.title)
    if known is None or not _same_facts(known, fresh):
        store.save_program(fresh)
    return program
