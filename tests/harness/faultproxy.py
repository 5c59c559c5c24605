"""A forward HTTP proxy that injects the faults of a busy wiki on a random fraction of requests.

Clients reach it as their HTTP proxy (``http_proxy=http://127.0.0.1:PORT``, which both
Pywikibot's and the Join API's ``requests`` sessions honour), so the real local wikis stay
where they are. For each request it chooses, with a seeded random generator, whether to pass
it on untouched or to inject one of :data:`KINDS`:

``http-500`` / ``http-503``
    the answer of a failing PHP process or a front-end cache that lost its back end;
``timeout``
    no answer at all until after the client's read timeout (the request never arrives);
``timeout-after-acting``
    the wiki handles the request (an edit is saved) but the answer comes too late;
``drop`` / ``drop-after-acting``
    the connection is closed without an answer, before or after the wiki handled it;
``malformed`` / ``malformed-after-acting``
    an answer that is not JSON (cut short), before or after the wiki handled it;
``maxlag``
    MediaWiki's own ``maxlag`` error with its headers (only for requests that carry
    ``maxlag``, like the real wiki);
``readonly``
    MediaWiki's own ``readonly`` error (only for writes, which are all a read-only wiki
    refuses).

The error bodies are those of MediaWiki 1.39's api.php (errorformat=bc, formatversion 1 or
2), headers included (``MediaWiki-API-Error``, ``Retry-After``, ``X-Database-Lag``); the
test suite compares their shape with a real error answer of the local wiki.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

KINDS = (
    "http-500",
    "http-503",
    "timeout",
    "timeout-after-acting",
    "drop",
    "drop-after-acting",
    "malformed",
    "malformed-after-acting",
    "maxlag",
    "readonly",
)
#: Modules whose requests change the wiki; a read-only wiki refuses only these.
WRITE_ACTIONS = frozenset(
    {"edit", "upload", "move", "delete", "undelete", "protect", "rollback", "purge", "emailuser"}
)
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
DOCREF = (
    "See {api} for API usage. Subscribe to the mediawiki-api-announce mailing list at "
    "&lt;https://lists.wikimedia.org/postorius/lists/mediawiki-api-announce.lists."
    "wikimedia.org/&gt; for notice of API deprecations and breaking changes."
)


@dataclass(frozen=True)
class Seen:
    """One request the proxy saw, and what it did with it."""

    at: float
    method: str
    url: str
    params: tuple[tuple[str, str], ...]
    agent: str
    fault: str | None = None

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None


@dataclass
class FaultPlan:
    """Which requests get a fault, and which kinds may be chosen."""

    rate: float = 0.2
    seed: int = 0
    kinds: tuple[str, ...] = KINDS
    #: How long a ``timeout`` holds the connection; must exceed the client's read timeout.
    hold: float = 2.0
    #: Requests that may get a fault at all (default: every request).
    eligible: Callable[[Seen], bool] = field(default=lambda seen: True)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], not {self.rate}")


def applicable(kind: str, seen: Seen) -> bool:
    """Whether the real wiki could answer ``seen`` with this fault."""
    if kind == "maxlag":
        return seen.param("maxlag") is not None
    if kind == "readonly":
        return seen.method == "POST" and seen.param("action") in WRITE_ACTIONS
    return True


def api_error_body(
    code: str, info: str, api_url: str, formatversion: str | None, **extra: object
) -> bytes:
    """An api.php error answer as MediaWiki 1.39 writes it (errorformat=bc)."""
    error: dict[str, object] = {"code": code, "info": info, **extra}
    docref = DOCREF.format(api=api_url)
    if formatversion == "2":
        error["docref"] = docref
    else:
        error["*"] = docref
    return json.dumps({"error": error}, ensure_ascii=False, separators=(",", ":")).encode()


class FaultProxy:
    """The proxy server; ``with FaultProxy(plan) as proxy: ...`` runs it on a free port."""

    def __init__(self, plan: FaultPlan | None = None, *, upstream_timeout: float = 120.0) -> None:
        self.plan = plan or FaultPlan()
        self.upstream_timeout = upstream_timeout
        self._random = random.Random(self.plan.seed)
        self._lock = threading.Lock()
        self.seen: list[Seen] = []
        self.enabled = True
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what happened ----------------------------------------------------------------------

    def faults(self) -> Counter[str]:
        with self._lock:
            return Counter(s.fault for s in self.seen if s.fault is not None)

    def injected(self) -> int:
        return sum(self.faults().values())

    def requests(self) -> int:
        with self._lock:
            return len(self.seen)

    # -- the decision -----------------------------------------------------------------------

    def choose(self, seen: Seen) -> str | None:
        """The fault for this request, or None to pass it on (thread-safe, seeded)."""
        if not self.enabled or not self.plan.eligible(seen):
            return None
        with self._lock:
            if self._random.random() >= self.plan.rate:
                return None
            kinds = [k for k in self.plan.kinds if applicable(k, seen)]
            return self._random.choice(kinds) if kinds else None

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)


def _request_params(
    method: str, url: str, headers: Mapping[str, str], body: bytes
) -> tuple[tuple[str, str], ...]:
    params = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    kind = headers.get("Content-Type", "")
    if method == "POST" and kind.startswith("application/x-www-form-urlencoded"):
        params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    elif method == "POST" and kind.startswith("multipart/form-data"):
        # Only the small text fields matter for choosing a fault (action, maxlag, token).
        for part in body.split(b"\r\n--"):
            head, _, value = part.partition(b"\r\n\r\n")
            marker = b'name="'
            if marker in head and b"filename=" not in head:
                name = head.split(marker, 1)[1].split(b'"', 1)[0].decode("utf-8", "replace")
                params.append((name, value.rstrip(b"\r\n").decode("utf-8", "replace")))
    return tuple(params)


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            log.debug("fault proxy: " + format, *args)

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_HEAD(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = self.path
            if not url.startswith("http://"):
                self._answer(400, b"only absolute http:// URLs (a forward proxy)", "text/plain")
                return
            headers = {k: v for k, v in self.headers.items()}
            seen = Seen(
                at=time.monotonic(),
                method=self.command,
                url=url,
                params=_request_params(self.command, url, headers, body),
                agent=self.headers.get("User-Agent", ""),
            )
            fault = proxy.choose(seen)
            # Recorded before serving: a held connection must count while it is held.
            proxy.record(Seen(seen.at, seen.method, seen.url, seen.params, seen.agent, fault))
            self._serve(fault, seen, body)

        def _serve(self, fault: str | None, seen: Seen, body: bytes) -> int | None:
            api_url = seen.url.split("?", 1)[0]
            formatversion = seen.param("formatversion")
            if fault == "http-500":
                page = b"<!DOCTYPE html><html><body><h1>Internal Server Error</h1></body></html>"
                return self._answer(500, page, "text/html; charset=utf-8")
            if fault == "http-503":
                page = (
                    b"<!DOCTYPE html><html><head><title>Wikimedia Error</title></head><body>"
                    b"<p>Our servers are currently under maintenance or experiencing a "
                    b"technical problem. Please try again in a few minutes.</p></body></html>"
                )
                return self._answer(503, page, "text/html; charset=utf-8")
            if fault == "maxlag":
                maxlag = int(float(seen.param("maxlag") or 5))
                lag = maxlag + 2
                error = api_error_body(
                    "maxlag",
                    f"Waiting for 127.0.0.1: {lag} seconds lagged.",
                    api_url,
                    formatversion,
                    host="127.0.0.1",
                    lag=lag,
                    type="db",
                )
                return self._answer(
                    200,
                    error,
                    _JSON,
                    {
                        "Retry-After": str(max(maxlag, 5)),
                        "X-Database-Lag": str(lag),
                        "MediaWiki-API-Error": "maxlag",
                    },
                )
            if fault == "readonly":
                error = api_error_body(
                    "readonly",
                    "The wiki is currently in read-only mode.",
                    api_url,
                    formatversion,
                    readonlyreason="Maintenance (injected by the test proxy).",
                )
                return self._answer(200, error, _JSON, {"MediaWiki-API-Error": "readonly"})
            # A JSON answer cut short: a made-up one, or the wiki's own after it acted.
            payload = b'{"batchcomplete":true,"query":{"pa'
            if fault is None or fault.endswith("-after-acting"):
                try:
                    status, headers, payload = self._forward(seen.url, body)
                except OSError as error:
                    return self._answer(502, f"upstream failed: {error}".encode(), "text/plain")
                if fault is None:
                    return self._relay(status, headers, payload)
                payload = payload[: max(1, len(payload) // 2)]
            kind = fault.removesuffix("-after-acting")
            if kind == "malformed":
                return self._answer(200, payload, _JSON)
            if kind == "timeout":
                time.sleep(proxy.plan.hold)
            self.close_connection = True  # timeout or drop: no answer at all
            return None

        def _forward(self, url: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            parts = urlsplit(url)
            conn = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port or 80, timeout=proxy.upstream_timeout
            )
            try:
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                conn.request(self.command, target or "/", body=body or None, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                return response.status, response.getheaders(), payload
            finally:
                conn.close()

        def _relay(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> int:
            self.send_response(status)
            for key, value in headers:
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            return status

        def _answer(
            self,
            status: int,
            payload: bytes,
            content_type: str,
            extra: Mapping[str, str] | None = None,
        ) -> int:
            headers = [("Content-Type", content_type), *(extra or {}).items()]
            return self._relay(status, headers, payload)

        def finish(self) -> None:
            with contextlib.suppress(TimeoutError, ConnectionError):  # the client gave up
                super().finish()

    return Handler


_JSON = "application/json; charset=utf-8"
