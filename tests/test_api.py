"""The Join API: configuration, auth, CORS, bad input, the join rules, reports.

Tests marked ``wiki`` run against the real local MediaWiki wikis and a real SQLite store.
The others configure a wiki that never answers and seed the store's snapshot, which is how
the API behaves while a wiki is down.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api_support import (
    NOW,
    OFFLINE_HOST,
    OFFLINE_ORIGIN,
    PROGRAM,
    Clock,
    add_token,
    api_config,
    bearer,
    farm_config,
    offline_entry,
    program_text,
)
from bot.store import APPLIED, FAILED, JOIN, LEAVE, RECORDED, JoinRequest, ProgramSnapshot, Store
from gadget_api import create_app
from gadget_api.config import ApiConfig, config_from_mapping, load_config
from gadget_api.context import EXTENSION
from gadget_api.errors import ApiConfigError
from gadget_api.oauth import script_json
from gadget_api.page_report import figure, safe_cell, to_csv
from gadget_api.programs import Program
from gadget_api.rules import caller_status, removed_by_organizer
from harness import Farm

OFFLINE_TITLE = "Project:Offline program"
JOIN_URL = f"/api/v1/programs/{OFFLINE_HOST}/{OFFLINE_TITLE}/join"


def store_of(app: Flask) -> Store:
    store: Store = app.extensions[EXTENSION].store
    return store


def joins_recorded(store: Store) -> int:
    return store.count_join_requests(NOW - timedelta(days=365))


def error_code(response: Any) -> str:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    return str(body["error"]["code"])


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def offline_app(tmp_path: Path, clock: Clock) -> Flask:
    """An app whose only wiki never answers; the program is known from a snapshot."""
    app = create_app(
        api_config(
            tmp_path,
            [offline_entry()],
            rate_limits={
                "refresh_per_user_per_hour": 2,
                "refresh_per_program_per_hour": 3,
                "joins_per_user_per_minute": 3,
            },
        ),
        clock=clock,
    )
    store_of(app).save_program(
        ProgramSnapshot(
            wiki=OFFLINE_HOST,
            title=OFFLINE_TITLE,
            name="Offline edit-a-thon",
            registration="open",
            start=NOW - timedelta(days=5),
            end=NOW + timedelta(days=5),
            participants=("Alice",),
            fetched_at=NOW - timedelta(hours=1),
        )
    )
    return app


@pytest.fixture
def offline(offline_app: Flask) -> FlaskClient:
    return offline_app.test_client()


@pytest.fixture
def token(offline_app: Flask) -> str:
    return add_token(store_of(offline_app), "Bob", OFFLINE_HOST)


@pytest.fixture
def wiki_app(wikis: Farm, tmp_path: Path, clock: Clock) -> Flask:
    return create_app(farm_config(tmp_path, wikis), clock=clock)


@pytest.fixture
def client(wiki_app: Flask) -> FlaskClient:
    return wiki_app.test_client()


def put_program(wikis: Farm, text: str, title: str = PROGRAM) -> None:
    wikis.content.admin_client().edit(title, text)


def program_url(wikis: Farm, suffix: str = "", title: str = PROGRAM) -> str:
    return f"/api/v1/programs/{wikis.content.host}/{title}{suffix}"


# -- configuration -----------------------------------------------------------------------------


def _good() -> dict[str, Any]:
    return api_config(Path("/tmp"), [offline_entry()])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(colour="blue"), "unknown key 'colour'"),
        (lambda c: c["wikis"][0].update(port=1), "unknown key 'port' in [[wikis]] #1"),
        (lambda c: c.pop("secret_key"), "missing key 'secret_key'"),
        (lambda c: c["wikis"][0].pop("consumer_secret"), "missing key 'consumer_secret'"),
        (lambda c: c.update(wikis=[]), "at least one [[wikis]]"),
        (lambda c: c["wikis"][0].update(api_url="ftp://x/api.php"), "'api_url' must be an http"),
        (lambda c: c["wikis"][0].update(origin="https://w.test/wiki"), "must be an origin"),
        (lambda c: c["wikis"][0].update(host="https://w.test/"), "'host' must be a host"),
        (lambda c: c.update(wikis=[offline_entry(), offline_entry()]), "same host"),
        (lambda c: c.update(rate_limits={"joins_per_user_per_minute": 0}), "positive integer"),
        (lambda c: c.update(token_ttl_seconds="12h"), "'token_ttl_seconds' must be a positive"),
        (lambda c: c.update(secret_key="short"), "at least 16 characters"),
        (lambda c: c.update(store_url="programs.sqlite"), "SQLAlchemy URL"),
    ],
)
def test_a_bad_configuration_is_refused_with_the_key_named(change: Any, message: str) -> None:
    config = _good()
    change(config)
    with pytest.raises(ApiConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config_from_mapping(config)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("secret_key", "a long random string, at least 16 characters", "example ('random string')"),
        ("secret_key", "...", "holds '...'"),
        ("secret_key", "<a long random string>", "holds '<a long random string>'"),
        ("secret_key", "${PROGRAMS_API_SECRET_KEY}", "holds '${PROGRAMS_API_SECRET_KEY}'"),
        ("secret_key", "please change me before use!", "example ('change me')"),
        ("consumer_key", "...", "holds '...'"),
        ("consumer_key", "…", "holds '…'"),
        ("consumer_key", "the consumer key", "example ('consumer key')"),
        ("consumer_secret", "<the consumer secret>", "holds '<the consumer secret>'"),
        ("consumer_secret", "a1b2 c3d4", "holds spaces"),
        ("store_url", "mysql+pymysql://...", "holds '...'"),
        ("oauth_url", "https://<wiki>/w/index.php", "holds '<wiki>'"),
    ],
)
def test_placeholders_are_refused_with_the_key_named(key: str, value: str, message: str) -> None:
    config = _good()
    (config["wikis"][0] if key.startswith(("consumer", "oauth")) else config)[key] = value
    with pytest.raises(ApiConfigError) as refused:
        config_from_mapping(config)
    assert f"{key!r} is a placeholder" in str(refused.value)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("secret_key", "Zq3_x-9PfA2kLm0nB7vC4dE1fG6hJ8iK"),  # secrets.token_urlsafe
        ("secret_key", "correct horse battery staple, twice"),
        ("secret_key", "p$ssw0rd$with-dollars-inside"),
        ("consumer_key", "0123456789abcdef0123456789abcdef"),  # what the wiki gives
        ("consumer_secret", "fedcba9876543210fedcba9876543210fedcba98"),
        ("user_agent", "programs-bot-api/0.1 (Jane Doe <jane@example.org>)"),
        ("store_url", "mysql+pymysql://u:p@tools.db.svc.wikimedia.cloud/u__programs"),
    ],
)
def test_real_looking_values_are_accepted(key: str, value: str) -> None:
    config = _good()
    (config["wikis"][0] if key.startswith("consumer") else config)[key] = value
    settings = config_from_mapping(config)
    where = settings.wikis[0] if key.startswith("consumer") else settings
    assert getattr(where, key) == value


def test_configuration_from_a_file_with_environment_overrides(tmp_path: Path) -> None:
    path = tmp_path / "api.toml"
    path.write_text(
        'secret_key = "from-the-file-0123456789"\n'
        'store_url = "sqlite:///from-file.sqlite"\n'
        'public_url = "https://programs.example.org/"\n'
        "token_ttl_seconds = 3600\n"
        "[rate_limits]\nrefresh_per_user_per_hour = 4\n"
        "[[wikis]]\n"
        'host = "EN.wikipedia.org"\n'
        'api_url = "https://en.wikipedia.org/w/api.php"\n'
        'origin = "https://en.wikipedia.org"\n'
        'oauth_url = "https://en.wikipedia.org/w/index.php"\n'
        'consumer_key = "key"\nconsumer_secret = "consumer-s3cr3t"\n'
    )
    env = {"PROGRAMS_API_CONFIG": str(path), "PROGRAMS_API_SECRET_KEY": "from-env-0123456789ab"}
    config = load_config({**env, "PROGRAMS_BOT_DB": "sqlite:///from-env.sqlite"})
    assert config.secret_key == "from-env-0123456789ab"
    assert config.store_url == "sqlite:///from-env.sqlite"
    assert config.public_url == "https://programs.example.org"
    assert config.token_ttl == timedelta(hours=1)
    assert config.rate_limits.refresh_per_user_per_hour == 4
    assert config.rate_limits.refresh_per_program_per_hour == 30
    assert config.wiki("en.wikipedia.org") is config.wikis[0]
    assert "consumer-s3cr3t" not in repr(config) and "from-env-0123" not in repr(config)

    with pytest.raises(ApiConfigError, match="set PROGRAMS_API_CONFIG"):
        load_config({})
    path.write_text("secret_key = ")
    with pytest.raises(ApiConfigError, match="not valid TOML"):
        load_config(env)


def test_the_wsgi_module_builds_the_app_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "api.toml"
    path.write_text(
        'public_url = "http://api.test"\n[[wikis]]\n'
        + "".join(f'{k} = "{v}"\n' for k, v in offline_entry().items())
    )
    monkeypatch.setenv("PROGRAMS_API_CONFIG", str(path))
    monkeypatch.setenv("PROGRAMS_API_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("PROGRAMS_BOT_DB", f"sqlite:///{tmp_path / 'wsgi.sqlite'}")
    sys.modules.pop("gadget_api.wsgi", None)
    wsgi = importlib.import_module("gadget_api.wsgi")
    assert isinstance(wsgi.app, Flask)
    assert wsgi.app.test_client().get("/healthz").get_json() == {"status": "ok"}
    sys.modules.pop("gadget_api.wsgi", None)


def test_the_wsgi_module_stops_with_one_line_on_a_placeholder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "api.toml"
    entry = {**offline_entry(), "consumer_secret": "..."}
    path.write_text(
        'public_url = "http://api.test"\n[[wikis]]\n'
        + "".join(f'{k} = "{v}"\n' for k, v in entry.items())
    )
    monkeypatch.setenv("PROGRAMS_API_CONFIG", str(path))
    monkeypatch.setenv("PROGRAMS_API_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("PROGRAMS_BOT_DB", f"sqlite:///{tmp_path / 'wsgi.sqlite'}")
    sys.modules.pop("gadget_api.wsgi", None)
    with pytest.raises(SystemExit) as stopped:
        importlib.import_module("gadget_api.wsgi")
    sys.modules.pop("gadget_api.wsgi", None)
    assert stopped.value.code == 4  # gunicorn's "App failed to load": it stops, no restarts
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and "Traceback" not in said
    assert f"{path}: [[wikis]] #1: 'consumer_secret' is a placeholder" in said
    assert not (tmp_path / "wsgi.sqlite").exists()  # refused before the store was opened


def test_create_app_takes_a_config_object(tmp_path: Path) -> None:
    config = config_from_mapping(api_config(tmp_path, [offline_entry()]))
    assert isinstance(config, ApiConfig)
    app = create_app(config)
    assert app.test_client().get("/healthz").status_code == 200


# -- tokens ------------------------------------------------------------------------------------


def test_me_answers_for_a_bearer_token(offline: FlaskClient, token: str) -> None:
    response = offline.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "Bob" and body["wiki"] == OFFLINE_HOST
    assert body["expires"] == "2026-11-16T00:00:00Z"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing-token"),
        ({"Authorization": "Basic QWxhZGRpbjpvcGVu"}, "invalid-token"),
        ({"Authorization": "Bearer"}, "invalid-token"),
        ({"Authorization": "Bearer " + "A" * 43}, "invalid-token"),
        ({"Authorization": "Bearer not a token at all; DROP TABLE"}, "invalid-token"),
    ],
)
def test_missing_or_unknown_tokens_get_401(
    offline: FlaskClient, headers: dict[str, str], code: str
) -> None:
    for method, url in (("GET", "/api/v1/me"), ("POST", JOIN_URL)):
        response = offline.open(url, method=method, headers=headers)
        assert response.status_code == 401
        assert error_code(response) == code
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_expires(offline: FlaskClient, token: str, clock: Clock) -> None:
    assert offline.get("/api/v1/me", headers=bearer(token)).status_code == 200
    clock.advance(timedelta(hours=12))
    response = offline.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401 and error_code(response) == "invalid-token"


# -- CORS --------------------------------------------------------------------------------------


def test_cors_answers_the_configured_origin_only(offline: FlaskClient, token: str) -> None:
    allowed = offline.get("/api/v1/me", headers=bearer(token, Origin=OFFLINE_ORIGIN))
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == OFFLINE_ORIGIN
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers

    for origin in (
        "https://evil.example",
        "null",
        OFFLINE_ORIGIN + ":443",
        "http://offline.wiki.test",
    ):
        refused = offline.post(JOIN_URL, headers=bearer(token, Origin=origin))
        assert refused.status_code == 403 and error_code(refused) == "origin-not-allowed"
        assert "Access-Control-Allow-Origin" not in refused.headers

    server_side = offline.get("/api/v1/me", headers=bearer(token))
    assert server_side.status_code == 200
    assert "Access-Control-Allow-Origin" not in server_side.headers


def test_preflight(offline: FlaskClient) -> None:
    asks = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    response = offline.options(JOIN_URL, headers={"Origin": OFFLINE_ORIGIN, **asks})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == OFFLINE_ORIGIN
    assert set(response.headers["Access-Control-Allow-Methods"].split(", ")) >= {"GET", "POST"}
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "Access-Control-Allow-Credentials" not in response.headers

    refused = offline.options(JOIN_URL, headers={"Origin": "https://evil.example", **asks})
    assert refused.status_code == 403 and error_code(refused) == "origin-not-allowed"


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "bad-json"),
        (b"\xff\xfe\x00", 400, "bad-json"),
        (b"[" * 5000, 400, "bad-json"),
        (b"[]", 400, "not-an-object"),
        (b'"join"', 400, "not-an-object"),
        (b"null", 400, "not-an-object"),
        (b'{"privat": true}', 400, "unknown-field"),
        (b'{"a": 1, "b": 2}', 400, "unknown-field"),
        (b'{"x": "' + b"y" * 17000 + b'"}', 413, "body-too-large"),
    ],
)
def test_bad_bodies_are_refused_and_nothing_is_recorded(
    offline: FlaskClient, offline_app: Flask, token: str, body: bytes, status: int, code: str
) -> None:
    for action in ("join", "leave", "refresh"):
        response = offline.post(
            JOIN_URL.replace("/join", f"/{action}"),
            data=body,
            headers=bearer(token, **{"Content-Type": "application/json"}),
        )
        assert response.status_code == status, response.get_json()
        assert error_code(response) == code
    assert joins_recorded(store_of(offline_app)) == 0


@pytest.mark.parametrize("body", [None, b"", b"  ", b"{}"])
def test_join_takes_no_body_or_an_empty_object(
    offline: FlaskClient, token: str, body: bytes | None
) -> None:
    response = offline.post(JOIN_URL, data=body, headers=bearer(token))
    assert response.status_code == 202, response.get_json()


def test_unknown_routes_and_methods_answer_json(offline: FlaskClient, token: str) -> None:
    missing = offline.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and error_code(missing) == "not-found"
    wrong = offline.delete(JOIN_URL, headers=bearer(token))
    assert wrong.status_code == 405 and error_code(wrong) == "method-not-allowed"
    assert "POST" in wrong.headers["Allow"]
    put = offline.put("/api/v1/me")
    assert put.status_code == 405 and put.is_json


@pytest.mark.parametrize(
    "title", ["Project:A#b", "A[b]", "X" * 513, "A\x00b", "A\tb", "   ", "A{{b}}", "A|b"]
)
def test_unusable_titles_get_bad_title(offline: FlaskClient, token: str, title: str) -> None:
    url = f"/api/v1/programs/{OFFLINE_HOST}/{quote(title, safe='/:')}/join"
    response = offline.post(url, headers=bearer(token))
    assert response.status_code == 400
    assert error_code(response) == "bad-title"


def test_a_title_as_long_as_mediawiki_allows_with_a_long_namespace_is_usable() -> None:
    from gadget_api.programs import check_title

    title = "Обсуждение Википедии:" + "Ä" * 255  # 276 characters
    assert check_title(title) == title


def test_unexpected_errors_are_logged_json_500s(
    offline_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> str:
        raise RuntimeError("a bug")

    offline_app.add_url_rule("/boom", "boom", boom)
    with caplog.at_level(logging.ERROR):
        response = offline_app.test_client().get("/boom")
    assert response.status_code == 500 and error_code(response) == "internal-error"
    assert "a bug" not in response.get_data(as_text=True)
    assert any("unexpected error" in r.getMessage() for r in caplog.records)


# -- rules without a wiki ------------------------------------------------------------------------


def test_unknown_wiki_and_token_from_another_wiki(offline: FlaskClient, offline_app: Flask) -> None:
    other = add_token(store_of(offline_app), "Bob", "en.wikipedia.org")
    token = add_token(store_of(offline_app), "Bob", OFFLINE_HOST)
    unknown = offline.post(
        f"/api/v1/programs/en.wikipedia.org/{OFFLINE_TITLE}/join", headers=bearer(token)
    )
    assert unknown.status_code == 404 and error_code(unknown) == "unknown-wiki"
    wrong = offline.post(JOIN_URL, headers=bearer(other))
    assert wrong.status_code == 403 and error_code(wrong) == "wrong-wiki"
    assert joins_recorded(store_of(offline_app)) == 0


def test_joins_are_accepted_from_the_snapshot_while_the_wiki_is_down(
    offline: FlaskClient, offline_app: Flask, token: str
) -> None:
    summary = offline.get(f"/api/v1/programs/{OFFLINE_HOST}/{OFFLINE_TITLE}", headers=bearer(token))
    assert summary.status_code == 200
    assert summary.get_json()["from_snapshot"] is True
    assert summary.get_json()["goals"] is None  # a snapshot keeps no goals
    assert summary.get_json()["joined"] is False
    joined = offline.post(JOIN_URL, headers=bearer(token))
    assert joined.status_code == 202
    assert joined.get_json()["state"] == RECORDED
    # An underscore form of the title (as wgPageName gives it) finds the same snapshot.
    again = offline.post(
        JOIN_URL.replace("Offline program", "Offline_program"), headers=bearer(token)
    )
    assert again.status_code == 200 and again.get_json()["already"] is True
    request = store_of(offline_app).latest_join(OFFLINE_HOST, OFFLINE_TITLE, "Bob")
    assert request is not None and request.id == joined.get_json()["request"]

    unknown = offline.post(JOIN_URL.replace("Offline", "Unknown"), headers=bearer(token))
    assert unknown.status_code == 503 and error_code(unknown) == "wiki-unavailable"
    report = offline.get(f"/api/v1/programs/{OFFLINE_HOST}/{OFFLINE_TITLE}/report")
    assert report.status_code == 503 and error_code(report) == "wiki-unavailable"


def test_refresh_is_rate_limited_per_user_and_per_program(
    offline: FlaskClient, offline_app: Flask, clock: Clock
) -> None:
    url = JOIN_URL.replace("/join", "/refresh")
    store = store_of(offline_app)
    bob = add_token(store, "Bob", OFFLINE_HOST)
    carol = add_token(store, "Carol", OFFLINE_HOST)
    assert [offline.post(url, headers=bearer(bob)).status_code for _ in range(2)] == [202, 202]
    limited = offline.post(url, headers=bearer(bob))
    assert limited.status_code == 429 and error_code(limited) == "rate-limited"
    assert int(limited.headers["Retry-After"]) > 0
    assert offline.post(url, headers=bearer(carol)).status_code == 202  # program: 3 per hour
    per_program = offline.post(url, headers=bearer(carol))
    assert (
        per_program.status_code == 429
        and "this program" in per_program.get_json()["error"]["message"]
    )
    clock.advance(timedelta(minutes=61))
    fresh = add_token(store, "Bob", OFFLINE_HOST, now=clock.now)
    assert offline.post(url, headers=bearer(fresh)).status_code == 202
    assert store.count_refresh_requests(NOW - timedelta(days=1)) == 4


def test_joins_and_leaves_are_rate_limited(offline: FlaskClient, token: str, clock: Clock) -> None:
    leave = JOIN_URL.replace("/join", "/leave")
    codes = [
        offline.post(url, headers=bearer(token)).status_code for url in (JOIN_URL, leave, JOIN_URL)
    ]
    assert codes == [202, 202, 202]
    limited = offline.post(leave, headers=bearer(token))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
    clock.advance(timedelta(minutes=2))
    assert offline.post(leave, headers=bearer(token)).status_code == 202


# -- pure parts ----------------------------------------------------------------------------------


def _program(participants: tuple[str, ...] = (), revid: int | None = 10) -> Program:
    return Program(
        wiki="w",
        title="T",
        name="T",
        registration="open",
        start=None,
        end=None,
        participants=participants,
        fetched_at=NOW,
        revid=revid,
    )


def _request(action: str, state: str, revid: int | None = None) -> JoinRequest:
    return JoinRequest(1, "w", "T", "Bob", action, state, None, 0, revid, NOW, NOW)


@pytest.mark.parametrize(
    ("listed", "latest", "revid", "joined", "state"),
    [
        (False, None, 10, False, "none"),
        (True, None, 10, True, "on-page"),
        (False, _request(JOIN, RECORDED), 10, True, RECORDED),
        (True, _request(LEAVE, RECORDED), 10, False, RECORDED),
        (True, _request(JOIN, APPLIED, 9), 10, True, APPLIED),
        # The page was read after the flow's edit and no longer lists the user.
        (False, _request(JOIN, APPLIED, 9), 10, False, APPLIED),
        # The page was read before the edit (or from a snapshot): the request decides.
        (False, _request(JOIN, APPLIED, 11), 10, True, APPLIED),
        (False, _request(JOIN, APPLIED, 11), None, True, APPLIED),
        (False, _request(JOIN, FAILED), 10, False, FAILED),
    ],
)
def test_caller_status(
    listed: bool, latest: JoinRequest | None, revid: int | None, joined: bool, state: str
) -> None:
    program = _program(("Bob",) if listed else (), revid)
    status = caller_status(program, "Bob", latest)
    assert (status.joined, status.state) == (joined, state)
    assert removed_by_organizer(status) == (
        latest is not None and latest.state == APPLIED and not joined
    )


def test_csv_cells_cannot_be_formulas() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "Ann", None, -5, 7)] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "Ann",
        "",
        "-5",
        "7",
    ]
    text = to_csv([{"username": '=HYPERLINK("http://x")', "edits": 3}], ["username", "edits"])
    assert text == 'username,edits\r\n"\'=HYPERLINK(""http://x"")",3\r\n'
    assert [figure(v) for v in ("12", " 1,200 ", "", "12 (about)", "-3")] == [
        12,
        1200,
        None,
        None,
        -3,
    ]


def test_values_in_the_popup_script_cannot_break_out() -> None:
    hostile = "</script><script>alert(1)</script><!-- & \u2028 '\""
    text = script_json({"username": hostile})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"username": hostile}


# -- against the real wikis ----------------------------------------------------------------------


@pytest.mark.wiki
def test_summary_join_and_state_on_a_real_wiki(
    wikis: Farm, wiki_app: Flask, client: FlaskClient
) -> None:
    put_program(wikis, program_text(rows=("Alice",)))
    store = store_of(wiki_app)
    host = wikis.content.host

    public = client.get(program_url(wikis))
    assert public.status_code == 200
    body = public.get_json()
    title = body["title"]
    assert title.endswith(":Test program") and not title.startswith("Project:")
    assert body == {
        "wiki": host,
        "title": title,
        "name": "Test edit-a-thon",
        "registration": "open",
        "start": "2026-11-01T00:00:00Z",
        "end": "2026-11-30T23:59:59Z",
        "ended": False,
        "participant_count": 1,
        "from_snapshot": False,
        "goals": [],
    }
    snapshot = store.program(host, title)
    assert snapshot is not None and snapshot.participants == ("Alice",)

    bob = add_token(store, "Bob", host)
    assert client.get(program_url(wikis), headers=bearer(bob)).get_json()["join_state"] == "none"
    first = client.post(program_url(wikis, "/join"), headers=bearer(bob))
    assert first.status_code == 202
    assert first.get_json() == {
        "state": "recorded",
        "already": False,
        "request": first.get_json()["request"],
    }
    second = client.post(program_url(wikis, "/join"), json={}, headers=bearer(bob))
    assert second.status_code == 200
    assert second.get_json() == {
        "state": "recorded",
        "already": True,
        "request": first.get_json()["request"],
    }
    recorded = store.latest_join(host, title, "Bob")
    assert recorded is not None and recorded.action == JOIN and recorded.state == RECORDED
    assert store.count_join_requests(NOW - timedelta(days=1)) == 1

    summary = client.get(program_url(wikis), headers=bearer(bob)).get_json()
    assert (summary["joined"], summary["join_state"]) == (True, "recorded")

    # A worker tried and failed once: still waiting, with the reason.
    store.note_attempt([recorded.id], "the wiki did not answer", NOW)
    state = client.get(program_url(wikis, "/join"), headers=bearer(bob)).get_json()
    assert state["state"] == "recorded" and state["reason"] == "the wiki did not answer"
    assert state["joined"] is True and state["action"] == "join"

    # The worker wrote the row: applied, with the revision.
    revid = wikis.content.admin_client().edit(PROGRAM, program_text(rows=("Alice", "Bob")))
    store.finish_joins([recorded.id], APPLIED, NOW, revid=revid)
    state = client.get(program_url(wikis, "/join"), headers=bearer(bob)).get_json()
    assert (state["state"], state["revid"], state["joined"]) == ("applied", revid, True)
    again = client.post(program_url(wikis, "/join"), headers=bearer(bob))
    assert again.status_code == 200 and again.get_json()["already"] is True

    # Alice was listed by hand: joining is harmless, leaving is the organizers' business.
    alice = add_token(store, "Alice", host)
    listed = client.post(program_url(wikis, "/join"), headers=bearer(alice))
    assert listed.status_code == 200
    assert listed.get_json() == {"state": "on-page", "already": True, "request": None}
    refused = client.post(program_url(wikis, "/leave"), headers=bearer(alice))
    assert refused.status_code == 409 and error_code(refused) == "not-joined"
    assert "by hand" in refused.get_json()["error"]["message"]

    left = client.post(program_url(wikis, "/leave"), headers=bearer(bob))
    assert left.status_code == 202
    state = client.get(program_url(wikis, "/join"), headers=bearer(bob)).get_json()
    assert (state["state"], state["action"], state["joined"]) == ("recorded", "leave", False)
    assert client.post(program_url(wikis, "/leave"), headers=bearer(bob)).get_json()["already"]

    carol = add_token(store, "Carol", host)
    never = client.post(program_url(wikis, "/leave"), headers=bearer(carol))
    assert never.status_code == 409 and error_code(never) == "not-joined"
    assert store.latest_join(host, title, "Carol") is None


@pytest.mark.wiki
def test_a_waiting_join_is_superseded_by_a_leave(
    wikis: Farm, wiki_app: Flask, client: FlaskClient
) -> None:
    put_program(wikis, program_text())
    store = store_of(wiki_app)
    dave = add_token(store, "Dave", wikis.content.host)
    joined = client.post(program_url(wikis, "/join"), headers=bearer(dave)).get_json()
    client.post(program_url(wikis, "/leave"), headers=bearer(dave))
    waiting = store.pending_joins(
        wikis.content.host, client.get(program_url(wikis)).get_json()["title"]
    )
    assert [(r.username, r.action) for r in waiting] == [("Dave", LEAVE)]
    assert store.join_request(joined["request"]).state == "superseded"  # type: ignore[union-attr]


@pytest.mark.wiki
def test_failed_and_removed_joins(wikis: Farm, wiki_app: Flask, client: FlaskClient) -> None:
    put_program(wikis, program_text())
    store = store_of(wiki_app)
    host = wikis.content.host
    eve = add_token(store, "Eve", host)
    first = client.post(program_url(wikis, "/join"), headers=bearer(eve)).get_json()
    store.finish_joins([first["request"]], FAILED, NOW, reason="{{nobots}} on the page")
    state = client.get(program_url(wikis, "/join"), headers=bearer(eve)).get_json()
    assert (state["state"], state["reason"], state["joined"]) == (
        "failed",
        "{{nobots}} on the page",
        False,
    )

    # Joining again after a failure is a new request.
    second = client.post(program_url(wikis, "/join"), headers=bearer(eve))
    assert second.status_code == 202 and second.get_json()["request"] != first["request"]
    revid = wikis.content.admin_client().edit(PROGRAM, program_text(rows=("Alice", "Eve")))
    store.finish_joins([second.get_json()["request"]], APPLIED, NOW, revid=revid)
    # An organizer removes Eve's row afterwards: a new join is refused with the reason.
    put_program(wikis, program_text(rows=("Alice",)))
    removed = client.post(program_url(wikis, "/join"), headers=bearer(eve))
    assert removed.status_code == 409 and error_code(removed) == "removed-by-organizer"


@pytest.mark.wiki
@pytest.mark.parametrize(
    ("text", "title", "status", "code"),
    [
        ("Just an ordinary page, no program here.", PROGRAM, 404, "not-a-program"),
        ("{{Participants table}}\n{{End of participants table}}", PROGRAM, 404, "not-a-program"),
        ("#REDIRECT [[Project:Elsewhere]]", PROGRAM, 404, "not-a-program"),
        (
            "Nested: {{Box|{{Program details|name=X|start=2026-11-01|end=2026-11-30}}}}",
            PROGRAM,
            404,
            "not-a-program",
        ),
        (None, "Project:No such page", 404, "not-a-program"),
        (None, "Talk:", 400, "bad-title"),
    ],
)
def test_only_program_pages_take_joins(
    wikis: Farm,
    wiki_app: Flask,
    client: FlaskClient,
    text: str | None,
    title: str,
    status: int,
    code: str,
) -> None:
    if text is not None:
        put_program(wikis, text, title)
    token = add_token(store_of(wiki_app), "Bob", wikis.content.host)
    for method, suffix in (
        ("POST", "/join"),
        ("GET", ""),
        ("GET", "/report"),
        ("POST", "/refresh"),
    ):
        response = client.open(
            program_url(wikis, suffix, title), method=method, headers=bearer(token)
        )
        assert response.status_code == status, (suffix, response.get_json())
        assert error_code(response) == code
    assert joins_recorded(store_of(wiki_app)) == 0
    assert store_of(wiki_app).count_refresh_requests(NOW - timedelta(days=1)) == 0


@pytest.mark.wiki
@pytest.mark.parametrize(
    ("text", "code"),
    [
        (program_text(registration="closed"), "registration-closed"),
        (program_text(end="2026-11-10"), "program-ended"),
        (program_text(start="2026-10-01", end="2026-11-15T11:59"), "program-ended"),
    ],
)
def test_closed_or_ended_programs_refuse_joins(
    wikis: Farm, wiki_app: Flask, client: FlaskClient, text: str, code: str
) -> None:
    put_program(wikis, text)
    token = add_token(store_of(wiki_app), "Bob", wikis.content.host)
    response = client.post(program_url(wikis, "/join"), headers=bearer(token))
    assert response.status_code == 409 and error_code(response) == code
    assert joins_recorded(store_of(wiki_app)) == 0
    summary = client.get(program_url(wikis)).get_json()
    assert summary["ended"] is (code == "program-ended")
    # A listed participant may still ask and is told they are in.
    alice = add_token(store_of(wiki_app), "Alice", wikis.content.host)
    assert client.post(program_url(wikis, "/join"), headers=bearer(alice)).status_code == 200


@pytest.mark.wiki
def test_blocked_users_cannot_join(wikis: Farm, wiki_app: Flask, client: FlaskClient) -> None:
    put_program(wikis, program_text())
    store = store_of(wiki_app)
    host = wikis.content.host
    flagged = add_token(store, "Carol", host, blocked=True)  # the signed identity said so
    response = client.post(program_url(wikis, "/join"), headers=bearer(flagged))
    assert response.status_code == 403 and error_code(response) == "user-blocked"

    # Blocked on the wiki after signing in: the wiki's answer counts too.
    dave = add_token(store, "Dave", host)
    wikis.content.admin_client().post(
        {"action": "block", "user": "Dave", "expiry": "infinite", "reason": "test"}
    )
    response = client.post(program_url(wikis, "/join"), headers=bearer(dave))
    assert response.status_code == 403 and error_code(response) == "user-blocked"
    assert joins_recorded(store) == 0


@pytest.mark.wiki
def test_a_token_of_another_wiki_is_refused(
    wikis: Farm, wiki_app: Flask, client: FlaskClient
) -> None:
    put_program(wikis, program_text())
    media_token = add_token(store_of(wiki_app), "Bob", wikis.media.host)
    for method, suffix in (("POST", "/join"), ("GET", "/join"), ("GET", ""), ("POST", "/leave")):
        response = client.open(
            program_url(wikis, suffix), method=method, headers=bearer(media_token)
        )
        assert response.status_code == 403 and error_code(response) == "wrong-wiki"
    assert joins_recorded(store_of(wiki_app)) == 0


@pytest.mark.wiki
def test_joins_are_accepted_while_the_wiki_is_down(
    wikis: Farm, wiki_app: Flask, client: FlaskClient
) -> None:
    put_program(wikis, program_text())
    store = store_of(wiki_app)
    token = add_token(store, "Bob", wikis.content.host)
    title = client.get(program_url(wikis)).get_json()["title"]  # one successful read
    wikis.content.stop()
    try:
        response = client.post(program_url(wikis, "/join", title), headers=bearer(token))
        assert response.status_code == 202, response.get_json()
        summary = client.get(program_url(wikis, "", title), headers=bearer(token)).get_json()
        assert summary["from_snapshot"] is True and summary["joined"] is True
        report = client.get(program_url(wikis, "/report", title))
        assert report.status_code == 503 and error_code(report) == "wiki-unavailable"
        assert report.headers["Retry-After"]
    finally:
        wikis.content.start()
    request = store.latest_join(wikis.content.host, title, "Bob")
    assert request is not None and request.state == RECORDED
    assert store.pending_pages() == [(wikis.content.host, title)]


@pytest.mark.wiki
def test_refresh_asks_for_an_update(wikis: Farm, wiki_app: Flask, client: FlaskClient) -> None:
    put_program(wikis, program_text())
    store = store_of(wiki_app)
    token = add_token(store, "Bob", wikis.content.host)
    response = client.post(program_url(wikis, "/refresh"), headers=bearer(token))
    assert response.status_code == 202 and response.get_json()["state"] == "queued"
    [asked] = store.pending_refresh_requests()
    assert (asked.wiki, asked.username, asked.id) == (
        wikis.content.host,
        "Bob",
        response.get_json()["request"],
    )
    assert asked.title.endswith(":Test program")


REPORT_ROWS = (
    "{{Participant table row|username=Alice|joined=2026-11-01|edits=12|articles_edited=3"
    "|articles_created=1|bytes_added=4500|uploads=2}}\n"
    '{{Participant table row|username==HYPERLINK("http://evil.example","x")|joined=@SUM(1)}}\n'
    "{{Participant table row|username=Bob|joined=+2026-11-03|edits=lots}}\n"
)
REPORT_OUTCOMES = (
    "{{Program outcomes|computed=2026-11-25T06:00:00Z|participants=2|sentence=...}}\n"
    "{{Program outcomes row|wiki=en.wikipedia.org|edits=12|mainspace_edits=10|articles_edited=3"
    "|articles_created=1|bytes_added=4500|uploads=0|deleted=1}}\n"
    "{{Program outcomes row|wiki=total|edits=14|mainspace_edits=10|articles_edited=3"
    "|articles_created=1|bytes_added=4500|uploads=2|deleted=1}}\n"
    "{{End of program outcomes}}\n"
)


@pytest.mark.wiki
def test_report_as_json_and_csv(wikis: Farm, client: FlaskClient) -> None:
    put_program(wikis, program_text(rows=(), extra_rows=REPORT_ROWS, outcomes=REPORT_OUTCOMES))
    data = client.get(program_url(wikis, "/report")).get_json()
    assert data["computed"] == "2026-11-25T06:00:00Z"
    assert data["participants"][0] == {
        "username": "Alice",
        "joined": "2026-11-01",
        "edits": 12,
        "articles_edited": 3,
        "articles_created": 1,
        "bytes_added": 4500,
        "uploads": 2,
    }
    assert data["participants"][2]["edits"] is None  # "lots" is not a figure
    assert [row["wiki"] for row in data["outcomes"]] == ["en.wikipedia.org", "total"]
    assert data["outcomes"][1]["uploads"] == 2 and data["outcomes"][0]["deleted"] == 1

    response = client.get(program_url(wikis, "/report?format=csv"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert (
        disposition.startswith('attachment; filename="')
        and "Test_program-participants.csv" in disposition
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "username",
        "joined",
        "edits",
        "articles_edited",
        "articles_created",
        "bytes_added",
        "uploads",
    ]
    assert rows[1] == ["Alice", "2026-11-01", "12", "3", "1", "4500", "2"]
    assert rows[2][:2] == ['\'=HYPERLINK("http://evil.example","x")', "'@SUM(1)"]
    assert rows[3][:3] == ["Bob", "'+2026-11-03", ""]

    outcomes = client.get(program_url(wikis, "/report?format=csv&table=outcomes"))
    rows = list(csv.reader(io.StringIO(outcomes.get_data(as_text=True))))
    assert rows[0][0] == "wiki" and rows[2] == ["total", "14", "10", "3", "1", "4500", "2", "1"]

    bad = client.get(program_url(wikis, "/report?format=xml"))
    assert bad.status_code == 400 and error_code(bad) == "bad-parameter"
