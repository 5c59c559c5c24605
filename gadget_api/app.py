"""The app factory: configuration, store, blueprints, CORS and JSON error handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from bot.store import Store, StoreError
from gadget_api import api, cors, oauth
from gadget_api.config import ApiConfig, config_from_mapping, load_config
from gadget_api.context import EXTENSION, Services, services
from gadget_api.errors import ApiError, error_body
from gadget_api.programs import WikiReader

log = logging.getLogger(__name__)

#: Stable codes for the HTTP errors Werkzeug raises before a view runs.
_HTTP_CODES = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "body-too-large",
    415: "unsupported-media-type",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    config: ApiConfig | Mapping[str, Any] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    """Build the app; ``config`` defaults to the file named by ``PROGRAMS_API_CONFIG``.

    ``clock`` (aware UTC datetimes) lets tests move time forward.
    """
    if config is None:
        settings = load_config()
    elif isinstance(config, ApiConfig):
        settings = config
    else:
        settings = config_from_mapping(config)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_NAME="programs_api_session",
        SESSION_COOKIE_SAMESITE="Lax",  # sent on the wiki's top-level redirect back to us
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=oauth.HANDSHAKE_SECONDS,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # A title may hold "//" and must not be redirected elsewhere (Werkzeug merges by default).
    app.url_map.merge_slashes = False
    app.extensions[EXTENSION] = Services(
        config=settings,
        store=_open_store(settings.store_url),
        reader=WikiReader(settings.user_agent, settings.wiki_timeout),
        clock=clock or _utcnow,
    )
    cors.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(oauth.bp)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.after_request(_no_store)
    _register_error_handlers(app)
    return app


def _open_store(url: str) -> Store:
    """The store, its schema made or brought up to date first: by one process at a time
    (the others, gunicorn's other workers included, wait for it), never silently."""
    store = Store(url, migrate=False)
    applied = store.migrate()
    if applied:
        log.warning(
            "the store %s lacked migrations %s: applied them",
            Store.shown_url(url),
            ", ".join(applied),
        )
    return store


def _healthz() -> tuple[dict[str, Any], int]:
    """200 when the store answers; the wikis are not checked (the API copes without them)."""
    try:
        with services().store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.error("health check: the store does not answer: %s", error)
        return error_body("store-unavailable", "The database does not answer."), 503
    return {"status": "ok"}, 200


def _no_store(response: Response) -> Response:
    # Answers depend on the bearer token and change with every join: never cache them.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _json_error(status: int, code: str, message: str, headers: Mapping[str, str]) -> Response:
    response = jsonify(error_body(code, message))
    response.status_code = status
    for name, value in headers.items():
        response.headers[name] = value
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return _json_error(error.status, error.code, error.message, error.headers)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = _HTTP_CODES.get(status, f"http-{status}")
        message = error.description or error.name
        if status == 413:
            limit = services().config.max_body_bytes
            message = f"The body is larger than {limit} bytes."
        # Keep what Werkzeug says in headers (Allow on 405), not its HTML content type.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return _json_error(status, code, message, headers)

    @app.errorhandler(StoreError)
    @app.errorhandler(SQLAlchemyError)
    def store_error(error: Exception) -> Response:
        log.exception("the store failed")
        return _json_error(
            503,
            "store-unavailable",
            "The database is not available; nothing was recorded. Try again later.",
            {"Retry-After": "30"},
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error")
        return _json_error(500, "internal-error", "Something went wrong on our side.", {})
