"""Program pages as an organizer writes them: {{Program details}} and a participants table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

#: Details an organizer writes first, before the dates.
_LEADING = ("name", "organizer")


def program_page(
    users: Iterable[str],
    wikis: Sequence[str],
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    before: str = "",
    after: str = "",
    joined: str = "2026-11-01",
    **details: str,
) -> str:
    """A program on ``wikis`` (hosts) listing ``users``, from ``start`` to ``end`` (by
    default yesterday to tomorrow, UTC), with ``before`` and ``after`` as the organizer's
    prose around it. ``details`` are further {{Program details}} parameters (``name`` and
    ``organizer`` come first, the others after the wikis, in the order given)."""
    today = datetime.now(UTC).date()
    fields = {
        **{name: details.pop(name) for name in _LEADING if name in details},
        "start": str(start or today - timedelta(days=1)),
        "end": str(end or today + timedelta(days=1)),
        "wikis": ", ".join(wikis),
        **details,
    }
    rows = "".join(f"{{{{Participant table row|username={u}|joined={joined}}}}}\n" for u in users)
    return (
        before
        + "{{Program details\n"
        + "".join(f"|{name}={value}\n" for name, value in fields.items())
        + "}}\n{{Participants table}}\n"
        + rows
        + "{{End of participants table}}\n"
        + after
    )
