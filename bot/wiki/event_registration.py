"""Reading an Event Registration's participants through Extension:CampaignEvents' REST API
(``rest.php/campaignevents/v0``), as the bot's logged-in account (Pywikibot's session, so
the extension sees who asks and shows private participants to those it lets see them)."""

from __future__ import annotations

import json
import logging
from typing import Any

import requests
from pywikibot.comms import http
from pywikibot.site import APISite

from bot.core.errors import EventRegistrationError
from bot.core.event_registration import (
    REST_MODULE,
    EventParticipant,
    EventParticipants,
    error_key,
    participants_of,
    read_participants,
    read_registration,
)
from bot.core.model import EventRef

log = logging.getLogger(__name__)

#: Seconds to wait for one answer.
TIMEOUT = 30
#: Pages of participants read at most (the extension gives 20 a page): 100,000 people.
MAX_PAGES = 5000


def rest_base(site: APISite, configured: str | None = None) -> str:
    """The REST module's address on ``site``: ``configured`` (``campaignevents_url`` in
    programs-bot.toml), else the wiki's own ``rest.php``."""
    if configured:
        return configured.rstrip("/")
    server = str(site.siteinfo["server"])
    if server.startswith("//"):
        server = "https:" + server
    return server + str(site.siteinfo["scriptpath"]) + "/rest.php" + REST_MODULE


def _get(url: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
    # Pywikibot's own session: its cookies say who asks, its user agent is the bot's.
    headers = {"Accept": "application/json", "User-Agent": http.user_agent()}
    try:
        response = http.session.get(url, params=params, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as error:
        raise EventRegistrationError("event-unreachable", f"{url}: {error}") from error
    try:
        body = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        if response.status_code >= 500:
            raise EventRegistrationError(
                "event-unreachable", f"{url}: HTTP {response.status_code}"
            ) from None
        raise EventRegistrationError(
            "event-malformed", f"{url}: HTTP {response.status_code}, not JSON"
        ) from None
    return response.status_code, body


def _refused(url: str, status: int, body: Any) -> EventRegistrationError:
    key, said = error_key(status, body)
    if status >= 500:
        key = "event-unreachable"
    return EventRegistrationError(key, f"{url}: {said}")


def fetch_event_participants(base: str, ref: EventRef) -> EventParticipants:
    """The event's registration and every participant, page by page (the extension pages
    by ``last_participant_id`` and ends with an empty page; a short page is no end).

    Private participants are asked for; when the extension refuses them to the bot's
    account (403), the public ones are read and ``private_hidden`` says so.
    """
    url = f"{base}/event_registration/{ref.event_id}"
    status, body = _get(url)
    if status != 200:
        raise _refused(url, status, body)
    registration = read_registration(body, ref.event_id)
    include_private = True
    pages: list[list[EventParticipant]] = []
    last: int | None = None
    while len(pages) < MAX_PAGES:
        params = {"include_private": "true" if include_private else "false"}
        if last is not None:
            params["last_participant_id"] = str(last)
        status, body = _get(url + "/participants", params)
        if status == 403 and include_private:
            include_private = False
            pages, last = [], None
            continue
        if status != 200:
            raise _refused(url + "/participants", status, body)
        page = read_participants(body)
        if not page:
            break
        if last is not None and page[0].participant_id <= last:
            raise EventRegistrationError(
                "event-malformed", f"{url}/participants: the list does not move on"
            )
        pages.append(page)
        last = page[-1].participant_id
    log.info(
        "event %s: %d pages of participants%s",
        ref.event_id,
        len(pages),
        "" if include_private else " (private ones not shown to the bot)",
    )
    return participants_of(registration, pages, private_hidden=not include_private)
