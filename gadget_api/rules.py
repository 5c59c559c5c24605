"""The rules a join or leave must pass, and the caller's join state: pure functions.

Each rule raises an ApiError with its own stable code. The views call them all before
anything is written, so a refused request leaves no trace in the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.dates import format_moment
from bot.store import APPLIED, FAILED, JOIN, LEAVE, RECORDED, ApiToken, JoinRequest
from gadget_api.errors import ApiError
from gadget_api.programs import Program

#: join_state when the store knows nothing of the user on this page.
ON_PAGE, NONE = "on-page", "none"


def check_token_wiki(token: ApiToken, wiki: str) -> None:
    if token.wiki != wiki:
        raise ApiError(
            403,
            "wrong-wiki",
            f"You signed in on {token.wiki}, but this program is on {wiki}: sign in there.",
        )


def check_not_blocked(token: ApiToken, program: Program) -> None:
    """Blocked per the signed identity at sign-in, or per the wiki right now."""
    if token.blocked or program.user_blocked:
        raise ApiError(
            403,
            "user-blocked",
            f"{token.username} is blocked on {program.wiki} and cannot join programs there.",
        )


def check_not_ended(program: Program, now: datetime) -> None:
    if program.ended(now):
        assert program.end is not None
        raise ApiError(
            409,
            "program-ended",
            f"{program.name} ended on {format_moment(program.end)}; its participant list is final.",
        )


def check_registration_open(program: Program) -> None:
    if program.registration != "open":
        raise ApiError(409, "registration-closed", f"Registration for {program.name} is closed.")


@dataclass(frozen=True)
class CallerStatus:
    """Whether the caller counts as joined, and the state the API reports."""

    joined: bool
    #: ``none``, ``on-page`` (listed by hand) or a join request's state.
    state: str
    request: JoinRequest | None


def caller_status(program: Program, username: str, latest: JoinRequest | None) -> CallerStatus:
    """Combine the page's participant table with the user's newest join or leave.

    A waiting request decides (it is what will be on the page). Once applied, the page
    decides if it was read after the request's edit (an organizer may have removed or
    added the row since); a snapshot or an older read does not know that edit yet.
    """
    listed = program.lists(username)
    if latest is None or latest.state not in (RECORDED, APPLIED, FAILED):
        return CallerStatus(listed, ON_PAGE if listed else NONE, latest)
    if latest.state == RECORDED:
        return CallerStatus(latest.action == JOIN, RECORDED, latest)
    if latest.state == APPLIED:
        page_has_edit = (
            program.revid is not None and latest.revid is not None and program.revid >= latest.revid
        )
        joined = listed if page_has_edit else latest.action == JOIN
        return CallerStatus(joined, APPLIED, latest)
    return CallerStatus(listed, FAILED, latest)


def removed_by_organizer(status: CallerStatus) -> bool:
    """The flow put the user on the page, and the page no longer lists them."""
    request = status.request
    return (
        not status.joined
        and request is not None
        and request.action == JOIN
        and request.state == APPLIED
    )


def may_leave(latest: JoinRequest | None) -> bool:
    """Leaving is offered to users whose join the flow applied or still has waiting.

    Rows written by hand are the organizers' to remove.
    """
    return latest is not None and latest.action == JOIN and latest.state in (RECORDED, APPLIED)


def already_left(latest: JoinRequest | None) -> bool:
    return latest is not None and latest.action == LEAVE and latest.state in (RECORDED, APPLIED)
