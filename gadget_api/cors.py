"""CORS for the configured wikis' exact origins only, without credentials.

The gadget calls the API from the wiki's pages with a bearer token (never cookies), so
no credentials mode is offered. A request whose Origin is not a configured wiki is
refused outright rather than merely left without CORS headers: the browser would hide
the answer, but the action (a join) would still have been done. Requests without an
Origin (server-side tools, curl) are allowed. The OAuth popup pages are top-level
navigations and are left out.
"""

from __future__ import annotations

from flask import Flask, Response, request

from gadget_api.context import services
from gadget_api.errors import ApiError

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
EXPOSED_HEADERS = "Retry-After, WWW-Authenticate"
PREFLIGHT_MAX_AGE = "600"


def _applies() -> bool:
    return not request.path.startswith("/oauth/")


def _check_origin() -> Response | None:
    if not _applies():
        return None
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if origin not in services().config.origins:
        raise ApiError(
            403,
            "origin-not-allowed",
            f"Requests from {origin!r} are not allowed: only the configured wikis may call "
            "this API from a browser.",
        )
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response
    return None


def _add_headers(response: Response) -> Response:
    if not _applies():
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin is not None and origin in services().config.origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def init_app(app: Flask) -> None:
    app.before_request(_check_origin)
    app.after_request(_add_headers)
