"""The OpenAPI 3 document of ``/api/v1``, built from the configuration (served, never a file).

The ``wiki`` parameter lists the configured hosts, so clients and property-based tests
see exactly which wikis the API serves.
"""

from __future__ import annotations

from typing import Any

from bot.core.goals import GOAL_FIGURES
from bot.core.grant_report import GRANT_METRICS, MISSING
from bot.core.pageformat import OUTCOME_FIELDS, ROW_STATS
from bot.core.titles import MAX_TITLE_WITH_NAMESPACE
from gadget_api.config import ApiConfig
from gadget_api.page_report import CAMPAIGN_TABLES, LIVE_TABLES, PAGE_TABLES

VERSION = "1.0.0"

_NULLABLE_STRING = {"type": "string", "nullable": True}
_NULLABLE_INT = {"type": "integer", "nullable": True}
_MOMENT = {
    "type": "string",
    "nullable": True,
    "description": "UTC time, e.g. 2026-11-01T00:00:00Z",
}
_STATES = ["none", "on-page", "recorded", "applied", "failed"]
#: A report's formats: its tables as JSON or one as CSV, or the grant report (JSON).
REPORT_FORMATS = ("json", "csv", "grant")
_GOALS = {
    "type": "array",
    "nullable": True,
    "description": (
        "The goals of goals= in {{Program details}}, in the order written, with what the "
        "figures reached as the bot last wrote them on the page (the figures of its "
        "{{Program goal}} rows); [] for a program without goals, null when read from a "
        "snapshot. A part of goals= that is no goal is left out."
    ),
    "items": {
        "type": "object",
        "required": ["figure", "target", "reached"],
        "additionalProperties": False,
        "properties": {
            "figure": {"type": "string", "enum": list(GOAL_FIGURES)},
            "target": {"type": "integer", "minimum": 1},
            "reached": {
                "type": "integer",
                "nullable": True,
                "description": "null while not known (before the bot's first run; "
                "pageviews without a pageview service)",
            },
        },
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Bad input (bad-title, bad-json, not-an-object, unknown-field, bad-parameter)",
        401: "missing-token or invalid-token (unknown or expired)",
        403: "origin-not-allowed, wrong-wiki or user-blocked",
        404: "unknown-wiki or not-a-program",
        409: "registration-closed, program-ended, not-joined or removed-by-organizer",
        413: "body-too-large",
        429: "rate-limited (see Retry-After)",
        503: "wiki-unavailable or store-unavailable",
    }
    answers: dict[str, Any] = {}
    for status in statuses:
        answer = _json(_ref("Error"), text[status])
        if status == 429:
            answer["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}
            }
        answers[str(status)] = answer
    return answers


def _recorded(already: str) -> dict[str, Any]:
    """The answers of a join or a leave."""
    return {
        "200": _json(_ref("JoinAnswer"), already),
        "202": _json(_ref("JoinAnswer"), "Recorded"),
        **_errors(*_POST_ERRORS),
    }


def _no_body() -> dict[str, Any]:
    return {
        "required": False,
        "description": "No body, or an empty JSON object.",
        "content": {
            "application/json": {
                "schema": {"type": "object", "additionalProperties": False, "maxProperties": 0}
            }
        },
    }


def _join_body() -> dict[str, Any]:
    return {
        "required": False,
        "description": (
            'No body, an empty JSON object, or {"private": true} to join privately: the '
            "name is kept only by the API, never written on the page, and the contributions "
            "count only in the program's totals."
        ),
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"private": {"type": "boolean"}},
                }
            }
        },
    }


_BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _signed_in(
    operation_id: str,
    summary: str,
    parameters: list[dict[str, Any]],
    responses: dict[str, Any],
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An operation that needs the bearer token."""
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "security": _BEARER,
    }
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    operation["responses"] = responses
    return operation


def _report_params(
    program_params: list[dict[str, Any]], tables: tuple[str, ...], description: str
) -> list[dict[str, Any]]:
    """A report's path parameters and its ``format`` and ``table``."""
    return [
        *program_params,
        {
            "name": "format",
            "in": "query",
            "description": (
                "json (default): the tables; csv: one table; grant: the figures a Wikimedia "
                "grant report asks for (GrantReport), from the bot's latest refresh"
            ),
            "schema": {"type": "string", "enum": list(REPORT_FORMATS)},
        },
        {
            "name": "table",
            "in": "query",
            "description": description,
            "schema": {"type": "string", "enum": list(tables)},
        },
    ]


_READ_ERRORS = (400, 403, 404, 503)
_SIGNED_IN_ERRORS = (400, 401, 403, 404, 503)
_POST_ERRORS = (400, 401, 403, 404, 409, 413, 429, 503)


def _schemas() -> dict[str, Any]:
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    }
    figures = dict.fromkeys(ROW_STATS, _NULLABLE_INT)
    outcome_figures = dict.fromkeys(OUTCOME_FIELDS, _NULLABLE_INT)
    return {
        "Error": error,
        "Me": {
            "type": "object",
            "required": ["username", "wiki", "blocked", "expires"],
            "properties": {
                "username": {"type": "string"},
                "wiki": {"type": "string"},
                "user_id": {"type": "integer"},
                "blocked": {"type": "boolean"},
                "registered": _MOMENT,
                "editcount": {"type": "integer"},
                "expires": {"type": "string"},
            },
        },
        "Summary": {
            "type": "object",
            "required": [
                "wiki",
                "title",
                "name",
                "registration",
                "start",
                "end",
                "ended",
                "participant_count",
                "goals",
            ],
            "properties": {
                "wiki": {"type": "string"},
                "title": {"type": "string", "description": "as the wiki normalized it"},
                "name": {"type": "string"},
                "registration": {"type": "string", "enum": ["open", "closed"]},
                "start": _MOMENT,
                "end": _MOMENT,
                "ended": {"type": "boolean"},
                "participant_count": {"type": "integer", "minimum": 0},
                "from_snapshot": {
                    "type": "boolean",
                    "description": "the wiki did not answer; facts from its last read",
                },
                "goals": _GOALS,
                "joined": {"type": "boolean", "description": "only with a bearer token"},
                "join_state": {"type": "string", "enum": _STATES},
            },
        },
        "JoinAnswer": {
            "type": "object",
            "required": ["state", "already"],
            "properties": {
                "state": {"type": "string", "enum": _STATES},
                "already": {"type": "boolean"},
                "request": _NULLABLE_INT,
            },
        },
        "JoinState": {
            "type": "object",
            "required": ["state", "joined"],
            "properties": {
                "state": {"type": "string", "enum": _STATES},
                "joined": {"type": "boolean"},
                "action": {"type": "string", "nullable": True, "enum": ["join", "leave", None]},
                "request": _NULLABLE_INT,
                "reason": _NULLABLE_STRING,
                "revid": _NULLABLE_INT,
                "updated": _MOMENT,
            },
        },
        "RefreshAnswer": {
            "type": "object",
            "required": ["state", "request"],
            "properties": {
                "state": {"type": "string", "enum": ["queued"]},
                "request": {"type": "integer"},
            },
        },
        "GrantReport": {
            "type": "object",
            "description": "A grant report (docs/metrics.md#grant-report): a row per metric",
            "required": ["wiki", "title", "computed", "format", "kind", "projects", "metrics"],
            "properties": {
                "wiki": {"type": "string"},
                "title": {"type": "string"},
                "computed": _NULLABLE_STRING,
                "format": {"type": "string", "enum": ["grant"]},
                "kind": {"type": "string", "enum": ["program", "campaign"]},
                "projects": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "the wikis (hosts) of the per-project breakdown",
                },
                "metrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "label", "value", "missing", "per_project"],
                        "properties": {
                            "key": {"type": "string", "enum": list(GRANT_METRICS)},
                            "label": {"type": "string"},
                            "value": {
                                "type": "integer",
                                "nullable": True,
                                "description": "null when not known; missing says why",
                            },
                            "missing": {
                                "type": "string",
                                "nullable": True,
                                "enum": [*MISSING, None],
                            },
                            "per_project": {
                                "type": "object",
                                "nullable": True,
                                "additionalProperties": {"type": "integer"},
                            },
                        },
                    },
                },
            },
        },
        "Report": {
            "type": "object",
            "required": ["wiki", "title", "participants", "outcomes"],
            "properties": {
                "wiki": {"type": "string"},
                "title": {"type": "string"},
                "name": {"type": "string"},
                "start": _MOMENT,
                "end": _MOMENT,
                "computed": _NULLABLE_STRING,
                "revid": _NULLABLE_INT,
                "tables": {
                    "description": (
                        "The report's tables from the bot's latest refresh: summary, "
                        "participants (per-wiki columns, retention), articles, uploads; "
                        "null before the scheduler refreshed the program."
                    ),
                    "type": "object",
                    "nullable": True,
                },
                "live": {
                    "description": (
                        "The figures of the bot's latest refresh, newer than the page when "
                        "its edit is waiting for the page's edit cadence; null before the "
                        "scheduler refreshed the program."
                    ),
                    "type": "object",
                    "nullable": True,
                    "properties": {
                        "computed": {"type": "string"},
                        "participants": {"type": "integer"},
                        "per_participant": {"type": "object"},
                        "per_wiki": {"type": "object"},
                        "total": {"type": "object"},
                        "deleted_articles": {"type": "array"},
                    },
                },
                "participants": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["username"],
                        "properties": {
                            "username": {"type": "string"},
                            "joined": _NULLABLE_STRING,
                            **figures,
                        },
                    },
                },
                "outcomes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["wiki"],
                        "properties": {"wiki": {"type": "string"}, **outcome_figures},
                    },
                },
            },
        },
    }


def document(config: ApiConfig) -> dict[str, Any]:
    """The OpenAPI document for this configuration."""
    hosts = [wiki.host for wiki in config.wikis]
    wiki_param = {
        "name": "wiki",
        "in": "path",
        "required": True,
        "description": "The program page's wiki, as a host (en.wikipedia.org)",
        "schema": {"type": "string", "enum": hosts},
        "example": hosts[0],
    }
    title_param = {
        "name": "title",
        "in": "path",
        "required": True,
        "description": "The program page's full title, with namespace (slashes allowed)",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE_WITH_NAMESPACE},
        "example": "Project:Test program",
    }
    program_params = [wiki_param, title_param]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "programs-bot Join API",
            "version": VERSION,
            "description": (
                "Join wiki programs with one click. Sign in through /oauth/start?wiki=HOST "
                "(a popup that posts a bearer token to the wiki's page), then call this API "
                "with 'Authorization: Bearer <token>'. Every error is "
                '{"error": {"code": "...", "message": "..."}}.'
            ),
        },
        "servers": [{"url": f"{config.public_url}/api/v1"}],
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": {
            "/me": {
                "get": _signed_in(
                    "me",
                    "Who the bearer token identifies",
                    [],
                    {"200": _json(_ref("Me"), "The signed-in user"), **_errors(401, 403, 503)},
                )
            },
            "/programs/{wiki}/{title}": {
                "get": {
                    "operationId": "programSummary",
                    "summary": "A program's public summary (and, signed in, the caller's state)",
                    "security": [{}, {"bearerAuth": []}],
                    "parameters": program_params,
                    "responses": {
                        "200": _json(_ref("Summary"), "The program"),
                        **_errors(401, *_READ_ERRORS),
                    },
                }
            },
            "/programs/{wiki}/{title}/join": {
                "get": _signed_in(
                    "joinState",
                    "The caller's join: none, on-page, recorded, applied or failed",
                    program_params,
                    {
                        "200": _json(_ref("JoinState"), "The caller's state"),
                        **_errors(*_SIGNED_IN_ERRORS),
                    },
                ),
                "post": _signed_in(
                    "join",
                    "Join: recorded now, written to the page by the bot soon",
                    program_params,
                    _recorded("Already joined; nothing changed"),
                    _join_body(),
                ),
            },
            "/programs/{wiki}/{title}/leave": {
                "post": _signed_in(
                    "leave",
                    "Leave a program joined with the Join button",
                    program_params,
                    _recorded("Already left; nothing changed"),
                    _no_body(),
                )
            },
            "/programs/{wiki}/{title}/refresh": {
                "post": _signed_in(
                    "refresh",
                    "Ask for a statistics update now (rate limited)",
                    program_params,
                    {"202": _json(_ref("RefreshAnswer"), "Queued"), **_errors(*_POST_ERRORS)},
                    _no_body(),
                )
            },
            "/campaigns/{wiki}/{title}/report": {
                "get": {
                    "operationId": "campaignReport",
                    "summary": (
                        "A campaign's tables from the bot's latest refresh of it: a row per "
                        "program and the total counting each participant and article once"
                    ),
                    "parameters": _report_params(
                        program_params, CAMPAIGN_TABLES, "Which table the CSV holds"
                    ),
                    "responses": {
                        "200": {
                            "description": "The campaign's report",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"type": "object", "required": ["tables"]},
                                            _ref("GrantReport"),
                                        ]
                                    }
                                },
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 403, 404, 503),
                    },
                }
            },
            "/programs/{wiki}/{title}/report": {
                "get": {
                    "operationId": "report",
                    "summary": "The figures as written on the page, as JSON or CSV",
                    "parameters": _report_params(
                        program_params,
                        PAGE_TABLES + LIVE_TABLES,
                        "Which table the CSV holds: participants and outcomes as the page has "
                        "them; summary, participants-by-wiki (per-wiki columns and retention), "
                        "articles (pageviews, deleted flag) and uploads from the bot's latest "
                        "refresh",
                    ),
                    "responses": {
                        "200": {
                            "description": "The report",
                            "content": {
                                "application/json": {
                                    "schema": {"oneOf": [_ref("Report"), _ref("GrantReport")]}
                                },
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(*_READ_ERRORS),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        # Every path of the API refuses a browser origin it does not serve.
                        **_errors(403),
                    },
                }
            },
        },
    }
