"""Hostile use of the Join API: every request here tries to make it act when it must not.

Schemathesis against the served OpenAPI document with forged, expired, malformed,
cross-wiki and valid tokens and a foreign origin; forged, truncated, cross-wiki, expired
and revoked tokens and tokens in the wrong place; disallowed and lookalike origins; pages
that are not programs and wikis that are not configured; floods of joins and refresh
requests from threads; titles and usernames crafted to inject wikitext. None may act (the
store is checked after each attack, and the wiki after a worker run), none may answer 5xx.

Every request goes through :class:`Hostile`, which counts it as it is sent; the counts go
to the reliability tally (``hostile inputs tried`` by kind, ``5xx answers``), with
``duplicated joins`` and ``lost joins`` measured from the store after the join flood.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text
from werkzeug.test import TestResponse

from api_support import (
    NOW,
    OPERATIONS,
    PROGRAM,
    Clock,
    add_token,
    api_config,
    bearer,
    program_text,
    wiki_entry,
)
from bot.core.titles import normalize_title
from bot.store import JOIN, Store
from gadget_api import create_app, handshake
from gadget_api.auth import hash_token
from gadget_api.context import EXTENSION
from harness import Farm
from harness.oauth_provider import Consumer, OAuthProvider, authorize_with_requests
from reliability import TALLY, scaled

pytestmark = [pytest.mark.wiki, pytest.mark.reliability]

pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page  # noqa: E402
from bot.jobs.joins import Worker  # noqa: E402

PUBLIC_URL = "http://api.test"
SECOND_PROGRAM = "Project:Second program"
#: The documented default rate limits (README, ``[rate_limits]``).
REFRESH_PER_USER_PER_HOUR = 10
REFRESH_PER_PROGRAM_PER_HOUR = 30
JOINS_PER_USER_PER_MINUTE = 10
#: Every table the API writes to when it acts.
RECORDING_TABLES = ("join_requests", "refresh_requests")


# -- counting what is sent -----------------------------------------------------------------


class Hostile:
    """Sends requests to the app in-process and counts each one as it is sent (thread-safe)."""

    def __init__(self, app: Flask, kind: str) -> None:
        self.app = app
        self.kind = kind
        self.sent = 0
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []
        self._lock = threading.Lock()

    @property
    def limited(self) -> int:
        """How many answers were 429 rate-limited."""
        return self.statuses[429]

    def saw(self, status: int, what: str) -> None:
        """One request was sent and answered with ``status``."""
        with self._lock:
            self.sent += 1
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors.append(f"{status} {what}")

    def open(
        self,
        path: str,
        method: str = "GET",
        *,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        data: bytes | str | None = None,
    ) -> TestResponse:
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        response = self.app.test_client().open(path, method=method, headers=pairs, data=data)
        self.saw(response.status_code, f"{method} {path!r}")
        return response


SenderFactory = Callable[[Flask, str], Hostile]


@pytest.fixture
def hostile() -> Iterator[SenderFactory]:
    """``hostile(app, kind)``: a counting sender; its counts go to the tally at teardown."""
    made: list[Hostile] = []

    def make(app: Flask, kind: str) -> Hostile:
        sender = Hostile(app, kind)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        TALLY.add("hostile inputs tried", sender.sent, kind=sender.kind)
        TALLY.add("5xx answers", len(sender.server_errors))


def no_server_errors(*senders: Hostile) -> None:
    errors = [error for sender in senders for error in sender.server_errors]
    assert errors == [], errors[:10]


# -- the app, the programs and what the store holds ------------------------------------------


def store_of(app: Flask) -> Store:
    store: Store = app.extensions[EXTENSION].store
    return store


def recorded(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables the API writes when it acts."""
    with store_of(app).engine.connect() as conn:
        return {
            table: [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table}"))]
            for table in RECORDING_TABLES
        }


def nothing_recorded(app: Flask) -> None:
    assert recorded(app) == {table: [] for table in RECORDING_TABLES}


def join_rows(app: Flask) -> list[tuple[Any, ...]]:
    """(wiki, title, username, action, state) of every join and leave, oldest first."""
    with store_of(app).engine.connect() as conn:
        rows = conn.execute(
            text("SELECT wiki, title, username, action, state FROM join_requests ORDER BY id")
        )
        return [tuple(row) for row in rows]


def refresh_counts(app: Flask, column: str) -> Counter[str]:
    with store_of(app).engine.connect() as conn:
        return Counter(
            str(v) for (v,) in conn.execute(text(f"SELECT {column} FROM refresh_requests"))
        )


@pytest.fixture
def clock() -> Clock:
    return Clock()


def farm_program(wikis: Farm, **changes: Any) -> str:
    """A program counting the content wiki (so that a refresh asks nothing of the Internet)."""
    return program_text(**changes).replace("en.wikipedia.org", wikis.content.host)


def make_app(wikis: Farm, tmp_path: Path, clock: Clock, *extra: dict[str, str]) -> Flask:
    """The API on both real wikis (and ``extra`` entries), the default rate limits."""
    entries = [wiki_entry(wikis.content), wiki_entry(wikis.media), *extra]
    return create_app(api_config(tmp_path, entries, public_url=PUBLIC_URL), clock=clock)


@pytest.fixture
def app(wikis: Farm, tmp_path: Path, clock: Clock) -> Flask:
    wikis.content.admin_client().edit(PROGRAM, farm_program(wikis))
    return make_app(wikis, tmp_path, clock)


def program_path(wiki: str, title: str, suffix: str = "") -> str:
    """As the gadget builds it: slashes and colons kept, everything else percent-encoded."""
    return f"/api/v1/programs/{wiki}/{quote(title, safe='/:')}{suffix}"


#: (method, suffix) of the operations that change something, then the reads.
ACTIONS = (("POST", "/join"), ("POST", "/leave"), ("POST", "/refresh"))
SIGNED_IN_CALLS = (*ACTIONS, ("GET", "/join"))
PROGRAM_CALLS = (*SIGNED_IN_CALLS, ("GET", ""), ("GET", "/report"))


def worker_for(wikis: Farm, store: Store, *, refreshes: bool = True) -> Worker:
    """A worker as tests/test_worker.py makes one (``refreshes=False``: joins only)."""
    pywikibot.Site(wikis.content.name, wikis.content.name)
    return Worker(store, worker_id="hostile-test", refreshes=refreshes)


# -- schemathesis with hostile headers -------------------------------------------------------

PROGRAM_OPERATIONS = [op for op in OPERATIONS if "{" in op[0]]
SIGNED_IN_OPERATIONS = {("/me", "GET"), ("/programs/{wiki}/{title}/join", "GET")}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
AUTH_KINDS = ("none", "forged", "expired", "malformed", "cross-wiki", "valid", "evil-origin")
#: Headers with which nothing may be recorded.
POWERLESS = {"none", "forged", "expired", "malformed", "cross-wiki", "evil-origin"}


def auth_headers(kind: str, app: Flask, wikis: Farm) -> dict[str, str]:
    store, content = store_of(app), wikis.content.host
    if kind == "none":
        return {}
    if kind == "forged":
        return bearer(secrets.token_urlsafe(32))
    if kind == "expired":
        return bearer(add_token(store, "Carol", content, now=NOW - timedelta(hours=13)))
    if kind == "malformed":
        return {"Authorization": "Bearer " + "x" * 10 + "==;"}
    if kind == "cross-wiki":
        # A real token of the media wiki, where no program exists.
        return bearer(add_token(store, "Carol", wikis.media.host))
    if kind == "valid":
        return bearer(add_token(store, "Carol", content))
    if kind == "evil-origin":
        return bearer(add_token(store, "Carol", content), Origin="https://evil.example")
    raise AssertionError(kind)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_schemathesis_with_hostile_headers(
    app: Flask, wikis: Farm, hostile: SenderFactory, kind: str, mode: GenerationMode
) -> None:
    """Generated requests (valid and invalid) with each kind of credentials: no 5xx, every
    answer as documented, and only a valid token from an allowed place records anything."""
    sender = hostile(app, "schemathesis")
    headers = auth_headers(kind, app, wikis)
    schema = schemathesis.openapi.from_dict(
        app.test_client().get("/api/v1/openapi.json").get_json()
    )
    schema.app = app
    operations = OPERATIONS if mode == GenerationMode.POSITIVE else PROGRAM_OPERATIONS
    targets: list[tuple[str, str, dict[str, str] | None]] = [(*op, None) for op in operations]
    # Random titles are rarely programs: aim every program operation at the real one too.
    on_program = {"wiki": wikis.content.host, "title": PROGRAM}
    targets += [(*op, on_program) for op in PROGRAM_OPERATIONS]

    def check(case: Any) -> None:
        response = case.call(headers=headers)
        path, method = case.operation.path, case.operation.method.upper()
        sender.saw(response.status_code, f"{method} {case.formatted_path} ({kind}, {mode.value})")
        case.validate_response(response, checks=CHECKS)
        if kind == "evil-origin":
            assert response.status_code == 403, response.text
            assert "Access-Control-Allow-Origin" not in response.headers
        elif kind == "cross-wiki" and path == "/me":
            assert response.status_code == 200  # the token is good, on its own wiki
        elif kind in POWERLESS and (method == "POST" or (path, method) in SIGNED_IN_OPERATIONS):
            assert response.status_code >= 400, response.text

    for path, method, path_parameters in targets:
        strategy = schema[path][method].as_strategy(
            generation_mode=mode, path_parameters=path_parameters
        )
        run = settings(
            max_examples=scaled(5, 50),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )(given(case=strategy)(lambda case: check(case)))
        try:
            run()
        except Unsatisfiable:
            # Negative mode with both path parameters fixed and nothing else to break.
            assert mode == GenerationMode.NEGATIVE and path_parameters is not None

    no_server_errors(sender)
    assert sender.sent >= len(targets)
    if kind in POWERLESS:
        nothing_recorded(app)


# -- tokens ------------------------------------------------------------------------------------


def test_no_hostile_token_acts(
    app: Flask, wikis: Farm, clock: Clock, hostile: SenderFactory
) -> None:
    sender = hostile(app, "tokens")
    store = store_of(app)
    content, media = wikis.content.host, wikis.media.host
    wikis.media.admin_client().edit(PROGRAM, program_text())
    valid = add_token(store, "Carol", content)
    other = add_token(store, "Dave", content)
    revoked = add_token(store, "Erin", content)
    store.revoke_token(hash_token(revoked))
    expired = add_token(store, "Frank", content, now=NOW - timedelta(hours=12))
    forged = secrets.token_urlsafe(32)
    basic = base64.b64encode(f"Carol:{valid}".encode()).decode()

    #: Each is refused on every call with 401; none reaches the store.
    unauthorized: list[tuple[str, list[tuple[str, str]]]] = [
        ("forged", [("Authorization", f"Bearer {forged}")]),
        ("forged, short", [("Authorization", f"Bearer {secrets.token_urlsafe(15)}")]),
        ("truncated by one", [("Authorization", f"Bearer {valid[:-1]}")]),
        ("truncated to 20", [("Authorization", f"Bearer {valid[:20]}")]),
        ("truncated to 8", [("Authorization", f"Bearer {valid[:8]}")]),
        ("one character more", [("Authorization", f"Bearer {valid}A")]),
        ("case flipped", [("Authorization", f"Bearer {valid.swapcase()}")]),
        ("its hash", [("Authorization", f"Bearer {hash_token(valid)}")]),
        ("revoked", [("Authorization", f"Bearer {revoked}")]),
        ("expired", [("Authorization", f"Bearer {expired}")]),
        ("no scheme", [("Authorization", valid)]),
        ("basic", [("Authorization", f"Basic {basic}")]),
        ("token scheme", [("Authorization", f"Token {valid}")]),
        ("bearer twice", [("Authorization", f"Bearer Bearer {valid}")]),
        ("trailing junk", [("Authorization", f"Bearer {valid} x")]),
        ("two tokens", [("Authorization", f"Bearer {forged}, Bearer {valid}")]),
        (
            "two headers",
            [("Authorization", f"Bearer {forged}"), ("Authorization", f"Bearer {valid}")],
        ),
        ("tab", [("Authorization", f"Bearer\t{valid}")]),
        ("empty", [("Authorization", "Bearer ")]),
        ("scheme only", [("Authorization", "Bearer")]),
        ("huge", [("Authorization", "Bearer " + "A" * 8000)]),
        ("latin-1", [("Authorization", "Bearer " + "\u00e9" * 43)]),
        ("sql", [("Authorization", "Bearer ' OR '1'='1")]),
        ("wildcard", [("Authorization", "Bearer %")]),
        ("in another header", [("X-Authorization", f"Bearer {valid}")]),
        ("as proxy credentials", [("Proxy-Authorization", f"Bearer {valid}")]),
        ("in a cookie", [("Cookie", f"token={valid}; access_token={valid}")]),
    ]
    program = program_path(content, PROGRAM)
    for name, headers in unauthorized:
        for method, suffix in SIGNED_IN_CALLS:
            response = sender.open(program + suffix, method, headers=headers)
            assert response.status_code == 401, (name, suffix, response.get_json())
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        me = sender.open("/api/v1/me", headers=headers)
        assert me.status_code == 401, (name, me.get_json())
        # A public read with a bad token says so rather than answering anonymously...
        summary = sender.open(program, headers=headers)
        assert summary.status_code in (200, 401), (name, summary.get_json())
        assert "joined" not in (summary.get_json() or {})

    # ...and a token in the query string or the body is not a token at all.
    for where in ("access_token", "token", "Authorization", "bearer"):
        for method, suffix in SIGNED_IN_CALLS:
            response = sender.open(f"{program}{suffix}?{where}={valid}", method)
            assert response.status_code == 401, (where, response.get_json())
    for method, suffix in ACTIONS:
        body = f'{{"token": "{valid}", "access_token": "{valid}"}}'
        response = sender.open(
            program + suffix, method, data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401 and response.get_json()["error"]["code"] == (
            "missing-token"
        )

    # A real token of the other wiki is refused on this wiki's program, both ways.
    carol_media = add_token(store, "Carol", media)
    for token, wiki in ((carol_media, content), (valid, media)):
        for method, suffix in SIGNED_IN_CALLS:
            response = sender.open(
                program_path(wiki, PROGRAM) + suffix, method, headers=bearer(token)
            )
            assert response.status_code == 403, response.get_json()
            assert response.get_json()["error"]["code"] == "wrong-wiki"
    # A token stored for a wiki that is not configured acts nowhere.
    nowhere = add_token(store, "Carol", "evil.example")
    for wiki in (content, media, "evil.example"):
        for method, suffix in ACTIONS:
            response = sender.open(
                program_path(wiki, PROGRAM) + suffix, method, headers=bearer(nowhere)
            )
            assert response.status_code in (403, 404), response.get_json()
    nothing_recorded(app)

    # Carol joins and leaves; once her token is revoked, it does nothing more.
    assert sender.open(program + "/join", "POST", headers=bearer(valid)).status_code == 202
    assert sender.open(program + "/leave", "POST", headers=bearer(valid)).status_code == 202
    store.revoke_token(hash_token(valid))
    for method, suffix in SIGNED_IN_CALLS:
        assert sender.open(program + suffix, method, headers=bearer(valid)).status_code == 401
    # Dave's token works until it expires, then does nothing.
    assert sender.open("/api/v1/me", headers=bearer(other)).status_code == 200
    clock.advance(timedelta(hours=12))
    for method, suffix in (*SIGNED_IN_CALLS, ("GET", "")):
        assert sender.open(program + suffix, method, headers=bearer(other)).status_code == 401
    assert sender.open("/api/v1/me", headers=bearer(other)).status_code == 401

    no_server_errors(sender)
    assert [row[2:4] for row in join_rows(app)] == [("Carol", "join"), ("Carol", "leave")]
    assert recorded(app)["refresh_requests"] == []


# -- origins -----------------------------------------------------------------------------------


def hostile_origins(wikis: Farm) -> list[str]:
    """Origins that are not a configured wiki's, many of them lookalikes of the content wiki's."""
    origin, port = wikis.content.url, wikis.content.port
    return [
        "https://evil.example",
        "null",
        "",
        "*",
        f"{origin}.evil.test",
        f"{origin}0",
        f"http://127.0.0.1:{port + 1000}",
        f"https://127.0.0.1:{port}",
        f"{origin}/",
        f"{origin}/index.php",
        "http://127.0.0.1",
        f"http://localhost:{port}",
        f"http://127.0.0.1.:{port}",
        f"http://[::ffff:127.0.0.1]:{port}",
        f"http://2130706433:{port}",
        f"HTTP://127.0.0.1:{port}",
        f"http://evil.test@127.0.0.1:{port}",
        f"{origin}@evil.test",
        f"http://evil.test/{origin}",
        f"http://evil.test#{origin}",
        f"{origin} ",
        f" {origin}",
        f"{origin}, https://evil.example",
        f"https://evil.example {origin}",
        f"{origin}\t",
        PUBLIC_URL,  # the API's own origin: its pages never call the API
        "file://",
        "chrome-extension://abcdefghijklmnop",
    ]


def cors_headers(response: TestResponse) -> list[str]:
    return [name for name, _ in response.headers.items() if name.lower().startswith("access-")]


def test_disallowed_origins_get_no_cors_and_cannot_act(
    app: Flask, wikis: Farm, hostile: SenderFactory
) -> None:
    sender = hostile(app, "origins")
    token = add_token(store_of(app), "Carol", wikis.content.host)
    program = program_path(wikis.content.host, PROGRAM)
    calls = [(method, program + suffix) for method, suffix in PROGRAM_CALLS] + [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", f"/api/v1/campaigns/{wikis.content.host}/Project:Campaign/report"),
    ]
    preflights = [program + suffix for _, suffix in ACTIONS] + [program, "/api/v1/me"]
    origins = hostile_origins(wikis)
    for origin in origins:
        for method, path in calls:
            response = sender.open(path, method, headers=bearer(token, Origin=origin))
            assert response.status_code == 403, (origin, method, path, response.get_json())
            assert response.get_json()["error"]["code"] == "origin-not-allowed"
            assert not cors_headers(response)
        for path in preflights:
            for asks in ("POST", "GET", "DELETE"):
                response = sender.open(
                    path,
                    "OPTIONS",
                    headers={
                        "Origin": origin,
                        "Access-Control-Request-Method": asks,
                        "Access-Control-Request-Headers": "authorization, content-type",
                    },
                )
                assert response.status_code == 403, (origin, path, asks)
                assert not cors_headers(response)
    no_server_errors(sender)
    nothing_recorded(app)
    # The content wiki itself still may.
    allowed = sender.open(
        program + "/join", "POST", headers=bearer(token, Origin=wikis.content.url)
    )
    assert allowed.status_code == 202
    assert allowed.headers["Access-Control-Allow-Origin"] == wikis.content.url


# -- pages that are not programs ---------------------------------------------------------------

GADGET_CSS = Path(__file__).parent.parent / "wikitemplates" / "gadget" / "programs-bot.css"


def non_program_pages() -> dict[str, str | None]:
    """Title -> the text to create it with (None: left missing or not creatable)."""
    program = program_text()
    return {
        "Project:Just prose": "An ordinary page about [[Project:Test program]].\n",
        "Project:No such page": None,
        "Project:Redirect to the program": "#REDIRECT [[Project:Test program]]\n",
        "Project talk:Test program": (
            "== Dates ==\nShould <nowiki>{{Program details}}</nowiki> say December? "
            "[[User:Bob|Bob]]\n"
        ),
        "Project:Program in nowiki": f"<nowiki>{program}</nowiki>",
        "Project:Program in a comment": f"<!--\n{program}-->\n",
        "Project:Program in pre": f"<pre>{program}</pre>\n",
        "Project:Program inside a template": f"{{{{Echo|1=\n{program}}}}}\n",
        "Project:Program only when included": f"<includeonly>{program}</includeonly>\n",
        "Project:Transcluding the program": "{{:Project:Test program}}\n",
        "User:Carol": "I am Carol. I like {{tl|Program details}}.\n",
        # Pages of other content models that spell the template: the gadget's own CSS (as
        # deployed, its first comment names {{Program details}}), a user's JavaScript.
        "MediaWiki:Gadget-programs-bot.css": GADGET_CSS.read_text(encoding="utf-8"),
        "User:Carol/program.js": f"// {program.replace(chr(10), ' ')}\nvar x = 1;\n",
        "MediaWiki:Programs.json": '{"page": "{{Program details|name=JSON}}"}',
        "Special:Version": None,
        "Special:MyPage": None,
        "Special:Export/Project:Test program": None,
        "Media:Program.png": None,
        "wikipedia:Project:Test program": None,
        "mw:Project:Test program": None,
        "commons:Project:Test program": None,
    }


def test_pages_that_are_not_programs_are_never_queued(
    app: Flask, wikis: Farm, hostile: SenderFactory
) -> None:
    sender = hostile(app, "not a program")
    admin = wikis.content.admin_client()
    pages = non_program_pages()
    for title, page_text in pages.items():
        if page_text is not None:
            admin.edit(title, page_text)
    token = add_token(store_of(app), "Carol", wikis.content.host)
    existing = [title for title, page_text in pages.items() if page_text is not None]
    revids = {title: admin.latest_revid(title) for title in (*existing, PROGRAM)}
    assert all(revids.values()), revids

    answers: dict[str, list[int]] = {}
    for title in pages:
        for method, suffix in PROGRAM_CALLS:
            response = sender.open(
                program_path(wikis.content.host, title, suffix), method, headers=bearer(token)
            )
            answers.setdefault(title, []).append(response.status_code)
            assert 400 <= response.status_code < 500, (title, suffix, response.get_json())
            assert response.get_json()["error"]["code"] in ("not-a-program", "bad-title"), (
                title,
                suffix,
                response.get_json(),
            )
    no_server_errors(sender)
    nothing_recorded(app)

    # One real join, so that the worker has something to do; it edits the program only.
    joined = sender.open(
        program_path(wikis.content.host, PROGRAM, "/join"), "POST", headers=bearer(token)
    )
    assert joined.status_code == 202
    result = worker_for(wikis, store_of(app)).run_once()
    assert (result.applied, result.failed) == (1, 0)
    after = {title: admin.latest_revid(title) for title in (*existing, PROGRAM)}
    assert {t: r for t, r in after.items() if t != PROGRAM} == {
        t: r for t, r in revids.items() if t != PROGRAM
    }
    assert after[PROGRAM] != revids[PROGRAM]
    assert [row.username for row in parse_program_page(admin.get_text(PROGRAM) or "").rows] == [
        "Alice",
        "Carol",
    ]


# -- wikis that are not configured ---------------------------------------------------------

ALIAS_HOST = "content.wiki.test"


def test_unconfigured_wikis_record_nothing(
    wikis: Farm, tmp_path: Path, clock: Clock, hostile: SenderFactory
) -> None:
    wikis.content.admin_client().edit(PROGRAM, farm_program(wikis))
    # The content wiki once more under a name with letters, to try its spellings.
    alias = {**wiki_entry(wikis.content), "host": ALIAS_HOST, "origin": f"http://{ALIAS_HOST}"}
    app = make_app(wikis, tmp_path, clock, alias)
    sender = hostile(app, "unconfigured wiki")
    store = store_of(app)
    port, host = wikis.content.port, wikis.content.host
    tokens = {
        host: add_token(store, "Carol", host),
        ALIAS_HOST: add_token(store, "Carol", ALIAS_HOST),
        "evil.example": add_token(store, "Carol", "evil.example"),
    }
    spellings = [
        "evil.example",
        "en.wikipedia.org",
        "127.0.0.1",
        "localhost",
        f"127.0.0.1:{port}.",
        f"127.0.0.1.:{port}",
        f"127.0.0.1:{port + 1000}",
        f"127.0.0.1:0{port}",
        f"127.0.0.1:{port}:{port}",
        f"127.0.0.1:+{port}",
        f"localhost:{port}",
        f"[::1]:{port}",
        f"[::ffff:127.0.0.1]:{port}",
        f"2130706433:{port}",
        f"evil.example@127.0.0.1:{port}",
        f"127.0.0.1:{port}@evil.example",
        f"127.0.0.1:{port} ",
        f" 127.0.0.1:{port}",
        f"127.0.0.1:{port}\t",
        f"127.0.0.1:{port}%00",
        "..",
        ".",
        f"{ALIAS_HOST}.",
        f"{ALIAS_HOST}:80",
        f"{ALIAS_HOST}:443",
        f"www.{ALIAS_HOST}",
        f"{ALIAS_HOST}.evil.example",
        f"http:{ALIAS_HOST}",
        f"{ALIAS_HOST}%2eevil.example",
    ]
    for spelling in spellings:
        for token in tokens.values():
            for method, suffix in (*PROGRAM_CALLS,):
                path = f"/api/v1/programs/{quote(spelling, safe=':@[]')}/{quote(PROGRAM)}{suffix}"
                response = sender.open(path, method, headers=bearer(token))
                assert response.status_code == 404, (spelling, suffix, response.get_json())
                assert response.get_json()["error"]["code"] in ("unknown-wiki", "not-found")
        popup = sender.open(f"/oauth/start?wiki={quote(spelling)}")
        assert popup.status_code == 404 and "Location" not in popup.headers
        assert "programs_api_session" not in popup.headers.get("Set-Cookie", "")
    no_server_errors(sender)
    nothing_recorded(app)

    # Host names are case-insensitive: another case is the configured wiki, recorded under
    # the host as configured.
    for spelling in ("CONTENT.WIKI.TEST", "Content.Wiki.Test"):
        response = sender.open(
            f"/api/v1/programs/{spelling}/{quote(PROGRAM)}/join",
            "POST",
            headers=bearer(tokens[ALIAS_HOST]),
        )
        assert response.status_code in (200, 202), response.get_json()
    configured = {host, wikis.media.host, ALIAS_HOST}
    rows = join_rows(app)
    assert len(rows) == 1 and rows[0][:4] == (
        ALIAS_HOST,
        "Content Wiki:Test program",
        "Carol",
        JOIN,
    )
    assert {row[0] for row in rows} <= configured
    no_server_errors(sender)


# -- floods ------------------------------------------------------------------------------------


def flood(
    sender: Hostile, calls: Sequence[tuple[str, str, dict[str, str]]], threads: int
) -> list[int]:
    """Send every (method, path, headers) from ``threads`` threads at once; the statuses."""
    barrier = threading.Barrier(threads)

    def send(index: int) -> list[int]:
        barrier.wait()
        return [
            sender.open(path, method, headers=headers).status_code
            for method, path, headers in calls[index::threads]
        ]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [status for part in pool.map(send, range(threads)) for status in part]


def test_a_flood_of_refresh_requests_keeps_the_rate_limits(
    app: Flask, wikis: Farm, hostile: SenderFactory
) -> None:
    sender = hostile(app, "flood")
    wikis.content.admin_client().edit(SECOND_PROGRAM, farm_program(wikis))
    store, host = store_of(app), wikis.content.host

    # One user, as fast as the threads can.
    carol = bearer(add_token(store, "Carol", host))
    one = [("POST", program_path(host, PROGRAM, "/refresh"), carol)] * scaled(40, 400)
    statuses = Counter(flood(sender, one, threads=8))
    assert set(statuses) <= {202, 429}, statuses
    assert 1 <= statuses[202] <= REFRESH_PER_USER_PER_HOUR, statuses
    assert refresh_counts(app, "username")["Carol"] == statuses[202]

    # Many users on another program: the per-program limit holds, and each user's.
    users = [f"Flooder {i}" for i in range(scaled(20, 100))]
    tokens = {user: bearer(add_token(store, user, host)) for user in users}
    many = [
        ("POST", program_path(host, SECOND_PROGRAM, "/refresh"), tokens[user])
        for _ in range(3)
        for user in users
    ]
    statuses_many = Counter(flood(sender, many, threads=8))
    assert set(statuses_many) <= {202, 429}, statuses_many
    per_program = refresh_counts(app, "title")
    assert per_program["Content Wiki:Second program"] == statuses_many[202]
    assert 1 <= statuses_many[202] <= REFRESH_PER_PROGRAM_PER_HOUR, statuses_many
    assert max(refresh_counts(app, "username").values()) <= REFRESH_PER_USER_PER_HOUR
    no_server_errors(sender)
    assert sender.limited == statuses[429] + statuses_many[429]
    assert recorded(app)["join_requests"] == []


def test_a_flood_of_joins_records_one_join_per_user(
    app: Flask, wikis: Farm, hostile: SenderFactory
) -> None:
    sender = hostile(app, "flood")
    store, host = store_of(app), wikis.content.host
    users = [f"Joiner {i}" for i in range(scaled(15, 150))]
    tokens = {user: bearer(add_token(store, user, host)) for user in users}
    join = program_path(host, PROGRAM, "/join")
    calls = [("POST", join, tokens[user]) for _ in range(4) for user in users]
    statuses = Counter(flood(sender, calls, threads=8))
    assert set(statuses) <= {200, 202}, statuses
    assert statuses[202] == len(users), statuses

    per_user = Counter(row[2] for row in join_rows(app))
    duplicated = sum(count - 1 for count in per_user.values() if count > 1)
    lost = sum(1 for user in users if per_user[user] == 0)
    TALLY.add("duplicated joins", duplicated)
    TALLY.add("lost joins", lost)
    assert (duplicated, lost) == (0, 0), per_user
    assert set(per_user) == set(users)

    # The worker puts everyone on the page exactly once.
    worker_for(wikis, store, refreshes=False).run_once()
    names = [
        row.username
        for row in parse_program_page(wikis.content.admin_client().get_text(PROGRAM) or "").rows
    ]
    assert sorted(names) == sorted(["Alice", *users])
    no_server_errors(sender)


def test_a_flood_of_joins_and_leaves_from_one_user_keeps_the_rate_limit(
    app: Flask, wikis: Farm, hostile: SenderFactory
) -> None:
    sender = hostile(app, "flood")
    store, host = store_of(app), wikis.content.host
    headers = bearer(add_token(store, "Carol", host))
    join = program_path(host, PROGRAM, "/join")
    leave = program_path(host, PROGRAM, "/leave")
    calls = [("POST", join if i % 2 == 0 else leave, headers) for i in range(scaled(40, 400))]
    statuses = Counter(flood(sender, calls, threads=8))
    assert set(statuses) <= {200, 202, 409, 429}, statuses
    made = store.count_join_requests(NOW - timedelta(minutes=1), username="Carol")
    assert made == statuses[202], (made, statuses)
    assert 1 <= made <= JOINS_PER_USER_PER_MINUTE, statuses
    # How many of the flood's calls changed anything depends on the threads' timing (a join
    # after a join is "already"); go on one call at a time up to the limit, so it is always met.
    while made < JOINS_PER_USER_PER_MINUTE:
        for path in (join, leave):
            status = sender.open(path, "POST", headers=headers).status_code
            assert status in (200, 202), (status, made)
            made += status == 202
            if made == JOINS_PER_USER_PER_MINUTE:
                break
    # At the limit, whichever call would change something is refused; the other one is "already".
    over = [sender.open(path, "POST", headers=headers).status_code for path in (join, leave)]
    assert sorted(over) == [200, 429], over
    assert store.count_join_requests(NOW - timedelta(minutes=1), username="Carol") == made
    no_server_errors(sender)


# -- injection: titles -------------------------------------------------------------------------

CRAFTED_TITLES = [
    "Project:Test program}}",
    "Project:Test program}}{{Program details|name=x",
    "Project:Test program|registration=open",
    "[[Project:Test program]]",
    "Project:Test program]]",
    "Project:Test <b>program</b>",
    "Project:Test program<!--",
    "Project:Test program\n{{Program details}}",
    "Project:Test program\r\n",
    "Project:Test\x00program",
    "Project:Test%00program",
    "Project:Test%2500program",
    "Project:Test\x7fprogram",
    "../../../../etc/passwd",
    "Project:../Test program",
    "Project:Test program/../../Main Page",
    "./Project:Test program",
    "Project:Test program/.",
    "Project:Test program#Participants",
    "Project:Test program?action=edit",
    "Project:Test program&action=delete",
    "Project:Test~~~~",
    "Project:" + "A" * 300,
    "Project:" + "\u00c4" * 200,
    "Project:" + "%41" * 100,
    "A" * 10000,
    "{{Program details}}",
    "{{subst:Program details}}",
    "Special:Export/Project:Test program",
    ":",
    "Project:",
    "Talk:",
    "%",
    "\u200e",
    "Project:Test program\ufffe",
]


def test_crafted_titles_are_refused(app: Flask, wikis: Farm, hostile: SenderFactory) -> None:
    sender = hostile(app, "crafted title")
    token = add_token(store_of(app), "Carol", wikis.content.host)
    host = wikis.content.host
    for title in CRAFTED_TITLES:
        paths = [program_path(host, title)]
        if all(32 < ord(c) < 127 and c not in "?#%" for c in title):
            paths.append(f"/api/v1/programs/{host}/{title}")  # as typed, not encoded
        for path in paths:
            for method, suffix in PROGRAM_CALLS:
                response = sender.open(path + suffix, method, headers=bearer(token))
                assert 400 <= response.status_code < 500, (title, suffix, response.get_json())
    # Query parameters of the report, crafted.
    report = program_path(host, PROGRAM, "/report")
    for query in (
        "format=csv%0A",
        "format=csv&table=participants%0D%0AX-Injected:1",
        "format=json&format=csv&table=../../etc",
        "table=" + "x" * 5000,
        "format=%00",
    ):
        response = sender.open(f"{report}?{query}")
        assert response.status_code in (200, 400), (query, response.get_json())
        assert "X-Injected" not in response.headers
    no_server_errors(sender)
    nothing_recorded(app)

    # Spellings the wiki resolves to the program itself are that program: one join, under
    # the title as the wiki writes it.
    for spelling in SAME_PROGRAM:
        response = sender.open(program_path(host, spelling, "/join"), "POST", headers=bearer(token))
        assert response.status_code in (200, 202), (spelling, response.get_json())
    assert join_rows(app) == [(host, "Content Wiki:Test program", "Carol", JOIN, "recorded")]
    no_server_errors(sender)


#: Other spellings of PROGRAM (MediaWiki turns U+2028 and U+3000 into spaces, say).
SAME_PROGRAM = [
    "Project:Test program",
    "Project:Test_program",
    "project:test program",
    "Content Wiki:Test program",
    "Content_Wiki:Test__program",
    "Project:Test\u2028program",
    "Project:Test\u3000program",
    " Project : Test program ",
    ":Project:Test program",
]


# -- injection: usernames ----------------------------------------------------------------------

#: Names MediaWiki lets people have, odd as they look: joins are recorded with the name
#: exactly (MediaWiki itself writes no underscore; the page gets the name with spaces).
ODD_BUT_VALID_USERNAMES = [
    "Eve=1",
    "Eve ''Quoted''",
    "Eve '''Bold'''",
    "Eve __NOTOC__",
    "Eve~~",
    "Tom&Jerry;",
    "'; DROP TABLE join_requests; --",
]
#: Names no wiki hands out, stored as if an identity had said so: the token is refused.
NOT_USERNAMES = [
    "Eve &amp; co",
    "Eve&#124;x",
    "Eve&#x7c;x",
    "Eve~~~~",
    "Eve~~~~~",
    "Eve}}{{Program details",
    "Eve|joined=1999-01-01",
    "Eve[[Category:Spam]]",
    "Eve<script>alert(1)</script>",
    "Eve<!--",
    "Eve\n{{Participant table row|username=Mallory}}",
    "Eve{{subst:CURRENTYEAR}}",
    "Eve#top",
    "Eve/subpage",
    "Eve\u202e",
    "Eve\u200b",
    "Eve\x00",
    "Eve\t",
    " Eve",
    " ",
    "",
    "E" * 256,
]


def test_crafted_usernames_from_stored_tokens(
    app: Flask, wikis: Farm, hostile: SenderFactory
) -> None:
    sender = hostile(app, "crafted username")
    store, host = store_of(app), wikis.content.host
    join = program_path(host, PROGRAM, "/join")
    # An ordinary user joins too: a name that broke the worker's batch would fail Bob's.
    bob = bearer(add_token(store, "Bob", host))
    assert sender.open(join, "POST", headers=bob).status_code == 202
    for username in ODD_BUT_VALID_USERNAMES + NOT_USERNAMES:
        headers = bearer(add_token(store, username, host))
        response = sender.open(join, "POST", headers=headers)
        if username in ODD_BUT_VALID_USERNAMES:
            assert response.status_code == 202, (username, response.get_json())
            latest = store.latest_join(host, "Content Wiki:Test program", username)
            assert latest is not None and latest.username == username
        else:
            assert response.status_code == 401, (username, response.get_json())
            assert response.get_json()["error"]["code"] == "invalid-token"
        for method, suffix in (("GET", "/join"), ("GET", ""), ("POST", "/leave")):
            response = sender.open(join.replace("/join", suffix), method, headers=headers)
            assert response.status_code < 500, (username, suffix)
            if username in NOT_USERNAMES:
                assert response.status_code == 401, (username, suffix)
        me = sender.open("/api/v1/me", headers=headers)
        assert me.status_code == (200 if username in ODD_BUT_VALID_USERNAMES else 401)
    no_server_errors(sender)
    # Each odd name joined and left (the leave supersedes the waiting join); Bob joined.
    assert Counter(row[2] for row in join_rows(app)) == Counter(
        {"Bob": 1, **dict.fromkeys(ODD_BUT_VALID_USERNAMES, 2)}
    )
    for name in ODD_BUT_VALID_USERNAMES:
        rejoined = sender.open(join, "POST", headers=bearer(add_token(store, name, host)))
        assert rejoined.status_code == 202, (name, rejoined.get_json())

    # The worker writes what was accepted: every accepted name is on the page once, as
    # MediaWiki spells it (underscores are spaces), and the rest of the page is kept.
    admin = wikis.content.admin_client()
    before = admin.get_text(PROGRAM) or ""
    result = worker_for(wikis, store, refreshes=False).run_once()
    assert result.failed == 0
    after = admin.get_text(PROGRAM) or ""
    names = [row.username for row in parse_program_page(after).rows]
    expected = ["Alice", "Bob", *map(normalize_title, ODD_BUT_VALID_USERNAMES)]
    assert sorted(names) == sorted(expected), names
    assert after.startswith(before.split("{{End of participants table}}")[0])
    assert after.rstrip().endswith("{{End of participants table}}\nClosing prose."), after
    no_server_errors(sender)


CONSUMER_CALLBACK = f"{PUBLIC_URL}/oauth/callback"
#: Odd names the wiki itself lets people have (it keeps ``Eve & co`` for the last but one).
WIKI_USERNAMES = ["Eve=Equals", "Eve ''Quoted''", "Eve __NOTOC__", "Eve &amp; co", "Eve !important"]


def sign_in(app: Flask, sender: Hostile, host: str, username: str) -> TestResponse:
    """The popup flow as ``username``: /oauth/start, the wiki's Allow, /oauth/callback."""
    popup = app.test_client()
    start = popup.get(f"/oauth/start?wiki={host}")
    sender.saw(start.status_code, "GET /oauth/start")
    assert start.status_code == 302
    with requests.Session() as browser:
        back = authorize_with_requests(browser, start.headers["Location"], username)
    parts = urlsplit(back)
    page = popup.get(f"{parts.path}?{parts.query}")
    sender.saw(page.status_code, "GET /oauth/callback")
    return page


def test_crafted_usernames_from_oauth_identities(
    wikis: Farm,
    tmp_path: Path,
    clock: Clock,
    hostile: SenderFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    consumer = Consumer.generate(CONSUMER_CALLBACK, name="programs-bot Join API")
    host = wikis.content.host
    wikis.content.admin_client().edit(PROGRAM, farm_program(wikis))
    wikis.content.create_users(WIKI_USERNAMES)
    # The names as the wiki keeps them, which its identities carry.
    canonical = [
        str(row[0])
        for row in wikis.content.sql(
            "select user_name from user where user_name like 'Eve %' or user_name like 'Eve=%'"
        )
    ]
    assert len(canonical) == len(WIKI_USERNAMES), canonical
    with OAuthProvider(wikis.content, [consumer]) as provider:
        entry = wiki_entry(
            wikis.content,
            provider.index_url,
            consumer_key=consumer.key,
            consumer_secret=consumer.secret,
        )
        app = create_app(api_config(tmp_path, [entry], public_url=PUBLIC_URL), clock=clock)
        sender = hostile(app, "crafted username")
        store = store_of(app)
        for username in canonical:
            page = sign_in(app, sender, host, username)
            assert page.status_code == 200, page.get_data(as_text=True)
            minted = page.get_data(as_text=True).split('"token": "', 1)[1].split('"', 1)[0]
            record = store.find_token(hash_token(minted), clock.now)
            assert record is not None and record.username == username
            me = sender.open("/api/v1/me", headers=bearer(minted))
            assert me.status_code == 200 and me.get_json()["username"] == username
            joined = sender.open(
                program_path(host, PROGRAM, "/join"), "POST", headers=bearer(minted)
            )
            assert joined.status_code == 202, (username, joined.get_json())
            latest = store.latest_join(host, "Content Wiki:Test program", username)
            assert latest is not None and latest.username == username

        # An identity no wiki would send (a provider gone wrong): no token is minted.
        real_identify = handshake.identify
        for crafted in ("Eve~~~~", "Eve|joined=1999", "Eve&amp;x", "Eve<b>", "Eve/x", ""):

            def identify(*args: Any, crafted: str = crafted) -> Any:
                return {**real_identify(*args), "username": crafted}

            monkeypatch.setattr(handshake, "identify", identify)
            page = sign_in(app, sender, host, "Carol")
            assert page.status_code == 403, (crafted, page.get_data(as_text=True))
            assert '"programs-bot-error"' in page.get_data(as_text=True)
            assert '"token"' not in page.get_data(as_text=True)
        monkeypatch.undo()
    no_server_errors(sender)
    with store.engine.connect() as conn:
        minted_for = {row[0] for row in conn.execute(text("SELECT username FROM api_tokens"))}
    assert minted_for == set(canonical)
    worker_for(wikis, store, refreshes=False).run_once()
    page_text = wikis.content.admin_client().get_text(PROGRAM) or ""
    names = [row.username for row in parse_program_page(page_text).rows]
    assert sorted(names) == sorted(["Alice", *canonical]), names
