"""The OAuth popup flow: the unmodified mwoauth against the local Special:OAuth provider.

The provider (harness.oauth_provider) speaks Extension:OAuth's protocol and takes its
identities from the real content wiki, so a token minted here names a real account.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import mwoauth
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from api_support import Clock, api_config, bearer, program_text, wiki_entry
from gadget_api import create_app
from gadget_api.auth import hash_token
from gadget_api.context import EXTENSION
from harness import Farm
from harness.oauth_provider import (
    Consumer,
    OAuthProvider,
    authorize_with_requests,
    fetch_authorize_form,
)

PUBLIC_URL = "http://api.test"
CALLBACK = f"{PUBLIC_URL}/oauth/callback"

pytestmark = pytest.mark.wiki


@pytest.fixture
def consumer() -> Consumer:
    return Consumer.generate(CALLBACK, name="programs-bot Join API")


@pytest.fixture
def provider(wikis: Farm, consumer: Consumer) -> Iterator[OAuthProvider]:
    with OAuthProvider(wikis.content, [consumer]) as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_app(
    wikis: Farm, tmp_path: Path, consumer: Consumer, oauth_url: str, clock: Clock
) -> Flask:
    entry = wiki_entry(
        wikis.content,
        oauth_url,
        consumer_key=consumer.key,
        consumer_secret=consumer.secret,
    )
    return create_app(api_config(tmp_path, [entry], public_url=PUBLIC_URL), clock=clock)


@pytest.fixture
def app(
    wikis: Farm, tmp_path: Path, consumer: Consumer, provider: OAuthProvider, clock: Clock
) -> Flask:
    return make_app(wikis, tmp_path, consumer, provider.index_url, clock)


@pytest.fixture
def popup(app: Flask) -> FlaskClient:
    """The popup window: its own cookie jar, on the API's origin."""
    return app.test_client()


def start(popup: FlaskClient, wikis: Farm) -> str:
    """Open the popup on /oauth/start; return the wiki's authorization URL."""
    response = popup.get(f"/oauth/start?wiki={wikis.content.host}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return f"{parts.path}?{parts.query}"


def posted_message(html: str, origin: str) -> dict[str, Any]:
    """What the page's script posts, after checking it posts to exactly ``origin``."""
    message = re.search(r"var message = (.*);\n", html)
    target = re.search(r"var origin = (.*);\n", html)
    assert message and target, html
    assert json.loads(target.group(1)) == origin
    assert "postMessage(message, origin)" in html and "'*'" not in html
    result: dict[str, Any] = json.loads(message.group(1))
    return result


def test_sign_in_hands_a_token_to_the_wiki_page(
    wikis: Farm, app: Flask, popup: FlaskClient
) -> None:
    authorize_url = start(popup, wikis)
    assert authorize_url.startswith(app.extensions[EXTENSION].config.wikis[0].oauth_url)
    assert "Special%3AOAuth%2Fauthenticate" in authorize_url
    cookie = popup.get_cookie("programs_api_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"

    with requests.Session() as browser:
        back = authorize_with_requests(browser, authorize_url, "Alice")
    page = popup.get(callback_path(back))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'nonce-" in csp
    assert "Cross-Origin-Opener-Policy" not in page.headers  # would cut the opener off
    message = posted_message(html, wikis.content.url)
    assert message["type"] == "programs-bot-token"
    assert message["username"] == "Alice" and message["wiki"] == wikis.content.host
    assert message["expires"] == "2026-11-16T00:00:00Z"
    assert "signed in as Alice" in html

    store = app.extensions[EXTENSION].store
    record = store.find_token(hash_token(message["token"]), app.extensions[EXTENSION].now())
    assert record is not None and record.username == "Alice" and not record.blocked
    assert record.user_id > 0 and record.registered is not None
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM api_tokens").scalars().all()
    assert stored == [hash_token(message["token"])]  # the token itself is never stored

    # The wiki page (another origin) calls the API with the token.
    me = app.test_client().get(
        "/api/v1/me", headers=bearer(message["token"], Origin=wikis.content.url)
    )
    assert me.status_code == 200 and me.get_json()["username"] == "Alice"
    assert me.headers["Access-Control-Allow-Origin"] == wikis.content.url

    # The handshake is single use: the same answer again finds no sign-in in progress.
    replay = popup.get(callback_path(back))
    assert replay.status_code == 400 and "No sign-in is in progress" in replay.get_data(
        as_text=True
    )


def test_a_blocked_user_signs_in_but_cannot_join(
    wikis: Farm, app: Flask, popup: FlaskClient
) -> None:
    wikis.content.admin_client().edit("Project:Test program", program_text())
    wikis.content.admin_client().post(
        {"action": "block", "user": "Carol", "expiry": "infinite", "reason": "test"}
    )
    with requests.Session() as browser:
        back = authorize_with_requests(browser, start(popup, wikis), "Carol")
    message = posted_message(
        popup.get(callback_path(back)).get_data(as_text=True), wikis.content.url
    )
    api = app.test_client()
    assert api.get("/api/v1/me", headers=bearer(message["token"])).get_json()["blocked"] is True
    joined = api.post(
        f"/api/v1/programs/{wikis.content.host}/Project:Test program/join",
        headers=bearer(message["token"]),
    )
    assert joined.status_code == 403
    assert joined.get_json()["error"]["code"] == "user-blocked"


def test_a_wrong_verifier_is_refused(wikis: Farm, popup: FlaskClient) -> None:
    with requests.Session() as browser:
        back = authorize_with_requests(browser, start(popup, wikis), "Alice")
    query = parse_qs(urlsplit(back).query)
    query["oauth_verifier"] = ["0" * 32]
    page = popup.get(f"/oauth/callback?{urlencode(query, doseq=True)}")
    assert page.status_code == 403
    message = posted_message(page.get_data(as_text=True), wikis.content.url)
    assert message["type"] == "programs-bot-error" and message["code"] == "oauth-refused"
    assert "token" not in message


def test_a_cancelled_sign_in(wikis: Farm, popup: FlaskClient) -> None:
    authorize_url = start(popup, wikis)
    with requests.Session() as browser:
        form = fetch_authorize_form(browser, authorize_url, "Alice")
        assert not isinstance(form, str)
        cancelled = browser.post(
            form.action, data=form.data("Alice", "cancel"), allow_redirects=False, timeout=30
        )
    assert not cancelled.is_redirect  # the wiki keeps the user; nothing comes back
    # Were the wiki to come back without a verifier, the popup says so and tells the opener.
    page = popup.get("/oauth/callback?denied=1")
    assert page.status_code == 403
    assert posted_message(page.get_data(as_text=True), wikis.content.url)["code"] == (
        "oauth-cancelled"
    )


def test_callbacks_without_a_matching_handshake(
    wikis: Farm, app: Flask, popup: FlaskClient, clock: Clock
) -> None:
    lost = app.test_client().get("/oauth/callback?oauth_verifier=x&oauth_token=y")
    assert lost.status_code == 400
    assert "No sign-in is in progress" in lost.get_data(as_text=True)
    assert "<script" not in lost.get_data(as_text=True)  # no wiki known: nobody to tell

    start(popup, wikis)
    other = popup.get("/oauth/callback?oauth_verifier=x&oauth_token=someone-elses")
    assert other.status_code == 400
    assert posted_message(other.get_data(as_text=True), wikis.content.url)["code"] == (
        "oauth-mismatch"
    )

    with requests.Session() as browser:
        back = authorize_with_requests(browser, start(popup, wikis), "Alice")
    clock.advance(timedelta(minutes=20))
    late = popup.get(callback_path(back))
    assert late.status_code == 400
    assert posted_message(late.get_data(as_text=True), wikis.content.url)["code"] == (
        "oauth-expired"
    )


def test_unknown_wiki_and_provider_down(
    wikis: Farm, tmp_path: Path, consumer: Consumer, clock: Clock
) -> None:
    app = make_app(wikis, tmp_path, consumer, "http://127.0.0.1:9/index.php", clock)
    popup = app.test_client()
    unknown = popup.get("/oauth/start?wiki=evil.example")
    assert unknown.status_code == 404 and "<script" not in unknown.get_data(as_text=True)
    assert popup.get("/oauth/start").status_code == 404

    down = popup.get(f"/oauth/start?wiki={wikis.content.host}")
    assert down.status_code == 502
    message = posted_message(down.get_data(as_text=True), wikis.content.url)
    assert message["code"] == "oauth-unavailable"


def test_a_numeric_sub_from_an_older_extension_signs_in(
    wikis: Farm, tmp_path: Path, consumer: Consumer, clock: Clock
) -> None:
    """Extension:OAuth before December 2024 (MediaWiki 1.39 installs) sent ``sub`` as a
    number: PyJWT 2.10+ refuses it in mwoauth's identify(), the API accepts it."""
    with OAuthProvider(wikis.content, [consumer], numeric_sub=True) as older:
        # What the unmodified mwoauth makes of it, as every sign-in failed before.
        handshaker = mwoauth.Handshaker(
            older.index_url, mwoauth.ConsumerToken(consumer.key, consumer.secret)
        )
        authorize_url, request_token = handshaker.initiate()
        with requests.Session() as browser:
            back = authorize_with_requests(browser, authorize_url, "Alice")
        access_token = handshaker.complete(request_token, urlsplit(back).query)
        with pytest.raises(mwoauth.OAuthException, match="Expected JSON"):
            handshaker.identify(access_token)

        app = make_app(wikis, tmp_path, consumer, older.index_url, clock)
        popup = app.test_client()
        with requests.Session() as browser:
            back = authorize_with_requests(browser, start(popup, wikis), "Alice")
        page = popup.get(callback_path(back))
    assert page.status_code == 200, page.get_data(as_text=True)
    message = posted_message(page.get_data(as_text=True), wikis.content.url)
    assert message["type"] == "programs-bot-token" and message["username"] == "Alice"
    record = app.extensions[EXTENSION].store.find_token(
        hash_token(message["token"]), app.extensions[EXTENSION].now()
    )
    (user_id,) = wikis.content.sql("select user_id from user where user_name = ?", ("Alice",))[0]
    assert record is not None and record.user_id == int(user_id) > 0


def test_a_numeric_sub_does_not_excuse_a_wrong_issuer(
    wikis: Farm, tmp_path: Path, consumer: Consumer, clock: Clock
) -> None:
    with OAuthProvider(
        wikis.content, [consumer], numeric_sub=True, iss_override="https://elsewhere.test"
    ) as older:
        popup = make_app(wikis, tmp_path, consumer, older.index_url, clock).test_client()
        with requests.Session() as browser:
            back = authorize_with_requests(browser, start(popup, wikis), "Alice")
        page = popup.get(callback_path(back))
    assert page.status_code == 403
    message = posted_message(page.get_data(as_text=True), wikis.content.url)
    assert message["code"] == "oauth-refused" and "token" not in message


def test_a_wiki_without_the_oauth_extension(
    wikis: Farm, tmp_path: Path, consumer: Consumer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """The local wikis have no Extension:OAuth: their index.php answers Special:OAuth/initiate
    with MediaWiki's own "No such special page" page."""
    answer = requests.post(
        wikis.content.index_url, params={"title": "Special:OAuth/initiate"}, timeout=30
    )
    assert answer.status_code == 404 and "mw-invalidspecialpage" in answer.text

    popup = make_app(wikis, tmp_path, consumer, wikis.content.index_url, clock).test_client()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gadget_api"):
        page = popup.get(f"/oauth/start?wiki={wikis.content.host}")
    assert page.status_code == 501
    message = posted_message(page.get_data(as_text=True), wikis.content.url)
    assert message["type"] == "programs-bot-error" and message["code"] == "oauth-not-installed"
    assert "OAuth extension" in message["message"] and "administrators" in message["message"]
    assert "try again" not in message["message"].replace("trying again will not help", "")
    assert popup.get_cookie("programs_api_session") is None  # no handshake was begun
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("gadget_api")]
    assert len(logged) == 1 and "\n" not in logged[0] and len(logged[0]) < 400, logged
    assert "Special:OAuth" in logged[0] and "<html" not in logged[0].lower()
