"""The JSON API (``/api/v1``): who am I, program summaries, join, leave, refresh, reports.

Views are thin: authenticate, read the body, load the program, run the rules
(gadget_api.rules), and only then write to the store, so a refused request writes nothing.
Joins and leaves are only recorded here; the worker writes them onto the page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, request

from bot.core.dates import format_moment
from bot.core.exports import columns_of
from bot.core.grant_report import grant_json, grant_report
from bot.core.messages import Messages
from bot.core.program_page import current_outcomes_params
from bot.core.titles import ascii_slug, file_slug, normalize_title
from bot.store import JOIN, LEAVE, ApiToken, JoinRequest
from gadget_api import rules
from gadget_api.auth import authenticate
from gadget_api.config import WikiConfig
from gadget_api.context import Services, services
from gadget_api.errors import ApiError
from gadget_api.limits import lease_name, one_at_a_time
from gadget_api.openapi import REPORT_FORMATS, document
from gadget_api.page_report import (
    CAMPAIGN_TABLES,
    LIVE_TABLES,
    OUTCOME_COLUMNS,
    PAGE_TABLES,
    PARTICIPANT_COLUMNS,
    build_report,
    figure,
    goal_progress,
    to_csv,
)
from gadget_api.programs import Program, load_program

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PROGRAM = "/programs/<wiki>/<path:title>"


# -- helpers -----------------------------------------------------------------------------------


def _wiki(host: str) -> WikiConfig:
    wiki = services().config.wiki(host)
    if wiki is None:
        raise ApiError(404, "unknown-wiki", f"{host!r} is not a wiki this API serves.")
    return wiki


def _fields(allowed: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The JSON object body (no body: no fields); only ``allowed`` fields are accepted."""
    raw = request.get_data(cache=True)  # past MAX_CONTENT_LENGTH: 413 body-too-large
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise ApiError(400, "bad-json", f"The body is not valid JSON: {error}.") from error
    if not isinstance(data, dict):
        raise ApiError(400, "not-an-object", "The body must be a JSON object (or empty).")
    unknown = sorted(set(data) - allowed)
    if unknown:
        takes = f"it takes only {', '.join(sorted(allowed))}" if allowed else "it takes none"
        raise ApiError(400, "unknown-field", f"Unknown field {unknown[0][:100]!r}: {takes}.")
    return data


def _no_fields() -> None:
    """Leave and refresh take no fields: no body, or an empty JSON object."""
    _fields()


def _moment(value: Any) -> str | None:
    return format_moment(value) if value is not None else None


def _request_fields(join: JoinRequest | None) -> dict[str, Any]:
    return {
        "action": join.action if join else None,
        "request": join.id if join else None,
        "reason": join.reason if join else None,
        "revid": join.revid if join else None,
        "updated": _moment(join.updated_at) if join else None,
    }


def _rate_limited(what: str, window: timedelta) -> ApiError:
    return ApiError(
        429,
        "rate-limited",
        f"Too many {what}; try again later.",
        headers={"Retry-After": str(int(window.total_seconds()))},
    )


def _signed_in(s: Services) -> ApiToken:
    token = authenticate(s.store, s.now())
    assert token is not None  # required=True raises instead
    return token


def _program_for(
    s: Services, token: ApiToken, wiki: str, title: str, *, with_blocks: bool = False
) -> tuple[WikiConfig, Program]:
    """The program a signed-in call is about, checked in the order their errors win."""
    config = _wiki(wiki)
    rules.check_token_wiki(token, config.host)
    username = token.username if with_blocks else None
    program = load_program(s.store, s.reader, config, title, s.now(), username=username)
    return config, program


def _check_join_rate(s: Services, wiki: str, username: str) -> None:
    minute = timedelta(minutes=1)
    made = s.store.count_join_requests(s.now() - minute, wiki=wiki, username=username)
    if made >= s.config.rate_limits.joins_per_user_per_minute:
        raise _rate_limited("joins and leaves in the last minute", minute)


def _joins_of(s: Services, wiki: str, username: str) -> AbstractContextManager[None]:
    """Counting a user's joins and leaves and recording one, one request at a time."""
    return one_at_a_time(s.store, wiki, lease_name("join", username), s.clock)


def _answer(join: JoinRequest | None, state: str, created: bool) -> tuple[dict[str, Any], int]:
    body = {"state": state, "already": not created, "request": join.id if join else None}
    return body, 202 if created else 200


# -- views ---------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> dict[str, Any]:
    return document(services().config)


@bp.get("/me")
def me() -> dict[str, Any]:
    token = _signed_in(services())
    return {
        "username": token.username,
        "wiki": token.wiki,
        "user_id": token.user_id,
        "blocked": token.blocked,
        "registered": _moment(token.registered),
        "editcount": token.editcount,
        "expires": _moment(token.expires_at),
    }


@bp.get(PROGRAM)
def summary(wiki: str, title: str) -> dict[str, Any]:
    s = services()
    now = s.now()
    token = authenticate(s.store, now, required=False)
    config = _wiki(wiki)
    if token is not None:
        rules.check_token_wiki(token, config.host)
    program = load_program(s.store, s.reader, config, title, now)
    body: dict[str, Any] = {
        "wiki": program.wiki,
        "title": program.title,
        "name": program.name,
        "registration": program.registration,
        "start": _moment(program.start),
        "end": _moment(program.end),
        "ended": program.ended(now),
        "participant_count": len(program.participants),
        "from_snapshot": program.from_snapshot,
        "goals": goal_progress(program),
    }
    if token is not None:
        latest = s.store.latest_join(config.host, program.title, token.username)
        status = rules.caller_status(program, token.username, latest)
        body["joined"] = status.joined
        body["join_state"] = status.state
    return body


@bp.post(f"{PROGRAM}/join")
def join(wiki: str, title: str) -> tuple[dict[str, Any], int]:
    s = services()
    token = _signed_in(s)
    body = _fields(frozenset({"private"}))
    private = body.get("private", False)
    if not isinstance(private, bool):
        raise ApiError(400, "bad-parameter", "'private' must be true or false.")
    config, program = _program_for(s, token, wiki, title, with_blocks=True)
    rules.check_not_blocked(token, program)
    latest = s.store.latest_join(config.host, program.title, token.username)
    status = rules.caller_status(program, token.username, latest)
    if status.joined:
        return _answer(status.request, status.state, created=False)
    if rules.removed_by_organizer(status):
        raise ApiError(
            409,
            "removed-by-organizer",
            f"You joined {program.name} before and an organizer has removed you from its "
            "participant list since; ask them to add you again.",
        )
    rules.check_registration_open(program)
    rules.check_not_ended(program, s.now())
    with _joins_of(s, config.host, token.username):
        _check_join_rate(s, config.host, token.username)
        joined, created = s.store.record_join(
            config.host, program.title, token.username, JOIN, s.now(), private=private
        )
    if created:
        log.info("join #%d: %s to %s on %s", joined.id, token.username, program.title, wiki)
    # Not created: the same join arrived at the same moment through another request.
    return _answer(joined, joined.state, created)


@bp.post(f"{PROGRAM}/leave")
def leave(wiki: str, title: str) -> tuple[dict[str, Any], int]:
    s = services()
    token = _signed_in(s)
    _no_fields()
    config, program = _program_for(s, token, wiki, title)
    rules.check_not_ended(program, s.now())
    latest = s.store.latest_join(config.host, program.title, token.username)
    if rules.already_left(latest):
        assert latest is not None
        return _answer(latest, latest.state, created=False)
    if not rules.may_leave(latest):
        by_hand = program.lists(token.username)
        raise ApiError(
            409,
            "not-joined",
            f"You have not joined {program.name} with the Join button"
            + (" (your row was added by hand: ask an organizer to remove it)." if by_hand else "."),
        )
    with _joins_of(s, config.host, token.username):
        _check_join_rate(s, config.host, token.username)
        left, created = s.store.record_join(
            config.host, program.title, token.username, LEAVE, s.now()
        )
    if created:
        log.info("leave #%d: %s from %s on %s", left.id, token.username, program.title, wiki)
    return _answer(left, left.state, created)


@bp.get(f"{PROGRAM}/join")
def join_state(wiki: str, title: str) -> dict[str, Any]:
    s = services()
    token = _signed_in(s)
    config, program = _program_for(s, token, wiki, title)
    latest = s.store.latest_join(config.host, program.title, token.username)
    status = rules.caller_status(program, token.username, latest)
    return {"state": status.state, "joined": status.joined, **_request_fields(latest)}


@bp.post(f"{PROGRAM}/refresh")
def refresh(wiki: str, title: str) -> tuple[dict[str, Any], int]:
    s = services()
    token = _signed_in(s)
    _no_fields()
    config, program = _program_for(s, token, wiki, title)
    limits = s.config.rate_limits
    hour = timedelta(hours=1)
    # Both limits at once (per user, per program): one refresh request of a wiki at a time.
    with one_at_a_time(s.store, config.host, lease_name("refresh", ""), s.clock):
        now = s.now()
        mine = s.store.count_refresh_requests(now - hour, wiki=config.host, username=token.username)
        if mine >= limits.refresh_per_user_per_hour:
            raise _rate_limited("statistics updates asked by you in the last hour", hour)
        theirs = s.store.count_refresh_requests(now - hour, wiki=config.host, title=program.title)
        if theirs >= limits.refresh_per_program_per_hour:
            raise _rate_limited("statistics updates of this program in the last hour", hour)
        asked = s.store.add_refresh_request(config.host, program.title, token.username, now)
    return {"state": "queued", "request": asked.id}, 202


CSV_TYPE = "text/csv; charset=utf-8"


@bp.get(f"{PROGRAM}/report")
def report(wiki: str, title: str) -> Response | dict[str, Any]:
    s = services()
    fmt, table = _report_args(PAGE_TABLES + LIVE_TABLES, "participants")
    config = _wiki(wiki)
    program = load_program(s.store, s.reader, config, title, s.now(), need_text=True)
    data = build_report(program)
    # The scheduler's latest figures: fresher than the page between polite edits.
    entry = s.store.schedule_entry(config.host, program.title)
    live = json.loads(entry.live_report) if entry and entry.live_report else None
    tables = live.pop("tables", None) if live else None
    if fmt == "grant":
        if not tables:
            raise ApiError(404, "not-found", "The bot has not refreshed this program yet.")
        total = tables["summary"][-1]
        block = current_outcomes_params(program.text or "") or {}
        for name in ("new_editors", "file_usage"):
            # Tables of an incremental update have none: the last full count's are on the page.
            written = figure(block.get(name) or "")
            if name not in total and written is not None:
                total[name] = written
        return _grant(config.host, program.title, live["computed"] if live else None, tables)
    if fmt == "json":
        data["live"] = live
        data["tables"] = tables
        return data
    if table in LIVE_TABLES:
        key = "participants" if table == "participants-by-wiki" else table
        if not tables or key not in tables:
            raise ApiError(
                404, "not-found", "The bot has not refreshed this program yet: no such table."
            )
        return _csv(program.title, table, tables[key], columns_of(tables[key], key))
    columns = PARTICIPANT_COLUMNS if table == "participants" else OUTCOME_COLUMNS
    return _csv(program.title, table, data[table], columns)


@bp.get("/campaigns/<wiki>/<path:title>/report")
def campaign_report(wiki: str, title: str) -> Response | dict[str, Any]:
    s = services()
    fmt, table = _report_args(CAMPAIGN_TABLES, "summary")
    config = _wiki(wiki)
    name = normalize_title(title)
    entry = s.store.schedule_entry(config.host, name)
    if entry is None or entry.kind != "campaign" or not entry.live_report:
        raise ApiError(
            404, "not-found", f"The bot has not refreshed a campaign page {name!r} on {wiki}."
        )
    data = json.loads(entry.live_report)
    if fmt == "grant":
        return _grant(config.host, name, data.get("computed"), data["tables"])
    if fmt == "json":
        return {"wiki": config.host, "title": name, **data}
    rows = data["tables"][table]
    return _csv(name, table, rows, columns_of(rows, table))


def _report_args(tables: Sequence[str], default: str) -> tuple[str, str]:
    """The format and the table a report request asks for (bad-parameter for others)."""
    fmt = request.args.get("format", "json")
    table = request.args.get("table", default)
    if fmt not in REPORT_FORMATS:
        raise ApiError(400, "bad-parameter", "'format' must be 'json', 'csv' or 'grant'.")
    if table not in tables:
        choices = ", ".join(repr(t) for t in tables)
        raise ApiError(400, "bad-parameter", f"'table' must be one of {choices}.")
    return fmt, table


def _grant(wiki: str, title: str, computed: str | None, tables: Any) -> dict[str, Any]:
    """The grant report of the stored report tables (labels in English, keys for others)."""
    rows = grant_json(grant_report(tables), Messages())
    return {"wiki": wiki, "title": title, "computed": computed, **rows}


def _csv(title: str, table: str, rows: Any, columns: Sequence[str]) -> Response:
    """A CSV download named after the page and the table (an ASCII name for old clients,
    the full one in ``filename*``)."""
    response = Response(to_csv(rows, columns), content_type=CSV_TYPE)
    ascii_name, full_name = f"{ascii_slug(title)}-{table}.csv", f"{file_slug(title)}-{table}.csv"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(full_name, safe='')}"
    )
    return response
