"""A stand-in for Wikimedia's per-article pageview REST API, for tests, on loopback.

Serves ``GET /api/rest_v1/metrics/pageviews/per-article/{project}/{access}/{agent}/
{article}/{granularity}/{start}/{end}`` in the documented format, from views the test sets:

- 200, ``application/json; charset=utf-8``: ``{"items": [{"project": "en.wikipedia",
  "article": "...", "granularity": "daily", "timestamp": "2026110100", "access":
  "all-access", "agent": "user", "views": 12}, ...]}``, one item per day (or month) that
  has data, oldest first;
- 404 problem JSON when there is no data for the article and dates (the API's answer for
  an article nobody viewed, or dates not loaded yet), and for routes it does not serve;
- 400 problem JSON for malformed or reversed dates and unknown access, agent, granularity.

Like the API, ``project`` may be given with or without ``.org`` and is answered without it,
and the article segment is percent-decoded after the path is split, so ``%2F`` stays part of
the title. Failures can be queued (``fail_next``) to test retries; every request is counted.
Standard library only, so it runs wherever the tests do.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, unquote

from .threaded import ThreadedServer

BASE_PATH = "/api/rest_v1"
ROUTE = BASE_PATH + "/metrics/pageviews/per-article/"
JSON_TYPE = "application/json; charset=utf-8"
PROBLEM_TYPE = "application/problem+json"
NOT_FOUND_TYPE = "https://mediawiki.org/wiki/HyperSwitch/errors/not_found"
INVALID_TYPE = "https://mediawiki.org/wiki/HyperSwitch/errors/invalid_request"
NO_DATA_DETAIL = (
    "The date(s) you used are valid, but we either do not have data for those date(s), or "
    "the project you asked for is not loaded yet.  Please check "
    "https://wikimedia.org/api/rest_v1/?doc for more information."
)
ACCESS_VALUES = ("all-access", "desktop", "mobile-app", "mobile-web")
AGENT_VALUES = ("all-agents", "user", "spider", "automated")
GRANULARITIES = ("daily", "monthly")
_TIMESTAMP = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?$")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server got: its raw path (still percent-encoded) and User-Agent."""

    path: str
    user_agent: str


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: str | None


def project_key(project: str) -> str:
    """The API's form of a project: ``en.wikipedia.org`` and ``en.wikipedia`` are one."""
    project = project.strip().lower()
    return project.removesuffix(".org")


def _parse_timestamp(value: str) -> date | None:
    """``YYYYMMDD`` or ``YYYYMMDDHH`` as a day; None if malformed."""
    match = _TIMESTAMP.match(value)
    if not match:
        return None
    year, month, day, hour = match.groups()
    if hour is not None and int(hour) > 23:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _dumps(value: Any) -> bytes:
    # Compact and UTF-8 like the API's own answers (titles are not \u-escaped).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _State:
    """What the test set and what the server saw; shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: (project, access, agent, article with underscores) -> day -> views
        self.views: dict[tuple[str, str, str, str], dict[date, int]] = {}
        self.failures: deque[_Failure] = deque()
        self.requests: list[RecordedRequest] = []
        self.delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as a requests.Session expects

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the recorded requests instead."""

    def _send(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] = {}
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _problem(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] = {}
    ) -> None:
        self._send(status, _dumps(dict(body)), PROBLEM_TYPE, headers)

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(RecordedRequest(self.path, self.headers.get("User-Agent", "")))
            failure = state.failures.popleft() if state.failures else None
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            delay = state.delay
        try:
            if delay:
                time.sleep(delay)
            if failure is not None:
                extra = {} if failure.retry_after is None else {"Retry-After": failure.retry_after}
                self._problem(
                    failure.status,
                    {"type": "about:blank", "title": "Injected failure", "method": "get"},
                    extra,
                )
                return
            self._per_article()
        finally:
            with state.lock:
                state.in_flight -= 1

    def _per_article(self) -> None:
        path = self.path.split("?", 1)[0]
        # Split before decoding: an encoded slash (%2F) belongs to the article.
        parts = path[len(ROUTE) :].split("/") if path.startswith(ROUTE) else []
        if len(parts) != 7 or not all(parts):
            self._problem(
                404,
                {
                    "type": NOT_FOUND_TYPE + "#route",
                    "title": "Not found.",
                    "method": "get",
                    "detail": "invalid route",
                    "uri": path,
                },
            )
            return
        try:
            project, access, agent, article, granularity, start_text, end_text = (
                unquote(part, errors="strict") for part in parts
            )
        except UnicodeDecodeError:
            self._problem(
                400,
                {"type": INVALID_TYPE, "method": "get", "detail": ["not UTF-8"], "uri": path},
            )
            return
        project = project_key(project)
        errors = []
        if access not in ACCESS_VALUES:
            errors.append(f"access must be one of {', '.join(ACCESS_VALUES)}")
        if agent not in AGENT_VALUES:
            errors.append(f"agent must be one of {', '.join(AGENT_VALUES)}")
        if granularity not in GRANULARITIES:
            errors.append(f"granularity must be one of {', '.join(GRANULARITIES)}")
        start, end = _parse_timestamp(start_text), _parse_timestamp(end_text)
        if start is None:
            errors.append("start timestamp is invalid, must be a valid date in YYYYMMDD format")
        if end is None:
            errors.append("end timestamp is invalid, must be a valid date in YYYYMMDD format")
        if start is not None and end is not None and start > end:
            errors.append("start timestamp should be before the end timestamp")
        internal_uri = (
            f"/analytics.wikimedia.org/v1/pageviews/per-article/{project}/{access}/{agent}/"
            f"{quote(article, safe='')}/{granularity}/{start_text}/{end_text}"
        )
        if errors or start is None or end is None:
            self._problem(
                400,
                {"type": INVALID_TYPE, "method": "get", "detail": errors, "uri": internal_uri},
            )
            return
        with self.server.state.lock:
            days = dict(self.server.state.views.get((project, access, agent, article), {}))
        buckets: dict[str, int] = {}
        for day in sorted(d for d in days if start <= d <= end):
            stamp = f"{day:%Y%m%d}00" if granularity == "daily" else f"{day:%Y%m}0100"
            buckets[stamp] = buckets.get(stamp, 0) + days[day]
        if not buckets:
            self._problem(
                404,
                {
                    "type": NOT_FOUND_TYPE,
                    "title": "Not found.",
                    "method": "get",
                    "detail": NO_DATA_DETAIL,
                    "uri": internal_uri,
                },
            )
            return
        items = [
            {
                "project": project,
                "article": article,
                "granularity": granularity,
                "timestamp": stamp,
                "access": access,
                "agent": agent,
                "views": views,
            }
            for stamp, views in buckets.items()
        ]
        self._send(200, _dumps({"items": items}), JSON_TYPE)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: _State) -> None:
        super().__init__(address, _Handler)
        self.state = state


class PageviewsServer(ThreadedServer):
    """The pageview API stand-in on a free loopback port, in a daemon thread.

    ``with PageviewsServer() as server: server.url`` is the base URL
    (``http://127.0.0.1:PORT/api/rest_v1``) to give the client.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._state = _State()
        super().__init__()

    _thread_name = "pageviews server"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{BASE_PATH}"

    def _bind(self) -> _Server:
        # Port 0: the kernel picks a free port at bind time, so no other process can race us.
        return _Server((self.host, 0), self._state)

    # -- what the tests set ----------------------------------------------------------

    def set_views(
        self,
        project_host: str,
        title: str,
        views: Mapping[date, int],
        *,
        access: str = "all-access",
        agent: str = "user",
    ) -> None:
        """Add daily views of ``title`` (spaces or underscores) on a wiki (its host)."""
        key = (project_key(project_host), access, agent, title.strip().replace(" ", "_"))
        with self._state.lock:
            self._state.views.setdefault(key, {}).update(views)

    def fail_next(self, status: int, times: int = 1, *, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (and Retry-After, if given)."""
        with self._state.lock:
            self._state.failures.extend([_Failure(status, retry_after)] * times)

    def set_delay(self, seconds: float) -> None:
        """Hold every answer this long (to see how many requests overlap)."""
        with self._state.lock:
            self._state.delay = seconds

    def reset(self) -> None:
        """Forget views, queued failures, recorded requests and the delay."""
        with self._state.lock:
            self._state.views.clear()
            self._state.failures.clear()
            self._state.requests.clear()
            self._state.delay = 0.0
            self._state.max_in_flight = 0

    # -- what the tests read ---------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def request_count(self) -> int:
        with self._state.lock:
            return len(self._state.requests)

    @property
    def max_in_flight(self) -> int:
        """The most requests the server was answering at the same time."""
        with self._state.lock:
            return self._state.max_in_flight
