"""Event Registration (Extension:CampaignEvents) as a source of participants: which event
a program page names, and the extension's REST answers read into records.

The answers are read as the extension's handlers write them (``GetEventRegistrationHandler``
and ``ListParticipantsHandler`` of ``campaignevents/v0``): unknown keys are ignored, and a
participant whose account is hidden or gone has no ``user_name``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from bot.core.errors import EventRegistrationError
from bot.core.model import EventRef

#: The REST module's path under a wiki's ``rest.php``.
REST_MODULE = "/campaignevents/v0"
_DETAILS_PAGE = re.compile(r"(?:Special:EventDetails/)?([0-9]{1,12})", re.IGNORECASE)


@dataclass(frozen=True)
class Registration:
    """What the registration's own route says of the event."""

    event_id: int
    name: str
    event_page: str
    event_page_wiki: str
    status: str


@dataclass(frozen=True)
class EventParticipant:
    """One registered participant; ``name`` is None for a hidden or deleted account."""

    participant_id: int
    name: str | None
    private: bool


@dataclass(frozen=True)
class EventParticipants:
    """Who registered for an event: the public names, the private ones (counted in totals
    only, never named), and how many could not be named at all."""

    registration: Registration
    public: tuple[str, ...]
    private: tuple[str, ...]
    #: Private participants exist but the bot's account may not see them.
    private_hidden: bool = False
    unnamed: int = 0


def parse_event_ref(raw: str) -> EventRef | None:
    """``event_registration=`` as organizers write it: the event's id (``42``), its details
    page (``Special:EventDetails/42``) or that page's address on another wiki
    (``https://meta.wikimedia.org/wiki/Special:EventDetails/42``). None if unreadable."""
    value = raw.strip()
    found = _DETAILS_PAGE.fullmatch(value.replace(" ", "_"))
    if found:
        return EventRef(int(found[1]))
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname:
        path = unquote(parts.path)
        tail = path.rsplit("/", 2)
        if len(tail) == 3 and tail[1].lower() == "special:eventdetails" and tail[2].isdigit():
            host = parts.hostname + (f":{parts.port}" if parts.port else "")
            return EventRef(int(tail[2]), host.lower())
    return None


def _malformed(what: str) -> EventRegistrationError:
    return EventRegistrationError("event-malformed", f"the Event Registration API answered {what}")


def read_registration(body: Any, event_id: int) -> Registration:
    """The answer of ``GET /event_registration/{id}``."""
    if not isinstance(body, Mapping) or not isinstance(body.get("id"), int):
        raise _malformed("a registration without its id")
    if body["id"] != event_id:
        raise _malformed(f"registration {body['id']} for event {event_id}")
    fields = ("name", "event_page", "event_page_wiki", "status")
    if not all(isinstance(body.get(key), str) for key in fields):
        raise _malformed("a registration without its name, page, wiki or status")
    return Registration(event_id, *(str(body[key]) for key in fields))


def read_participants(body: Any) -> list[EventParticipant]:
    """One page of ``GET /event_registration/{id}/participants``."""
    if not isinstance(body, list):
        raise _malformed("a participants list that is no list")
    found = []
    for row in body:
        if not isinstance(row, Mapping) or not isinstance(row.get("participant_id"), int):
            raise _malformed("a participant without its participant_id")
        name = row.get("user_name")
        named = isinstance(name, str) and name.strip() and not row.get("hidden")
        found.append(
            EventParticipant(
                row["participant_id"],
                name.strip() if named and isinstance(name, str) else None,
                row.get("private") is True,
            )
        )
    return found


def error_key(status: int, body: Any) -> tuple[str, str]:
    """The notice key and a message for an error answer of the REST API (MediaWiki's REST
    error body: ``errorKey`` on newer releases, ``messageTranslations`` always)."""
    key = str(body.get("errorKey", "")) if isinstance(body, Mapping) else ""
    texts = body.get("messageTranslations") if isinstance(body, Mapping) else None
    text = next(iter(texts.values()), "") if isinstance(texts, Mapping) and texts else ""
    said = f"HTTP {status}" + (f": {text}" if text else "")
    if status == 404 and key == "campaignevents-rest-get-registration-deleted":
        return "event-deleted", said
    if status == 404 and "deleted" in str(text).lower() and not key:
        return "event-deleted", said
    if status == 404:
        return "event-not-found", said
    return "event-refused", said


def participants_of(
    registration: Registration, pages: Sequence[Sequence[EventParticipant]], private_hidden: bool
) -> EventParticipants:
    """The participants of every page, each once, in registration order."""
    public: dict[str, None] = {}
    private: dict[str, None] = {}
    unnamed = 0
    for page in pages:
        for participant in page:
            if participant.name is None:
                unnamed += 1
            elif participant.private:
                private.setdefault(participant.name)
            else:
                public.setdefault(participant.name)
    return EventParticipants(registration, tuple(public), tuple(private), private_hidden, unnamed)
