"""The local Special:OAuth provider, driven by the real mwoauth 0.4 library (no mocks).

Identities come from the content wiki of the ``wikis`` fixture; the consumer's callback URL
points at a closed port, as the handshake only needs its query string.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import mwoauth
import pytest
import requests
from requests_oauthlib import OAuth1

from harness import Farm, LocalWiki, ParticipantClient
from harness.oauth_provider import (
    AuthorizeForm,
    Consumer,
    OAuthProvider,
    OAuthProviderError,
    authorize_with_requests,
    fetch_authorize_form,
)

Participant = Callable[..., ParticipantClient]

CALLBACK = "http://127.0.0.1:9/join/callback?lang=fr&campaign=spring"
USER_AGENT = "programs-bot-tests/0.1 (oauth provider)"
CLAIMS = {
    "iss",
    "aud",
    "exp",
    "iat",
    "sub",
    "username",
    "editcount",
    "confirmed_email",
    "blocked",
    "registered",
    "groups",
    "rights",
    "grants",
    "nonce",
}


@pytest.fixture
def consumer() -> Consumer:
    return Consumer.generate(CALLBACK, name="Join API test")


@pytest.fixture
def other_consumer() -> Consumer:
    return Consumer.generate("http://127.0.0.1:9/other/callback", name="Another app")


@pytest.fixture
def provider(wikis: Farm, consumer: Consumer, other_consumer: Consumer) -> Iterator[OAuthProvider]:
    with OAuthProvider(wikis.content, [consumer, other_consumer]) as running:
        yield running


def handshaker(
    provider: OAuthProvider, consumer: Consumer, secret: str | None = None
) -> mwoauth.Handshaker:
    token = mwoauth.ConsumerToken(consumer.key, secret or consumer.secret)
    return mwoauth.Handshaker(provider.index_url, token, user_agent=USER_AGENT)


def log_in(
    provider: OAuthProvider, consumer: Consumer, username: str
) -> tuple[dict[str, Any], mwoauth.AccessToken]:
    """The whole handshake as a consumer does it: initiate, user allows, complete, identify."""
    shaker = handshaker(provider, consumer)
    redirect, request_token = shaker.initiate()
    with requests.Session() as browser:
        callback = authorize_with_requests(browser, redirect, username)
    access = shaker.complete(request_token, urlsplit(callback).query)
    identity: dict[str, Any] = shaker.identify(access)
    return identity, access


def signed_post(
    provider: OAuthProvider, subpage: str, auth: OAuth1, **params: str
) -> requests.Response:
    """POST index.php?title=Special:OAuth/<subpage> signed like mwoauth, answer unparsed."""
    return requests.post(
        provider.index_url,
        params={"title": f"Special:OAuth/{subpage}", **params},
        auth=auth,
        headers={"User-Agent": USER_AGENT},
        timeout=30,
    )


def user_row(wiki: LocalWiki, name: str) -> tuple[int, int, str]:
    """user_id, user_editcount (0 for NULL) and user_registration from the wiki's database."""
    ((user_id, editcount, registered),) = wiki.sql(
        "select user_id, user_editcount, user_registration from user where user_name = ?",
        (name,),
    )
    return int(user_id), int(editcount or 0), str(registered)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    # MediaWiki updates user_editcount after sending the edit's answer (a post-send update).
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.wiki
def test_handshake_identifies_the_user_from_the_wiki(
    wikis: Farm, participant: Participant, provider: OAuthProvider, consumer: Consumer
) -> None:
    wiki = wikis.content
    user_id, before, registered = user_row(wiki, "Alice")
    participant("Alice").edit("OAuth provider probe", "Counted.", "probe")
    wait_for(lambda: user_row(wiki, "Alice")[1] == before + 1, "Alice's edit count")

    shaker = handshaker(provider, consumer)
    redirect, request_token = shaker.initiate()
    assert redirect.startswith(provider.index_url + "?")
    query = parse_qs(urlsplit(redirect).query)
    assert query["title"] == ["Special:OAuth/authenticate"]
    assert query["oauth_consumer_key"] == [consumer.key]
    with requests.Session() as browser:
        callback = authorize_with_requests(browser, redirect, "Alice")
    access = shaker.complete(request_token, urlsplit(callback).query)
    identity = shaker.identify(access)

    assert set(identity) == CLAIMS
    assert identity["username"] == "Alice"
    assert identity["sub"] == str(user_id)
    assert identity["editcount"] == before + 1
    assert identity["registered"] == registered
    assert identity["blocked"] is False
    assert identity["confirmed_email"] is False  # no email address on the test accounts
    assert identity["grants"] == ["mwoauth-authonly"]
    assert {"*", "user", "autoconfirmed"} <= set(identity["groups"])
    assert "sysop" not in identity["groups"]
    assert "edit" in identity["rights"]
    assert "block" not in identity["rights"]


@pytest.mark.wiki
def test_admin_groups_and_rights_are_the_wikis_own(
    wikis: Farm, provider: OAuthProvider, consumer: Consumer
) -> None:
    identity, _ = log_in(provider, consumer, "admin")  # first letter capitalised, as MediaWiki
    assert identity["username"] == "Admin"
    assert identity["sub"] == str(user_row(wikis.content, "Admin")[0])
    assert {"sysop", "bureaucrat"} <= set(identity["groups"])
    assert {"block", "delete", "edit"} <= set(identity["rights"])


@pytest.mark.wiki
def test_numeric_sub_of_older_releases_defeats_mwoauth_with_this_pyjwt(
    wikis: Farm, consumer: Consumer
) -> None:
    # PyJWT 2.10+ insists on a string "sub"; mwoauth 0.4 reports it as an unreadable answer.
    with (
        OAuthProvider(wikis.content, [consumer], numeric_sub=True) as numeric,
        pytest.raises(mwoauth.OAuthException, match="Could not read response"),
    ):
        log_in(numeric, consumer, "Alice")


@pytest.mark.wiki
def test_blocked_user_is_identified_as_blocked(
    participant: Participant, provider: OAuthProvider, consumer: Consumer
) -> None:
    participant("Admin").post(
        {"action": "block", "user": "Bob", "expiry": "infinite", "reason": "OAuth provider test"}
    )
    identity, _ = log_in(provider, consumer, "Bob")
    assert identity["username"] == "Bob"
    assert identity["blocked"] is True
    assert log_in(provider, consumer, "Carol")[0]["blocked"] is False


@pytest.mark.wiki
def test_jwt_issuer_audience_expiry_and_nonce(
    wikis: Farm, provider: OAuthProvider, consumer: Consumer
) -> None:
    _, access = log_in(provider, consumer, "Carol")
    auth = OAuth1(
        consumer.key,
        client_secret=consumer.secret,
        resource_owner_key=access.key,
        resource_owner_secret=access.secret,
    )
    resp = signed_post(provider, "identify", auth)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert jwt.get_unverified_header(resp.text)["alg"] == "HS256"
    claims = jwt.decode(resp.text, consumer.secret, algorithms=["HS256"], audience=consumer.key)
    assert claims["iss"] == provider.url == f"http://127.0.0.1:{provider.port}"
    assert claims["aud"] == consumer.key
    assert claims["exp"] == claims["iat"] + 100
    assert abs(claims["iat"] - time.time()) < 5
    nonce = re.search(r'oauth_nonce="(.*?)"', str(resp.request.headers["Authorization"]))
    assert nonce is not None and claims["nonce"] == nonce.group(1)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            resp.text, "not the consumer secret" * 2, algorithms=["HS256"], audience=consumer.key
        )

    # mwoauth rejects an issuer other than the host of its mw_uri, e.g. the real wiki's.
    with (
        OAuthProvider(wikis.content, [consumer], iss_override=wikis.content.url) as wrong,
        pytest.raises(mwoauth.OAuthException, match="Unexpected issuer"),
    ):
        log_in(wrong, consumer, "Carol")


@pytest.mark.wiki
def test_wrong_consumer_secret_fails_at_initiate(
    provider: OAuthProvider, consumer: Consumer
) -> None:
    shaker = handshaker(provider, consumer, secret="0" * 32)
    with pytest.raises(mwoauth.OAuthException, match="OAuth protocol: Invalid signature"):
        shaker.initiate()
    resp = signed_post(provider, "initiate", OAuth1(consumer.key, "0" * 32, callback_uri="oob"))
    assert resp.text == "Error: An error occurred in the OAuth protocol: Invalid signature"
    assert resp.headers["Content-Type"].startswith("text/plain")
    resp = signed_post(provider, "initiate", OAuth1("f" * 32, "0" * 32, callback_uri="oob"))
    assert resp.text == "Error: An error occurred in the OAuth protocol: Invalid consumer"


@pytest.mark.wiki
def test_initiate_answers_form_encoded_or_json(provider: OAuthProvider, consumer: Consumer) -> None:
    auth = OAuth1(consumer.key, consumer.secret, callback_uri="oob")
    raw = parse_qs(signed_post(provider, "initiate", auth).text, strict_parsing=True)
    assert set(raw) == {"oauth_token", "oauth_token_secret", "oauth_callback_confirmed"}
    assert raw["oauth_callback_confirmed"] == ["true"]
    auth = OAuth1(consumer.key, consumer.secret, callback_uri="oob")
    resp = signed_post(provider, "initiate", auth, format="json")
    assert resp.headers["Content-Type"].startswith("application/json")
    assert set(resp.json()) == {"key", "secret", "oauth_callback_confirmed"}


@pytest.mark.wiki
def test_made_up_or_foreign_access_token_fails_at_identify(
    provider: OAuthProvider, consumer: Consumer, other_consumer: Consumer
) -> None:
    made_up = mwoauth.AccessToken("a" * 32, "b" * 32)
    with pytest.raises(mwoauth.OAuthException, match="No approved grant was found"):
        handshaker(provider, consumer).identify(made_up)
    auth = OAuth1(consumer.key, consumer.secret, made_up.key, made_up.secret)
    assert signed_post(provider, "identify", auth).json() == {
        "error": "mwoauthdatastore-access-token-not-found",
        "message": "No approved grant was found for that authorization token.",
    }
    # A real access token works only with the consumer it was given to.
    _, access = log_in(provider, consumer, "Dave")
    with pytest.raises(mwoauth.OAuthException, match="No approved grant was found"):
        handshaker(provider, other_consumer).identify(access)


@pytest.mark.wiki
def test_verifier_works_once_and_only_when_right(
    provider: OAuthProvider, consumer: Consumer
) -> None:
    shaker = handshaker(provider, consumer)
    redirect, request_token = shaker.initiate()
    with requests.Session() as browser:
        callback = authorize_with_requests(browser, redirect, "Eve")
    query = urlsplit(callback).query
    verifier = parse_qs(query)["oauth_verifier"][0]

    def exchange(code: str) -> str:
        auth = OAuth1(
            consumer.key, consumer.secret, request_token.key, request_token.secret, verifier=code
        )
        return signed_post(provider, "token", auth).text

    assert exchange("0" * 32) == "Error: The verification code provided was not valid."
    access = shaker.complete(request_token, query)  # a wrong verifier did not use the token
    assert shaker.identify(access)["username"] == "Eve"
    # mwoauth 0.4 does not read "Error: ..." answers of Special:OAuth/token: it fails with a
    # TypeError, which a consumer must catch as well as OAuthException.
    with pytest.raises(TypeError):
        shaker.complete(request_token, query)
    assert exchange(verifier).startswith(
        "Error: This request has already been completed and cannot be resubmitted."
    )


@pytest.mark.wiki
def test_callback_keeps_its_own_query(provider: OAuthProvider, consumer: Consumer) -> None:
    shaker = handshaker(provider, consumer)
    redirect, request_token = shaker.initiate()
    with requests.Session() as browser:
        callback = authorize_with_requests(browser, redirect, "Alice")
    assert callback.startswith(CALLBACK + "&")
    query = parse_qs(urlsplit(callback).query)
    assert query["lang"] == ["fr"]
    assert query["campaign"] == ["spring"]
    assert query["oauth_token"] == [request_token.key]
    assert re.fullmatch(r"[0-9a-f]{32}", query["oauth_verifier"][0])

    # "Callback is a prefix": a longer callback given at initiate is used as it is...
    longer = CALLBACK + "&next=%2Fevents%2F7"
    redirect, request_token = shaker.initiate(callback=longer)
    with requests.Session() as browser:
        callback = authorize_with_requests(browser, redirect, "Alice")
    assert callback.startswith(longer + "&oauth_verifier=")
    assert shaker.identify(shaker.complete(request_token, urlsplit(callback).query))
    # ...but one the registered callback is not a prefix of is refused.
    with pytest.raises(mwoauth.OAuthException, match="oauth_callback must be set"):
        shaker.initiate(callback="http://127.0.0.1:9/elsewhere")


@pytest.mark.wiki
def test_cancel_gives_no_verifier(provider: OAuthProvider, consumer: Consumer) -> None:
    redirect, request_token = handshaker(provider, consumer).initiate()
    with requests.Session() as browser:
        form = fetch_authorize_form(browser, redirect, "Carol")
        assert isinstance(form, AuthorizeForm)
        assert {"wpEditToken", "consumerKey", "requestToken"} <= set(form.fields)
        assert form.fields["requestToken"] == request_token.key
        assert set(form.buttons) == {"accept", "cancel"}
        resp = browser.post(form.action, data=form.data("Carol", "cancel"), allow_redirects=False)
    assert resp.status_code == 200
    assert "Location" not in resp.headers
    assert "You have chosen not to allow &quot;Join API test&quot;" in resp.text
    assert "oauth_verifier" not in resp.text
    auth = OAuth1(
        consumer.key, consumer.secret, request_token.key, request_token.secret, verifier="x"
    )
    assert signed_post(provider, "token", auth).text == (
        "Error: No token was found matching your request."
    )


@pytest.mark.wiki
def test_form_refuses_unknown_users_and_forged_edit_tokens(
    provider: OAuthProvider, consumer: Consumer
) -> None:
    redirect, _ = handshaker(provider, consumer).initiate()
    with requests.Session() as browser:
        with pytest.raises(OAuthProviderError, match='no user by the name "Nobody"'):
            authorize_with_requests(browser, redirect, "Nobody")
        form = fetch_authorize_form(browser, redirect)
        assert isinstance(form, AuthorizeForm)
        forged = {**form.data("Alice", "accept"), "wpEditToken": "0" * 32 + "+\\"}
        resp = browser.post(form.action, data=forged, allow_redirects=False)
        assert resp.status_code == 200
        assert "problem with your login session" in resp.text
        # The genuine form still works afterwards.
        assert authorize_with_requests(browser, redirect, "Alice").startswith(CALLBACK)


@pytest.mark.wiki
def test_authenticate_skips_the_form_for_a_returning_user(
    provider: OAuthProvider, consumer: Consumer
) -> None:
    _, first = log_in(provider, consumer, "Dave")
    shaker = handshaker(provider, consumer)
    redirect, request_token = shaker.initiate()
    with requests.Session() as browser:
        skipped = fetch_authorize_form(browser, redirect, "Dave")
    assert isinstance(skipped, str) and skipped.startswith(CALLBACK + "&")
    assert shaker.complete(request_token, urlsplit(skipped).query) == first


@pytest.mark.wiki
def test_other_titles_go_to_the_real_wiki(wikis: Farm, provider: OAuthProvider) -> None:
    resp = requests.get(
        provider.index_url, params={"title": "Main_Page"}, allow_redirects=False, timeout=30
    )
    assert resp.status_code == 307
    assert resp.headers["Location"] == wikis.content.url + "/index.php?title=Main_Page"


@pytest.mark.wiki
def test_bare_origin_works_as_mw_uri(provider: OAuthProvider, consumer: Consumer) -> None:
    # mwoauth.flask.MWOAuth passes its "host" (no index.php) to the Handshaker as mw_uri.
    shaker = mwoauth.Handshaker(
        provider.url, mwoauth.ConsumerToken(consumer.key, consumer.secret), user_agent=USER_AGENT
    )
    redirect, request_token = shaker.initiate()
    with requests.Session() as browser:
        callback = authorize_with_requests(browser, redirect, "Alice")
    access = shaker.complete(request_token, urlsplit(callback).query)
    assert shaker.identify(access)["username"] == "Alice"
