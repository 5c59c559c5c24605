"""A stand-in for Extension:CampaignEvents' REST API (``rest.php/campaignevents/v0``), for
tests, on loopback, because the extension needs a newer MediaWiki than runs here.

Written against the extension's handlers as of its master branch (which needs MediaWiki 1.47)
(``GetEventRegistrationHandler``, ``ListParticipantsHandler``, ``EventIDParamTrait``) and
core's REST error bodies (``ResponseFactory``: ``errorKey``, ``messageTranslations``,
``httpCode``, ``httpReason``). Serves:

- ``GET /campaignevents/v0/event_registration/{id}``: 200 with the registration's fields;
  400 ``parameter-validation-failed`` for an id that is no integer; 404
  ``campaignevents-rest-event-not-found`` for no such event and
  ``campaignevents-rest-get-registration-deleted`` for a deleted one;
- ``GET .../event_registration/{id}/participants``: ``include_private`` required (400
  ``missingparam``), 20 participants a page ordered by ``participant_id``, paged by
  ``last_participant_id``, the end an empty page; a deleted event still lists (as the
  handler does: it checks existence only); ``include_private=true`` answers 403
  ``campaignevents-rest-list-participants-cannot-see-private`` unless the caller is one of
  the event's organizers or in a group with ``campaignevents-view-private-participants``
  (sysop). The caller is who the wiki says the request's cookies belong to
  (``meta=userinfo`` on the event's local wiki), as the extension sees its session.
  Hidden accounts come as ``"hidden": true`` without ``user_name``.

Faults for the bad-input tests: ``fault = "slow" | "malformed" | "error"``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from .threaded import ThreadedServer

BASE_PATH = "/campaignevents/v0"
RES_LIMIT = 20
VIEW_PRIVATE_GROUPS = ("sysop",)
_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}
_MESSAGES = {
    "campaignevents-rest-event-not-found": "There is no event with this ID.",
    "campaignevents-rest-get-registration-deleted": "This event registration was deleted.",
    "campaignevents-rest-list-participants-cannot-see-private": (
        "You are not authorized to view participants who registered privately for this event."
    ),
}


@dataclass
class Participant:
    name: str
    private: bool = False
    hidden: bool = False
    user_id: int = 0
    registered_at: str = "20261201120000"


@dataclass
class Event:
    event_id: int
    name: str
    event_page: str
    wiki_id: str = "my_wiki"
    organizers: tuple[str, ...] = ("Admin",)
    deleted: bool = False
    participants: list[Participant] = field(default_factory=list)


class _State:
    def __init__(self, api_url: str) -> None:
        self.lock = threading.Lock()
        self.api_url = api_url
        self.events: dict[int, Event] = {}
        self.fault: str | None = None
        self.delay = 0.0
        self.requests: list[str] = []
        #: Groups with ``campaignevents-view-private-participants`` (sysop by default).
        self.view_private_groups: tuple[str, ...] = VIEW_PRIVATE_GROUPS


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = body if isinstance(body, bytes) else _dumps(body)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the slow fault)

    def _error(self, status: int, key: str, extra: dict[str, Any] | None = None) -> None:
        body = {
            **(extra or {}),
            "errorKey": key,
            "messageTranslations": {"en": _MESSAGES.get(key, key)},
            "httpCode": status,
            "httpReason": _REASONS[status],
        }
        self._send(status, body)

    def _bad_param(self, name: str, value: Any, code: str) -> None:
        extra = {
            "error": "parameter-validation-failed",
            "name": name,
            "value": value,
            "failureCode": code,
            "failureData": None,
        }
        self._error(400, code, extra)

    def do_GET(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        with state.lock:
            state.requests.append(self.path)
            fault, delay = state.fault, state.delay
        if delay:
            time.sleep(delay)
        if fault == "error":
            self._send(500, b"<html><body>Internal error</body></html>")
            return
        if fault == "malformed":
            self._send(200, b'{"id": ')
            return
        segments = parts.path.removeprefix(BASE_PATH + "/").split("/")
        if not parts.path.startswith(BASE_PATH + "/") or segments[0] != "event_registration":
            self._error(404, "rest-no-match")
            return
        if len(segments) not in (2, 3) or (len(segments) == 3 and segments[2] != "participants"):
            self._error(404, "rest-no-match")
            return
        raw_id = segments[1]
        if not raw_id.isdigit():
            self._bad_param("id", raw_id, "badinteger")
            return
        with state.lock:
            event = state.events.get(int(raw_id))
        if event is None:
            self._error(404, "campaignevents-rest-event-not-found")
            return
        if len(segments) == 2:
            self._registration(event)
        else:
            self._participants(event, parse_qs(parts.query))

    def _registration(self, event: Event) -> None:
        if event.deleted:
            self._error(404, "campaignevents-rest-get-registration-deleted")
            return
        self._send(
            200,
            {
                "id": event.event_id,
                "name": event.name,
                "event_page": event.event_page,
                "event_page_wiki": event.wiki_id,
                "status": "open",
                "timezone": "UTC",
                "start_time": "20261201000000",
                "end_time": "20261231235959",
                "types": ["other"],
                "wikis": ["*"],
                "topics": [],
                "online_meeting": True,
                "inperson_meeting": False,
                "meeting_country_code": None,
                "meeting_address": None,
                "tracks_contributions": True,
                "tracking_tools": [],
                "is_test_event": False,
                "questions": [],
                "meeting_url": None,
                "chat_url": None,
            },
        )

    def _caller_may_see_private(self, event: Event) -> bool:
        cookie = self.headers.get("Cookie", "")
        if not cookie:
            return False
        answer = requests.get(
            self.server.state.api_url,
            params={
                "action": "query",
                "meta": "userinfo",
                "uiprop": "groups",
                "format": "json",
                "formatversion": "2",
            },
            headers={"Cookie": cookie},
            timeout=30,
        ).json()
        info = answer.get("query", {}).get("userinfo", {})
        if info.get("anon"):
            return False
        groups = set(info.get("groups", []))
        allowed = set(self.server.state.view_private_groups)
        return info.get("name") in event.organizers or bool(groups & allowed)

    def _participants(self, event: Event, query: dict[str, list[str]]) -> None:
        if "include_private" not in query:
            self._bad_param("include_private", None, "missingparam")
            return
        raw = query["include_private"][0].lower()
        if raw not in ("1", "true", "0", "false", ""):
            self._bad_param("include_private", raw, "badbool")
            return
        include_private = raw in ("1", "true")
        if include_private and not self._caller_may_see_private(event):
            self._error(403, "campaignevents-rest-list-participants-cannot-see-private")
            return
        last_raw = query.get("last_participant_id", [""])[0]
        if last_raw and not last_raw.isdigit():
            self._bad_param("last_participant_id", last_raw, "badinteger")
            return
        last = int(last_raw or 0)
        rows = []
        for number, person in enumerate(event.participants, start=1):
            if number <= last or (person.private and not include_private):
                continue
            row: dict[str, Any] = {
                "participant_id": number,
                "user_id": person.user_id or number,
                "user_registered_at": person.registered_at,
                "user_registered_at_formatted": "12:00, 1 December 2026",
                "private": person.private,
            }
            if person.hidden:
                row["hidden"] = True
            else:
                row["user_name"] = person.name
                row["user_page"] = {
                    "path": "/index.php/User:" + person.name.replace(" ", "_"),
                    "title": "User:" + person.name,
                    "classes": "mw-userlink",
                }
            rows.append(row)
            if len(rows) == RES_LIMIT:
                break
        self._send(200, rows)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: _State) -> None:
        super().__init__(address, _Handler)
        self.state = state


class CampaignEventsServer(ThreadedServer):
    """The stand-in on a free loopback port; ``url`` is the REST module's base, for the
    wiki's ``campaignevents_url`` in programs-bot.toml. ``api_url``: the event's local wiki,
    asked who the caller is."""

    _thread_name = "campaignevents server"

    def __init__(self, api_url: str, host: str = "127.0.0.1") -> None:
        self.host = host
        self.state = _State(api_url)
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{BASE_PATH}"

    def _bind(self) -> _Server:
        return _Server((self.host, 0), self.state)

    def add_event(self, event: Event) -> Event:
        with self.state.lock:
            self.state.events[event.event_id] = event
        return event

    def set_fault(self, fault: str | None, delay: float = 0.0) -> None:
        with self.state.lock:
            self.state.fault, self.state.delay = fault, delay

    @property
    def requests(self) -> list[str]:
        with self.state.lock:
            return list(self.state.requests)
