"""A local stand-in for Extension:OAuth's ``Special:OAuth`` (MediaWiki 1.39), for consumer tests.

Extension:OAuth cannot be installed on the local wikis (its PHP dependencies are not packaged),
so this module speaks its OAuth 1.0a protocol from Python for one real ``LocalWiki``, whose own
tables give the identities. The unmodified ``mwoauth`` library works against it. The answers
follow the extension's SpecialMWOAuth.php, MWOAuthServer.php and MWOAuthDataStore.php:

- ``initiate``: HMAC-SHA1 signature, timestamp (300 s) and nonce checks, callback ``oob`` or,
  for a "callback is a prefix" consumer, a URL the registered callback is a prefix of. Answer
  ``oauth_token=..&oauth_token_secret=..&oauth_callback_confirmed=true`` (text/plain) or, with
  ``format=json``, ``{"key","secret","oauth_callback_confirmed"}``. Errors are
  ``Error: <message>`` (raw) or ``{"error": <message key>, "message": ...}`` (json); a wrong
  consumer secret gives ``Error: An error occurred in the OAuth protocol: Invalid signature``.
- ``authorize`` and ``authenticate`` (mwoauth sends users to the latter) both show the
  authorization form: hidden ``wpEditToken``, ``consumerKey``, ``requestToken`` (and
  ``wpaction``, ``wpconfirmUpdate``, ``oauth_version``), buttons ``accept`` and ``cancel``.
  Accepting redirects (302) to the callback (``oob`` means the registered callback URL, whose
  own query is kept) with ``oauth_verifier`` and ``oauth_token`` appended. Cancelling shows the
  "You have chosen not to allow" page: no redirect, no verifier. ``authenticate`` skips the
  form when the user already allowed a consumer whose grants are authentication-only.
- ``token``: request token + verifier -> access token (form-encoded), once; a second exchange
  answers ``Error: This request has already been completed ...``.
- ``identify``: a JWT (HS256, consumer secret) whose body is sent as is with type
  application/json; claims ``iss aud exp iat sub username editcount confirmed_email blocked
  registered groups rights grants nonce`` (``exp`` = ``iat`` + 100; a hidden user gets only
  ``sub`` and ``blocked``). ``sub`` is the user id as a string, as the extension sends it
  since T380270 (Dec. 2024); releases before sent a number, which PyJWT 2.10 and later
  reject, so mwoauth 0.4's identify() fails on it: ``numeric_sub=True`` reproduces that.
  An unknown access token answers ``{"error": "mwoauthdatastore-access-token-not-found",
  ...}`` (the action API, not played here, calls such a token ``mwoauth-invalid-authorization``).

Where it runs, and the issuer
-----------------------------
The provider stands in for the wiki's ``index.php`` for ``title=Special:OAuth/...`` only; it
serves on its own loopback port (other titles are redirected to the real wiki). The real
extension puts ``$wgCanonicalServer`` in the JWT's ``iss``, and mwoauth compares that with the
host of the ``mw_uri`` it was given, so here ``iss`` is the provider's own origin
``http://127.0.0.1:<provider port>``: configure the consumer under test with
``OAuthProvider.index_url`` as the wiki's OAuth URL (mwoauth's ``mw_uri``). Signatures are
checked against that origin too, as the real wiki checks them against its own server name.
``iss_override`` sends another issuer, to test that a consumer rejects it.

The one difference from the real flow
-------------------------------------
The real form acts for the user logged in to the wiki. There is no login here: the form has an
extra ``username`` field naming an account of the wiki, and a ``username`` query parameter on
the form's URL stands in for an existing login session (see ``authorize_with_requests``).

Identity claims come from the wiki's tables (``user``, ``revision``, and the blocks as the
wiki's version stores them: ``ipblocks`` on 1.39, ``block`` and ``block_target`` on 1.43),
except ``groups`` and ``rights``, which MediaWiki derives from its configuration: they are read
from the wiki's own ``list=users`` answer, computed by the same code as the real claims.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import jwt
import requests
from flask import Flask, Request, Response, request
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .errors import LocalWikiError
from .threaded import ThreadedServer

if TYPE_CHECKING:
    from .wiki import LocalWiki

log = logging.getLogger(__name__)

#: Seconds a request token lives (MWOAuthDataStore: "600s == 10 minutes. Kind of arbitrary.").
REQUEST_TOKEN_TTL = 600
#: Allowed clock difference for oauth_timestamp (OAuthServer::TIMESTAMP_THRESHOLD).
TIMESTAMP_THRESHOLD = 300
#: Lifetime of the identify JWT (UserStatementProvider: exp = now + 100).
JWT_LIFETIME = 100
#: Grants for which ``authenticate`` skips the form once the user has allowed the consumer.
AUTH_ONLY_GRANTS = frozenset({"mwoauth-authonly", "mwoauth-authonlyprivate"})
USER_AGENT = "programs-bot-localwiki-oauth/0.1 (test harness)"
_NO_CACHE_HEADERS = {
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
    "Pragma": "no-cache",
}
_STATE_KEY = "localwiki_oauth_provider"

#: English texts of the extension's messages used here (i18n/en.json), without their links.
MESSAGES = {
    "mwoauth-oauth-exception": "An error occurred in the OAuth protocol: {0}",
    "mwoauthdatastore-access-token-not-found": (
        "No approved grant was found for that authorization token."
    ),
    "mwoauthdatastore-request-token-not-found": (
        "Sorry, something went wrong connecting this application.\n"
        "Go back and try to connect your account again, or contact the application author.\n\n"
        '<span class="plainlinks mw-mwoautherror-details">OAuth token not found, '
        "[https://www.mediawiki.org/wiki/Help:OAuth/Errors#E004 E004]</span>"
    ),
    "mwoauthdatastore-request-token-already-used": (
        "This request has already been completed and cannot be resubmitted.\n"
        "Go back to the application and try to connect your account again, or contact the "
        "application author.\n\n"
        '<span class="plainlinks mw-mwoautherror-details">OAuth token already used, '
        "[https://www.mediawiki.org/wiki/Help:OAuth/Errors#E009 E009]</span>"
    ),
    "mwoauthdatastore-callback-not-found": (
        "OAuth callback URL not found in cache. This is probably an error in how the "
        "application makes requests to the server."
    ),
    "mwoauthdatastore-bad-token": "No token was found matching your request.",
    "mwoauthdatastore-bad-verifier": "The verification code provided was not valid.",
    "mwoauthserver-bad-consumer-key": (
        "Sorry, something went wrong connecting this application.\n\n"
        '<span class="plainlinks mw-mwoautherror-details">Unknown OAuth key, '
        "[https://www.mediawiki.org/wiki/Help:OAuth/Errors#E006 E006]</span>"
    ),
    "mwoauth-invalid-consumer-key": "No consumer exists with the given key.",
    "mwoauth-bad-request-invalid-action": (
        "Sorry, something went wrong, you'll need to contact the application author for help "
        'with this.\n\n<span class="plainlinks mw-mwoautherror-details">Unknown URL, '
        "[https://www.mediawiki.org/wiki/Help:OAuth/Errors#E002 E002]</span>"
    ),
    "mwoauth-invalid-authorization-invalid-user": (
        "The authorization headers in your request are for a user that does not exist here"
    ),
    "mwoauth-callback-not-oob": (
        'oauth_callback must be set, and must be set to "oob" (case-sensitive)'
    ),
    "mwoauth-callback-not-oob-or-prefix": (
        'oauth_callback must be set, and must be set to "oob" (case-sensitive), or the '
        "configured callback must be a prefix of the supplied callback."
    ),
    "mwoauth-oauth-unsupported-version": "OAuth version {0} is not supported.",
    "sessionfailure": (
        "There seems to be a problem with your login session; this action has been canceled "
        "as a precaution against session hijacking. Please resubmit the form."
    ),
}


class OAuthProviderError(LocalWikiError):
    """The local OAuth provider could not be started or did not answer as expected."""


@dataclass(frozen=True)
class Consumer:
    """An approved OAuth 1.0a consumer, as Special:OAuthConsumerRegistration would make it."""

    key: str
    secret: str
    callback_url: str
    callback_is_prefix: bool = True
    grants: tuple[str, ...] = ("mwoauth-authonly",)
    name: str = "Local test consumer"

    @classmethod
    def generate(cls, callback_url: str, **kwargs: Any) -> Consumer:
        """A consumer with a fresh random key and secret (32 hex digits, like the real ones)."""
        return cls(secrets.token_hex(16), secrets.token_hex(16), callback_url, **kwargs)


@dataclass
class _RequestToken:
    key: str
    secret: str
    consumer_key: str
    callback: str | None  # None once read by an authorization, as the real cache entry
    created: float
    verifier: str | None = None
    access_key: str | None = None
    used: bool = False


@dataclass
class _Acceptance:
    consumer_key: str
    user_id: int
    access_key: str
    access_secret: str
    grants: tuple[str, ...]


class _Failure(Exception):
    """An error the extension reports with message ``key``; ``text`` is the message's text."""

    def __init__(self, key: str, *params: str) -> None:
        self.key = key
        self.text = MESSAGES[key].format(*params)
        super().__init__(f"{key}: {self.text}")


class _ProtocolFailure(_Failure):
    """The OAuth library's own exceptions (OAuthException), wrapped as the extension does."""

    def __init__(self, detail: str) -> None:
        super().__init__("mwoauth-oauth-exception", detail)


@dataclass
class _ProviderState:
    wiki: LocalWiki
    consumers: dict[str, Consumer]
    origin: str | None
    iss_override: str | None
    numeric_sub: bool = False
    form_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    lock: threading.Lock = field(default_factory=threading.Lock)
    request_tokens: dict[str, _RequestToken] = field(default_factory=dict)
    acceptances: dict[str, _Acceptance] = field(default_factory=dict)  # by access key
    nonces: set[tuple[str, str, str]] = field(default_factory=set)

    def origin_of(self, req: Request) -> str:
        return self.origin or req.host_url.rstrip("/")

    def acceptance_for(self, consumer_key: str, user_id: int) -> _Acceptance | None:
        for acceptance in self.acceptances.values():
            if acceptance.consumer_key == consumer_key and acceptance.user_id == user_id:
                return acceptance
        return None


# -- PHP-compatible output -------------------------------------------------------------------


def _php_escape(text: str) -> str:
    """htmlspecialchars() with PHP 8's defaults, as Message::escaped() applies it."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#039;")
    )


def _php_json(value: Any) -> str:
    """FormatJson::encode(): compact, slashes unescaped, ``<>&`` as \\u escapes."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


def _plain(body: str, content_type: str) -> Response:
    return Response(body, 200, headers=_NO_CACHE_HEADERS, content_type=content_type)


def _page(title: str, body_html: str, status: int = 200) -> Response:
    doc = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="UTF-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        f'<body class="mw-special-OAuth"><h1 id="firstHeading">{html.escape(title)}</h1>\n'
        f'<div id="mw-content-text">{body_html}</div></body></html>\n'
    )
    return Response(doc, status, content_type="text/html; charset=UTF-8")


def _error(failure: _Failure, fmt: str) -> Response:
    """SpecialMWOAuth::showError(): the same HTTP 200 in every format."""
    log.info("Special:OAuth error %s", failure)
    if fmt == "raw":
        return _plain("Error: " + _php_escape(failure.text), "text/plain")
    if fmt == "json":
        return _plain(
            _php_json({"error": failure.key, "message": failure.text}), "application/json"
        )
    body = f'<div class="errorbox">{html.escape(failure.text)}</div>'
    return _page("Application Connection Error", body)


# -- the OAuth 1.0a request checks (MWOAuthServer / OAuthServer) -------------------------------


def _oauth_params(req: Request) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The request's parameters merged as MWOAuthRequest does, and the list that is signed."""
    signed: list[tuple[str, str]] = list(req.args.items(multi=True))
    if req.mimetype == "application/x-www-form-urlencoded":
        signed += list(req.form.items(multi=True))
    header = req.headers.get("Authorization", "")
    if header[:6].lower() == "oauth ":
        try:
            pairs = oauth_utils.parse_authorization_header(header)
        except ValueError:
            pairs = []  # as lenient as the PHP library: the checks below then fail
        signed += [(str(k), oauth_utils.unescape(str(v))) for k, v in pairs if k != "realm"]
    merged = dict(signed)
    return merged, [(k, v) for k, v in signed if k != "oauth_signature"]


@dataclass
class _SignedRequest:
    params: dict[str, str]
    signed: list[tuple[str, str]]
    method: str
    uri: str  # origin + path: the base string URI, as the wiki builds it from $wgServer

    def get(self, name: str) -> str:
        return self.params.get(name, "")


def _signed_request(state: _ProviderState, req: Request) -> _SignedRequest:
    params, signed = _oauth_params(req)
    return _SignedRequest(params, signed, req.method, state.origin_of(req) + req.path)


def _check_version(sreq: _SignedRequest) -> None:
    version = sreq.get("oauth_version") or "1.0"
    if version != "1.0":
        raise _ProtocolFailure(f"OAuth version '{version}' not supported")


def _consumer_of(state: _ProviderState, sreq: _SignedRequest) -> Consumer:
    key = sreq.get("oauth_consumer_key")
    if not key:
        raise _ProtocolFailure("Invalid consumer key")
    consumer = state.consumers.get(key)
    if consumer is None:
        raise _ProtocolFailure("Invalid consumer")
    return consumer


def _check_signature(
    state: _ProviderState, sreq: _SignedRequest, consumer: Consumer, token: str, token_secret: str
) -> None:
    """OAuthServer::check_signature(): timestamp, then nonce (recorded), then HMAC-SHA1."""
    timestamp = sreq.get("oauth_timestamp")
    if not timestamp:
        raise _ProtocolFailure("Missing timestamp parameter. The parameter is required")
    now = int(time.time())
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TIMESTAMP_THRESHOLD:
        raise _ProtocolFailure(f"Expired timestamp, yours {timestamp}, ours {now}")
    nonce = sreq.get("oauth_nonce")
    if not nonce:
        raise _ProtocolFailure("Missing nonce parameter. The parameter is required")
    with state.lock:
        seen = (consumer.key, token, nonce)
        if seen in state.nonces:
            raise _ProtocolFailure(f"Nonce already used: {nonce}")
        state.nonces.add(seen)
    method = sreq.get("oauth_signature_method")
    if not method:
        raise _ProtocolFailure("No signature method parameter. This parameter is required")
    if method != "HMAC-SHA1":
        # The wiki also knows RSA-SHA1, for consumers registered with a public key.
        raise _ProtocolFailure(
            f"Signature method '{method}' not supported try one of the following: "
            "HMAC-SHA1, RSA-SHA1"
        )
    checked = SimpleNamespace(
        params=sreq.signed,
        uri=sreq.uri,
        http_method=sreq.method,
        signature=sreq.get("oauth_signature"),
    )
    if not oauth_signature.verify_hmac_sha1(checked, consumer.secret, token_secret):
        log.info("signature check failed for consumer %s on %s", consumer.key, sreq.uri)
        raise _ProtocolFailure("Invalid signature")


def _request_token(state: _ProviderState, consumer_key: str, key: str | None) -> _RequestToken:
    """MWOAuthDataStore::lookup_token(..., 'request', ...); call with the lock held."""
    token = state.request_tokens.get(key or "")
    if token is not None and time.time() - token.created > REQUEST_TOKEN_TTL:
        del state.request_tokens[token.key]
        token = None
    if token is not None and token.consumer_key == consumer_key and token.used:
        raise _Failure("mwoauthdatastore-request-token-already-used")
    if token is None or token.consumer_key != consumer_key:
        raise _Failure("mwoauthdatastore-request-token-not-found")
    return token


def _callback_allowed(registered: str, given: str) -> bool:
    """MWOAuthServer::checkCallback() for a "callback is a prefix" consumer."""
    known, got = urlsplit(registered), urlsplit(given)
    if not got.scheme or not got.netloc:
        return False
    scheme_ok = (
        got.scheme in ("http", "https") if known.scheme == "http" else (got.scheme == known.scheme)
    )
    port_ok = known.port == 1 or known.port == got.port
    if known.path:
        path_ok = got.path == known.path if known.query else got.path.startswith(known.path)
    else:
        path_ok = True
    query_ok = not known.query or got.query.startswith(known.query)
    return scheme_ok and known.hostname == got.hostname and port_ok and path_ok and query_ok


def _append_query(url: str, params: Mapping[str, str]) -> str:
    """wfAppendQuery(): add parameters, keeping the URL's own query and fragment."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# -- identities from the wiki --------------------------------------------------------------


def _ts_mw(when: float) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(when))


def _normalize_username(name: str) -> str:
    name = " ".join(name.replace("_", " ").split())
    return name[:1].upper() + name[1:]


def _user_id(wiki: LocalWiki, username: str) -> int | None:
    rows = wiki.sql(
        "select user_id from user where user_name = ?", (_normalize_username(username),)
    )
    return int(rows[0][0]) if rows else None


def _email_authentication(wiki: LocalWiki) -> bool:
    """$wgEmailAuthentication as LocalSettings.php last sets it (MediaWiki's default: true)."""
    try:
        text = wiki.settings_path.read_text(encoding="utf-8")
    except OSError:
        return True
    found = re.findall(r"^\s*\$wgEmailAuthentication\s*=\s*(true|false)\s*;", text, re.M | re.I)
    return found[-1].lower() == "true" if found else True


def _groups_and_rights(wiki: LocalWiki, username: str) -> tuple[list[str], list[str]]:
    """Effective groups and rights, as the wiki computes them from its configuration."""
    params = {
        "action": "query",
        "list": "users",
        "ususers": username,
        "usprop": "groups|rights",
        "format": "json",
        "formatversion": "2",
    }
    try:
        resp = requests.get(
            wiki.api_url, params=params, headers={"User-Agent": USER_AGENT}, timeout=30
        )
        resp.raise_for_status()
        user = resp.json()["query"]["users"][0]
        return [str(g) for g in user["groups"]], [str(r) for r in user["rights"]]
    except (requests.RequestException, ValueError, KeyError, IndexError) as exc:
        raise OAuthProviderError(f"{wiki.name}: list=users for {username!r} failed: {exc}") from exc


#: The hide-name flag of each unexpired block on an account, by where the wiki keeps blocks:
#: MediaWiki 1.39 in ``ipblocks``; 1.42 moved them to ``block``, their targets to
#: ``block_target`` (1.43 has only those). Autoblocks target an IP, not the account.
#: DatabaseBlock::isExpired() ends a block only after its expiry second.
_ACCOUNT_BLOCKS_SQL = {
    "ipblocks": (
        "select ipb_deleted from ipblocks where ipb_user = ?"
        " and (ipb_expiry = 'infinity' or ipb_expiry >= ?)"
    ),
    "block_target": (
        "select bl_deleted from block join block_target on bt_id = bl_target"
        " where bt_user = ? and (bl_expiry = 'infinity' or bl_expiry >= ?)"
    ),
}


def _account_blocks(wiki: LocalWiki, user_id: int) -> list[bool]:
    """Whether each block on the account hides the name: what User::getBlock() finds for a
    user other than the request's own (UserStatementProvider's case: no IP or cookie blocks).
    """
    tables = {name for (name,) in wiki.sql("select name from sqlite_master where type = 'table'")}
    schema = "block_target" if "block_target" in tables else "ipblocks"
    rows = wiki.sql(_ACCOUNT_BLOCKS_SQL[schema], (user_id, _ts_mw(time.time())))
    return [bool(int(deleted)) for (deleted,) in rows]


def identity_claims(
    wiki: LocalWiki, user_id: int, grants: Sequence[str], *, numeric_sub: bool = False
) -> dict[str, Any] | None:
    """UserStatementProvider::getUserProfile() from the wiki's tables; None for no such user.

    ``sub`` is the user id as a string, as the extension sends it since T380270 (PyJWT 2.10
    and later reject a number there, and mwoauth 0.4 lets PyJWT check it);
    ``numeric_sub=True`` gives the number that earlier releases sent.
    """
    rows = wiki.sql(
        "select user_name, user_real_name, user_email, user_email_authenticated,"
        " user_registration, user_editcount from user where user_id = ?",
        (user_id,),
    )
    if not rows:
        return None
    name, real_name, email, authenticated, registration, editcount = rows[0]
    blocks = _account_blocks(wiki, user_id)
    sub: int | str = user_id if numeric_sub else str(user_id)
    if any(blocks):  # a block hiding the name: isHidden()
        return {"sub": sub, "blocked": True}
    if editcount is None:  # User::getEditCount() counts the revisions once
        editcount = wiki.sql(
            "select count(*) from revision join actor on rev_actor = actor_id where actor_user = ?",
            (user_id,),
        )[0][0]
    email = str(email or "")
    confirmed = bool(re.fullmatch(r"[^@\s]+@[^@\s]+", email)) and (
        bool(authenticated) or not _email_authentication(wiki)
    )
    groups, rights = _groups_and_rights(wiki, str(name))
    claims: dict[str, Any] = {
        "sub": sub,
        "username": str(name),
        "editcount": int(editcount),
        "confirmed_email": confirmed,
        "blocked": bool(blocks),
        "registered": str(registration) if registration else None,
        "groups": groups,
        "rights": list(dict.fromkeys(rights)),
        "grants": list(grants),
    }
    if "mwoauth-authonlyprivate" in grants:
        claims["realname"] = str(real_name or "")
        claims["email"] = email
    return claims


# -- endpoints -----------------------------------------------------------------------------


def _initiate(state: _ProviderState, req: Request, fmt: str) -> Response:
    sreq = _signed_request(state, req)
    _check_version(sreq)
    consumer = _consumer_of(state, sreq)
    _check_signature(state, sreq, consumer, "", "")
    callback = sreq.get("oauth_callback")
    if not consumer.callback_is_prefix:
        if callback != "oob":
            raise _Failure("mwoauth-callback-not-oob")
    elif not callback or (
        callback != "oob" and not _callback_allowed(consumer.callback_url, callback)
    ):
        raise _Failure("mwoauth-callback-not-oob-or-prefix")
    token = _RequestToken(
        secrets.token_hex(16), secrets.token_hex(16), consumer.key, callback, time.time()
    )
    with state.lock:
        state.request_tokens[token.key] = token
    log.debug("request token %s for consumer %s (callback %s)", token.key, consumer.key, callback)
    return _token_response(token.key, token.secret, fmt, callback_confirmed=True)


def _token_response(key: str, secret: str, fmt: str, *, callback_confirmed: bool) -> Response:
    """SpecialMWOAuth::returnToken()."""
    if fmt == "json":
        body: dict[str, str] = {"key": key, "secret": secret}
        if callback_confirmed:
            body["oauth_callback_confirmed"] = "true"
        return _plain(_php_json(body), "application/json")
    # The extension adds oauth_callback_confirmed to access-token answers too.
    text = f"oauth_token={key}&oauth_token_secret={secret}&oauth_callback_confirmed=true"
    if fmt == "html":
        items = "".join(f"<li>{html.escape(p.replace('=', ' = '))}</li>" for p in text.split("&"))
        return _page("OAuth", f"<ul>{items}</ul>")
    return _plain(text, "text/plain")


def _token(state: _ProviderState, req: Request, fmt: str) -> Response:
    sreq = _signed_request(state, req)
    _check_version(sreq)
    consumer = _consumer_of(state, sreq)
    with state.lock:
        token = _request_token(state, consumer.key, sreq.get("oauth_token"))
    _check_signature(state, sreq, consumer, token.key, token.secret)
    with state.lock:
        if not token.verifier or not token.access_key:
            raise _Failure("mwoauthdatastore-bad-token")
        if token.used:  # lost a race with a concurrent exchange of the same token
            raise _Failure("mwoauthdatastore-request-token-already-used")
        if not _same(token.verifier, sreq.get("oauth_verifier")):
            raise _Failure("mwoauthdatastore-bad-verifier")
        acceptance = state.acceptances.get(token.access_key)
        if acceptance is None:
            raise _Failure("mwoauthdatastore-access-token-not-found")
        token.used = True
    return _token_response(
        acceptance.access_key, acceptance.access_secret, fmt, callback_confirmed=False
    )


def _identify(state: _ProviderState, req: Request) -> Response:
    sreq = _signed_request(state, req)
    _check_version(sreq)
    consumer = _consumer_of(state, sreq)
    with state.lock:
        acceptance = state.acceptances.get(sreq.get("oauth_token"))
    if acceptance is None or acceptance.consumer_key != consumer.key:
        raise _Failure("mwoauthdatastore-access-token-not-found")
    _check_signature(state, sreq, consumer, acceptance.access_key, acceptance.access_secret)
    profile = identity_claims(
        state.wiki, acceptance.user_id, acceptance.grants, numeric_sub=state.numeric_sub
    )
    if profile is None:
        raise _Failure("mwoauth-invalid-authorization-invalid-user")
    now = int(time.time())
    statement: dict[str, Any] = {
        "iss": state.iss_override or state.origin_of(req),
        "aud": consumer.key,
        "exp": now + JWT_LIFETIME,
        "iat": now,
        **profile,
        "nonce": sreq.get("oauth_nonce"),
    }
    token = jwt.encode(statement, consumer.secret, algorithm="HS256")
    log.debug("identified user %s for consumer %s", acceptance.user_id, consumer.key)
    return _plain(token, "application/json")


def _edit_token(state: _ProviderState, request_token: str, consumer_key: str) -> str:
    """A stand-in for the session's CSRF token, tied to this authorization request."""
    mac = hmac.new(state.form_secret, f"{consumer_key}|{request_token}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32] + "+\\"


def _authorize(state: _ProviderState, consumer: Consumer, user_id: int, request_token: str) -> str:
    """OAuth1Consumer::authorize(): verifier, acceptance, callback URL (read once)."""
    with state.lock:
        token = _request_token(state, consumer.key, request_token)
        token.verifier = secrets.token_hex(16)
        acceptance = state.acceptance_for(consumer.key, user_id)
        if acceptance is None:
            acceptance = _Acceptance(
                consumer.key, user_id, secrets.token_hex(16), secrets.token_hex(16), consumer.grants
            )
            state.acceptances[acceptance.access_key] = acceptance
        else:
            acceptance.grants = consumer.grants
        token.access_key = acceptance.access_key
        callback, token.callback = token.callback, None
        verifier = token.verifier
    if callback is None:
        raise _Failure("mwoauthdatastore-callback-not-found")
    if callback == "oob":
        callback = consumer.callback_url
    log.debug("user %s allowed consumer %s", user_id, consumer.key)
    return _append_query(callback, {"oauth_verifier": verifier, "oauth_token": request_token})


def _form_page(
    state: _ProviderState,
    subpage: str,
    consumer: Consumer,
    request_token: str,
    username: str,
    existing: bool,
    error: str = "",
) -> Response:
    fields = {
        "wpaction": "accept",
        "wpconfirmUpdate": "1" if existing else "0",
        "oauth_version": "1",
        "consumerKey": consumer.key,
        "requestToken": request_token,
        "wpEditToken": _edit_token(state, request_token, consumer.key),
    }
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in fields.items()
    )
    greeting = html.escape(username) if username else "there"
    grants = ", ".join(consumer.grants) or "none"
    errorbox = f'<div class="errorbox">{html.escape(error)}</div>' if error else ""
    body = (
        f'{errorbox}<div id="mw-mwoauth-authorize-dialog" class="mw-ui-container">'
        f'<form id="mw-mwoauth-authorize-form" method="post" '
        f'action="/index.php/Special:OAuth/{html.escape(subpage)}" '
        'enctype="application/x-www-form-urlencoded">'
        f"<p>Hi {greeting},</p><p>In order to complete your request, "
        f"<b>{html.escape(consumer.name)}</b> needs permission to access information on "
        f"<i>{html.escape(state.wiki.site_name)}</i> on your behalf "
        f"(grants: {html.escape(grants)}).</p>"
        # The only field the real form lacks: the wiki's login session names the user there.
        '<p class="localwiki-username"><label for="username">Username</label> '
        f'<input type="text" id="username" name="username" value="{html.escape(username)}"></p>'
        f"{hidden}"
        '<input type="submit" name="accept" value="Allow" id="mw-mwoauth-accept" '
        'class="mw-mwoauth-authorize-button mw-ui-button mw-ui-progressive">'
        '<input type="submit" name="cancel" value="Cancel" '
        'class="mw-mwoauth-authorize-button mw-ui-button mw-ui-quiet">'
        "</form></div>"
    )
    return _page("OAuth", body)


def _cancel_page(state: _ProviderState, consumer_key: str) -> Response:
    consumer = state.consumers.get(consumer_key)
    if consumer is None:
        raise _Failure("mwoauth-invalid-consumer-key")
    name = html.escape(consumer.name)
    wiki = state.wiki.url
    body = (
        f"<p>You have chosen not to allow &quot;{name}&quot; to access your account. "
        f"&quot;{name}&quot; will not work unless you allow it access. You can go back to "
        f'&quot;{name}&quot; or <a href="{wiki}/index.php/Special:OAuthManageMyGrants">manage</a>'
        " your connected apps.</p>"
        f'<p id="mw-returnto">Return to <a href="{wiki}/index.php/Main_Page">Main Page</a>.</p>'
    )
    return _page("OAuth", body)


def _authorization(state: _ProviderState, req: Request, subpage: str) -> Response:
    """Special:OAuth/authorize and /authenticate (SpecialMWOAuth::handleAuthorizationForm)."""
    values = req.values
    request_token = values.get("requestToken", values.get("oauth_token", ""))
    consumer_key = values.get("consumerKey", values.get("oauth_consumer_key", ""))
    posted = req.method == "POST"
    if posted and "cancel" in req.form:
        return _cancel_page(state, consumer_key)
    if not consumer_key and request_token:
        with state.lock:
            known = state.request_tokens.get(request_token)
        consumer_key = known.consumer_key if known else ""
    consumer = state.consumers.get(consumer_key)
    if consumer is None:
        raise _Failure("mwoauthserver-bad-consumer-key")

    username = values.get("username", "").strip()
    user_id = _user_id(state.wiki, username) if username else None
    with state.lock:
        existing = state.acceptance_for(consumer.key, user_id) if user_id else None
    if (
        not posted
        and existing is not None
        and subpage == "authenticate"
        and existing.grants == consumer.grants
        and set(existing.grants) <= AUTH_ONLY_GRANTS
        and user_id is not None
    ):
        return _redirect(_authorize(state, consumer, user_id, request_token))

    def form(error: str = "") -> Response:
        return _form_page(
            state, subpage, consumer, request_token, username, existing is not None, error
        )

    if not posted or req.form.get("wpEditToken") is None:
        return form()
    if not _same(req.form.get("wpEditToken", ""), _edit_token(state, request_token, consumer.key)):
        return form(MESSAGES["sessionfailure"])
    if not username:
        return form("Please log in: enter the name of an account of this wiki.")
    if user_id is None:
        return form(
            f'There is no user by the name "{_normalize_username(username)}". '
            "Names are case sensitive. Check your spelling."
        )
    return _redirect(_authorize(state, consumer, user_id, request_token))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _redirect(location: str) -> Response:
    return Response("", 302, headers={"Location": location, **_NO_CACHE_HEADERS})


def _title_of(req: Request) -> str:
    title = req.values.get("title", "")
    if not title and req.path.startswith("/index.php/"):
        title = req.path[len("/index.php/") :]
    return title.replace("_", " ").strip()


def _oauth_subpage(title: str) -> str | None:
    """``initiate`` for ``Special:OAuth/initiate``; None for titles of other pages."""
    page, _, subpage = title.partition("/")
    namespace, _, name = page.partition(":")
    if namespace.strip().lower() != "special" or name.strip().lower() != "oauth":
        return None
    return subpage


def make_provider_app(
    wiki: LocalWiki,
    consumers: Iterable[Consumer],
    *,
    origin: str | None = None,
    iss_override: str | None = None,
    numeric_sub: bool = False,
) -> Flask:
    """The WSGI app answering ``index.php?title=Special:OAuth/...`` like the extension.

    ``origin`` (``http://host:port``) is the server name used in signatures and the JWT
    issuer; by default each request's own Host. OAuthProvider sets it to its address.
    ``iss_override`` replaces the issuer; ``numeric_sub``: see identity_claims.
    """
    app = Flask(__name__)
    state = _ProviderState(
        wiki=wiki,
        consumers={c.key: c for c in consumers},
        origin=origin,
        iss_override=iss_override,
        numeric_sub=numeric_sub,
    )
    app.extensions[_STATE_KEY] = state

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "HEAD"])
    @app.route("/<path:path>", methods=["GET", "POST", "HEAD"])
    def index(path: str) -> Response:
        subpage = _oauth_subpage(_title_of(request))
        # "/" is index.php too, as under php -S (and mwoauth.flask takes a bare host).
        index_php = path in ("", "index.php") or path.startswith("index.php/")
        if not index_php or not subpage:
            # Only Special:OAuth is played here; everything else is the real wiki's.
            target = wiki.url + request.full_path.rstrip("?")
            return Response("", 307, headers={"Location": target})
        fmt = request.values.get("format", "raw")
        try:
            if subpage == "initiate":
                return _initiate(state, request, fmt)
            if subpage == "token":
                return _token(state, request, fmt)
            if subpage == "identify":
                fmt = "json"  # the extension answers identify in JSON whatever was asked
                return _identify(state, request)
            if subpage in ("authorize", "authenticate"):
                fmt = "html"
                return _authorization(state, request, subpage)
            if subpage == "verified":
                fmt = "html"
                verifier = html.escape(request.values.get("oauth_verifier", ""))
                return _page(
                    "OAuth",
                    "<p>The application is now allowed to access MediaWiki on your behalf.</p>"
                    "<p>To complete the process, provide this verification value to the "
                    f"application: <b>{verifier}</b></p>",
                )
            fmt = request.values.get("format", "html")
            return _error(_Failure("mwoauth-bad-request-invalid-action"), fmt)
        except _Failure as failure:
            return _error(failure, fmt)

    return app


def provider_consumers(app: Flask) -> dict[str, Consumer]:
    """The consumers registered with an app from make_provider_app (key -> Consumer)."""
    state: _ProviderState = app.extensions[_STATE_KEY]
    return state.consumers


class _QuietHandler(WSGIRequestHandler):
    """Request lines at DEBUG on this module's logger instead of werkzeug's INFO lines."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, self.path, code)


class OAuthProvider(ThreadedServer):
    """Serves make_provider_app on a free loopback port in a daemon thread.

    Use ``index_url`` as mwoauth's ``mw_uri``; ``url`` is also the JWT issuer.
    """

    def __init__(
        self,
        wiki: LocalWiki,
        consumers: Iterable[Consumer],
        *,
        iss_override: str | None = None,
        numeric_sub: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.wiki = wiki
        self.host = host
        self.app = make_provider_app(
            wiki, consumers, iss_override=iss_override, numeric_sub=numeric_sub
        )
        self._port = port
        super().__init__()

    _thread_name = "OAuth provider"

    def _not_running(self) -> LocalWikiError:
        return OAuthProviderError("the OAuth provider is not running")

    @property
    def url(self) -> str:
        """The provider's origin, ``http://127.0.0.1:PORT`` (the JWT ``iss``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def index_url(self) -> str:
        """The URL to configure as the wiki's OAuth URL (mwoauth's ``mw_uri``)."""
        return f"{self.url}/index.php"

    @property
    def consumers(self) -> dict[str, Consumer]:
        return provider_consumers(self.app)

    def add_consumer(self, consumer: Consumer) -> None:
        self.consumers[consumer.key] = consumer

    def _bind(self) -> BaseWSGIServer:
        try:
            server = make_server(
                self.host, self._port, self.app, threaded=True, request_handler=_QuietHandler
            )
        except OSError as exc:
            raise OAuthProviderError(f"cannot listen on {self.host}:{self._port}: {exc}") from exc
        state: _ProviderState = self.app.extensions[_STATE_KEY]
        state.origin = f"http://{self.host}:{server.server_port}"
        log.info("OAuth provider for %s serving on %s", self.wiki.name, state.origin)
        return server


# -- a user's side of the authorization, for tests ------------------------------------------


@dataclass(frozen=True)
class AuthorizeForm:
    """The authorization form of Special:OAuth/authorize or /authenticate, as served."""

    action: str
    fields: dict[str, str]
    buttons: dict[str, str]

    def data(self, username: str, button: str) -> dict[str, str]:
        """What a browser posts when ``button`` (``accept`` or ``cancel``) is pressed."""
        return {**self.fields, "username": username, button: self.buttons[button]}


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, str] = {}
        self.errors: list[str] = []
        self._in_form = False
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form" and attr.get("id") == "mw-mwoauth-authorize-form":
            self._in_form = True
            self.action = attr.get("action", "")
        elif tag == "div" and "errorbox" in attr.get("class", "").split():
            self._in_error = True
        elif tag == "input" and self._in_form and attr.get("name"):
            kind = attr.get("type", "text").lower()
            if kind == "submit":
                self.buttons[attr["name"]] = attr.get("value", "")
            else:
                self.fields[attr["name"]] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "div":
            self._in_error = False

    def handle_data(self, data: str) -> None:
        if self._in_error and data.strip():
            self.errors.append(data.strip())


def _parse(page: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    return parser


def _is_oauth_page(url: str) -> bool:
    parts = urlsplit(url)
    title = dict(parse_qsl(parts.query)).get("title", "")
    if not title and parts.path.startswith("/index.php/"):
        title = parts.path[len("/index.php/") :]
    return _oauth_subpage(title.replace("_", " ")) is not None


def fetch_authorize_form(
    session: requests.Session, authorize_url: str, username: str | None = None
) -> AuthorizeForm | str:
    """GET the authorization page; the form, or the callback URL when the page skipped it.

    ``username`` given here plays a login session (``authenticate`` skips the form for a user
    who already allowed an authentication-only consumer, as the real page does).
    """
    url = authorize_url
    if username:
        url = _append_query(url, {"username": username})
    for _ in range(5):
        resp = session.get(url, allow_redirects=False, timeout=30)
        if not resp.is_redirect:
            break
        location = urljoin(url, resp.headers["Location"])
        if not _is_oauth_page(location):
            return location
        url = location
    if resp.status_code != 200:
        raise OAuthProviderError(f"GET {url}: HTTP {resp.status_code}")
    parser = _parse(resp.text)
    if parser.action is None:
        detail = " ".join(parser.errors) or resp.text[:300]
        raise OAuthProviderError(f"no authorization form at {url}: {detail}")
    return AuthorizeForm(urljoin(url, parser.action), parser.fields, parser.buttons)


def authorize_with_requests(session: requests.Session, authorize_url: str, username: str) -> str:
    """Allow the consumer as ``username`` ("click Allow"); return the callback URL reached.

    ``authorize_url`` is what mwoauth's initiate() returned. The callback URL is not fetched:
    its query string is what the consumer passes to mwoauth's complete().
    """
    form = fetch_authorize_form(session, authorize_url, username)
    if isinstance(form, str):
        return form
    resp = session.post(
        form.action, data=form.data(username, "accept"), allow_redirects=False, timeout=30
    )
    if resp.is_redirect:
        return urljoin(form.action, resp.headers["Location"])
    parser = _parse(resp.text)
    detail = " ".join(parser.errors) or resp.text[:300]
    raise OAuthProviderError(f"authorization as {username!r} failed: {detail}")


__all__ = [
    "AUTH_ONLY_GRANTS",
    "JWT_LIFETIME",
    "AuthorizeForm",
    "Consumer",
    "OAuthProvider",
    "OAuthProviderError",
    "authorize_with_requests",
    "fetch_authorize_form",
    "identity_claims",
    "make_provider_app",
    "provider_consumers",
]
