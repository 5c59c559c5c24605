"""The two calls of the OAuth 1.0a handshake that mwoauth 0.4 cannot make as the API needs.

- ``initiate``: mwoauth reads whatever the wiki answers as a request token. A wiki without
  Extension:OAuth answers with its "No such special page" HTML page, which mwoauth puts
  whole into an error that says nothing of the cause. Here that answer is recognized.
- ``identify``: mwoauth lets PyJWT check the identity's claims, and PyJWT 2.10 and later
  refuse a ``sub`` that is not a string. Extension:OAuth sent the user id as a number
  until December 2024 (T380270), and MediaWiki 1.39 installs older than that still do:
  every sign-in then failed with mwoauth's "Expected JSON" error. Here ``sub`` may be a
  string or an integer; every other check stays: the signature (HS256, the consumer
  secret), the audience (the consumer key), the expiry, the issue time, the issuer (the
  host of the wiki's OAuth URL) and the nonce of this very request.

Both sign requests as mwoauth does (requests-oauthlib, which mwoauth uses) and read
tokens with mwoauth's own code; ``complete`` stays mwoauth's. Each request has a timeout.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import mwoauth
import requests
from mwoauth.functions import process_request_token
from requests_oauthlib import OAuth1

from bot.core import special_pages
from gadget_api.config import WikiConfig
from gadget_api.errors import OAuthNotInstalledError

#: Seconds to wait for Special:OAuth, below gunicorn's 30-second worker timeout.
TIMEOUT_SECONDS = 20.0
#: Clock difference allowed for the identity's times (mwoauth's default).
LEEWAY_SECONDS = 10.0
#: Claims Extension:OAuth puts in every identity (a hidden user's too).
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub", "nonce")
_NONCE = re.compile(r'oauth_nonce="(.*?)"')


def _post(wiki: WikiConfig, subpage: str, auth: Any, user_agent: str) -> requests.Response:
    return requests.post(
        wiki.oauth_url,
        params={"title": f"Special:OAuth/{subpage}"},
        auth=auth,
        headers={"User-Agent": user_agent},
        timeout=TIMEOUT_SECONDS,
    )


def no_such_special_page(response: requests.Response) -> bool:
    """Whether MediaWiki answered that it has no such special page."""
    return special_pages.no_such_special_page(
        response.headers.get("Content-Type", ""), response.text
    )


def initiate(wiki: WikiConfig, user_agent: str) -> tuple[str, Any]:
    """A request token from the wiki, and the URL to send the user to with it.

    Raises OAuthNotInstalledError when the wiki has no Special:OAuth, mwoauth's
    OAuthException when it refuses (``Error: ...``) and requests' errors when it is down.
    """
    auth = OAuth1(wiki.consumer_key, client_secret=wiki.consumer_secret, callback_uri="oob")
    response = _post(wiki, "initiate", auth, user_agent)
    if no_such_special_page(response):
        raise OAuthNotInstalledError(
            f"{wiki.oauth_url} has no Special:OAuth (HTTP {response.status_code}, "
            "no such special page): Extension:OAuth is not installed"
        )
    request_token = process_request_token(response.text)
    query = urlencode(
        {
            "title": "Special:OAuth/authenticate",
            "oauth_token": request_token.key,
            "oauth_consumer_key": wiki.consumer_key,
        }
    )
    return f"{wiki.oauth_url}?{query}", request_token


def identify(wiki: WikiConfig, access_token: Any, user_agent: str) -> dict[str, Any]:
    """The user's identity, checked; ``sub`` is given as a string whatever the wiki sent.

    Raises mwoauth's OAuthException when the answer is not a valid identity for this
    consumer and request.
    """
    auth = OAuth1(
        wiki.consumer_key,
        client_secret=wiki.consumer_secret,
        resource_owner_key=access_token.key,
        resource_owner_secret=access_token.secret,
    )
    response = _post(wiki, "identify", auth, user_agent)
    try:
        identity: dict[str, Any] = jwt.decode(
            response.content,
            wiki.consumer_secret,
            algorithms=["HS256"],
            audience=wiki.consumer_key,
            leeway=LEEWAY_SECONDS,
            # PyJWT's only check of "sub" is that it is a string: see below instead.
            options={"verify_sub": False, "require": list(REQUIRED_CLAIMS)},
        )
    except jwt.InvalidTokenError as error:
        raise mwoauth.OAuthException(
            f"no valid identity ({error}): {_error_message(response)}"
        ) from error
    subject = identity["sub"]
    if isinstance(subject, bool) or not isinstance(subject, str | int):
        raise mwoauth.OAuthException(f"the identity's sub is not a user id: {subject!r}")
    identity["sub"] = str(subject)
    issuer = urlsplit(str(identity["iss"])).netloc
    if issuer != urlsplit(wiki.oauth_url).netloc:
        raise mwoauth.OAuthException(
            f"the identity's issuer is {issuer}, not {urlsplit(wiki.oauth_url).netloc}"
        )
    if time.time() < float(identity["iat"]) - LEEWAY_SECONDS:
        raise mwoauth.OAuthException("the identity was issued in the future")
    sent = _NONCE.search(_header(response.request.headers.get("Authorization")))
    if sent is None or identity["nonce"] != sent.group(1):
        raise mwoauth.OAuthException("the identity answers another request (nonce)")
    return identity


def _header(value: str | bytes | None) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value or ""


def _error_message(response: requests.Response) -> str:
    """What the wiki said instead of an identity, short: its JSON error's message."""
    try:
        answer = json.loads(response.text)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and "error" in answer:
        return f"{answer.get('error')}: {answer.get('message', '')}"[:200]
    # Not the body: it may be a signed statement about the user.
    return f"HTTP {response.status_code}, {response.headers.get('Content-Type', 'no type')}"
