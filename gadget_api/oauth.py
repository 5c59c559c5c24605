"""Sign-in through the wiki's Special:OAuth (OAuth 1.0a: mwoauth, and handshake.py for the
two calls it cannot make as needed), in a popup.

``/oauth/start?wiki=HOST`` asks the wiki for a request token, keeps it in Flask's signed
session cookie (first-party: the popup is on the API's own origin) and sends the popup to
the wiki. The wiki sends it back to ``/oauth/callback`` (the consumer's registered
callback), where the handshake is completed, the user identified, and a short-lived API
token minted. The page then hands the token to the wiki page that opened the popup with
``postMessage`` to that wiki's exact origin, and closes. Third-party cookies are never
needed: the gadget sends the token as a bearer header.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

import jwt
import mwoauth
import requests
from flask import Blueprint, Response, redirect, request, session
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse

from bot.core.dates import format_moment
from gadget_api import handshake
from gadget_api.auth import mint_token, usable_username
from gadget_api.config import WikiConfig
from gadget_api.context import services
from gadget_api.errors import OAuthFlowError, OAuthNotInstalledError

log = logging.getLogger(__name__)

bp = Blueprint("oauth", __name__, url_prefix="/oauth")

SESSION_KEY = "oauth"
TOKEN_MESSAGE = "programs-bot-token"
ERROR_MESSAGE = "programs-bot-error"
#: A handshake left unfinished longer than this is not resumed.
HANDSHAKE_SECONDS = 15 * 60


def _provider_error(wiki: WikiConfig, step: str, error: Exception) -> OAuthFlowError:
    """502 when the wiki could not be reached, 501 when it has no Special:OAuth, 403 when
    it refused (bad verifier, ...)."""
    # One line, however long the wiki's answer (mwoauth puts whole pages in its errors).
    detail = " ".join(f"{type(error).__name__}: {error}".split())
    log.warning("OAuth %s with %s failed: %s", step, wiki.host, detail[:300])
    if isinstance(error, OAuthNotInstalledError):
        return OAuthFlowError(
            501,
            "oauth-not-installed",
            f"Signing in needs the OAuth extension (Extension:OAuth), which {wiki.host} "
            "does not have. The wiki's administrators must install it; trying again will "
            "not help.",
        )
    if isinstance(error, requests.RequestException):
        return OAuthFlowError(
            502,
            "oauth-unavailable",
            f"{wiki.host} could not be reached to sign you in. Try again later.",
        )
    return OAuthFlowError(
        403, "oauth-refused", f"{wiki.host} did not confirm the sign-in ({step}). Please try again."
    )


# What mwoauth lets through: its own errors, requests' and JWT's, and KeyError/TypeError/...
# when the provider answers with something that is not a token (mwoauth does not check).
_HANDSHAKE_ERRORS = (
    OAuthNotInstalledError,
    mwoauth.OAuthException,
    requests.RequestException,
    jwt.PyJWTError,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    IndexError,
)


@bp.get("/start")
def start() -> BaseResponse:
    host = request.args.get("wiki", "")
    wiki = services().config.wiki(host) if host else None
    if wiki is None:
        return _page_error(
            None, OAuthFlowError(404, "unknown-wiki", f"{host!r} is not a wiki this tool serves.")
        )
    try:
        authorize_url, request_token = handshake.initiate(wiki, services().config.user_agent)
    except _HANDSHAKE_ERRORS as error:
        return _page_error(wiki, _provider_error(wiki, "initiate", error))
    session.clear()
    session[SESSION_KEY] = {
        "wiki": wiki.host,
        "key": request_token.key,
        "secret": request_token.secret,
        "started": services().now().timestamp(),
    }
    return redirect(authorize_url, code=302)


@bp.get("/callback")
def callback() -> Response:
    state = session.pop(SESSION_KEY, None)
    wiki = services().config.wiki(state["wiki"]) if isinstance(state, dict) else None
    if wiki is None or not isinstance(state, dict):
        return _page_error(
            None,
            OAuthFlowError(
                400,
                "oauth-no-session",
                "No sign-in is in progress in this window (or cookies are off for this "
                "site). Close it and click the button on the wiki again.",
            ),
        )
    now = services().now()
    if now.timestamp() - float(state.get("started", 0)) > HANDSHAKE_SECONDS:
        return _page_error(
            wiki,
            OAuthFlowError(400, "oauth-expired", "The sign-in took too long. Please try again."),
        )
    if "oauth_verifier" not in request.args or "oauth_token" not in request.args:
        return _page_error(
            wiki, OAuthFlowError(403, "oauth-cancelled", "The sign-in was cancelled on the wiki.")
        )
    if request.args["oauth_token"] != state.get("key"):
        return _page_error(
            wiki,
            OAuthFlowError(
                400, "oauth-mismatch", "This answer belongs to another sign-in. Please try again."
            ),
        )
    user_agent = services().config.user_agent
    request_token = mwoauth.RequestToken(state["key"], state["secret"])
    try:
        access_token = mwoauth.complete(
            wiki.oauth_url,
            mwoauth.ConsumerToken(wiki.consumer_key, wiki.consumer_secret),
            request_token,
            request.query_string.decode(),
            user_agent=user_agent,
        )
    except _HANDSHAKE_ERRORS as error:
        return _page_error(wiki, _provider_error(wiki, "token", error))
    try:
        identity = handshake.identify(wiki, access_token, user_agent)
        username = str(identity["username"])
    except _HANDSHAKE_ERRORS as error:
        return _page_error(wiki, _provider_error(wiki, "identify", error))
    if not usable_username(username):
        # No wiki names a user so; a token for it would be refused at every call anyway.
        return _page_error(
            wiki, _provider_error(wiki, "identify", ValueError(f"username {username!r}"))
        )

    token, record = mint_token(
        services().store,
        wiki=wiki.host,
        username=username,
        user_id=_int(identity.get("sub")),
        blocked=bool(identity.get("blocked", False)),
        registered=_mw_time(identity.get("registered")),
        editcount=_int(identity.get("editcount")),
        now=now,
        ttl=services().config.token_ttl,
    )
    log.info("signed in %s on %s", username, wiki.host)
    message = {
        "type": TOKEN_MESSAGE,
        "token": token,
        "username": username,
        "wiki": wiki.host,
        "expires": format_moment(record.expires_at),
    }
    return _page(
        200,
        f"Signed in as {username}",
        f"You are signed in as {username}. You can close this window and go back to the wiki.",
        wiki,
        message,
    )


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _mw_time(value: object) -> datetime | None:
    """MediaWiki's ``20260101120000`` (or None for accounts from before it was recorded)."""
    try:
        return datetime.strptime(str(value), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


# -- the popup's last page ------------------------------------------------------------------


def script_json(value: object) -> str:
    """JSON that cannot end the script element or an HTML comment it sits in."""
    text = json.dumps(value, ensure_ascii=True)  # also escapes U+2028/U+2029
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text


def _page(
    status: int,
    title: str,
    text: str,
    wiki: WikiConfig | None,
    message: dict[str, Any] | None,
) -> Response:
    """A small page with a plain message; with an opener, it posts ``message`` and closes.

    The target origin is the wiki's configured one, never ``*``: another site that opened
    this popup would receive nothing.
    """
    nonce = secrets.token_urlsafe(16)
    script = ""
    if wiki is not None and message is not None:
        script = (
            f'<script nonce="{nonce}">(function () {{\n'
            f"  var message = {script_json(message)};\n"
            f"  var origin = {script_json(wiki.origin)};\n"
            "  if (window.opener && !window.opener.closed) {\n"
            "    window.opener.postMessage(message, origin);\n"
            "    window.close();\n"
            "  }\n"
            "}());</script>\n"
        )
    html = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width">'
        f"<title>{escape(title)}</title></head>\n"
        f"<body><p>{escape(text)}</p>\n{script}</body></html>\n"
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    # The page carries a live token: keep it out of caches and other sites' Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _page_error(wiki: WikiConfig | None, error: OAuthFlowError) -> Response:
    message = {"type": ERROR_MESSAGE, "code": error.code, "message": error.message}
    return _page(error.status, "Sign-in failed", error.message, wiki, message)
