"""Running the Join API over real HTTP with a worker beside it: for the end-to-end tests
and the join benchmark (tests/bench_joins.py). Imports Pywikibot only through the worker,
so callers must have written Pywikibot's config first.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from bot.store import RECORDED, ApiToken, Store


class ServedApp:
    """A Flask app served by werkzeug's threaded server on a free loopback port."""

    def __init__(self, app: Flask) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


class WorkerThread:
    """The join worker running in rounds beside the API, as its own process would."""

    def __init__(self, store: Store, interval: float = 0.2) -> None:
        from bot.jobs.joins import Worker

        self.worker = Worker(store, worker_id="load-worker")
        self.thread = threading.Thread(target=self.worker.run, args=(interval,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.worker.stopping.set()
        self.thread.join(60)


def mint_tokens(store: Store, wiki: str, usernames: Sequence[str]) -> dict[str, str]:
    """Bearer tokens as the OAuth callback stores them (hash only), one per user."""
    now = datetime.now(UTC)
    tokens = {}
    for number, name in enumerate(usernames, 1):
        token = secrets.token_urlsafe(32)
        store.add_token(
            ApiToken(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                wiki=wiki,
                username=name,
                user_id=number,
                blocked=False,
                registered=now - timedelta(days=1),
                editcount=0,
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        tokens[name] = token
    return tokens


@dataclass(frozen=True)
class JoinRun:
    """The answers to a burst of joins, and how long the burst took."""

    statuses: tuple[int, ...]
    bodies: tuple[dict[str, Any], ...]
    seconds: float
    #: Seconds each request took, in the order the tokens were given.
    latencies: tuple[float, ...] = ()

    @property
    def per_second(self) -> float:
        return len(self.statuses) / self.seconds if self.seconds else float("inf")


def join_url(base: str, wiki: str, title: str) -> str:
    return f"{base}/api/v1/programs/{quote(wiki, safe='')}/{quote(title, safe='')}/join"


def join_all(base: str, wiki: str, title: str, tokens: Sequence[str], concurrency: int) -> JoinRun:
    """POST a join for every token at once, ``concurrency`` requests in flight."""
    url = join_url(base, wiki, title)
    local = threading.local()

    def join(token: str) -> tuple[int, dict[str, Any], float]:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        sent = time.monotonic()
        response = session.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        return response.status_code, response.json(), time.monotonic() - sent

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(join, tokens))
    seconds = time.monotonic() - started
    return JoinRun(
        tuple(a[0] for a in answers),
        tuple(a[1] for a in answers),
        seconds,
        tuple(a[2] for a in answers),
    )


def wait_until_none_waiting(store: Store, timeout: float) -> float:
    """Seconds until no join is recorded-but-unwritten; raises TimeoutError after ``timeout``."""
    started = time.monotonic()
    while store.pending_pages():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"joins still waiting after {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - started


__all__ = [
    "RECORDED",
    "JoinRun",
    "ServedApp",
    "WorkerThread",
    "join_all",
    "join_url",
    "mint_tokens",
    "wait_until_none_waiting",
]
