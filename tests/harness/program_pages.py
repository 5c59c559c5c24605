"""Program pages as an organizer writes them: {{Program details}} and a participants table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta


def program_page(
    users: Iterable[str], wikis: Sequence[str], *, joined: str = "2026-11-01", **details: str
) -> str:
    """A program from yesterday to tomorrow (UTC) on ``wikis`` (hosts) listing ``users``;
    ``details`` are further {{Program details}} parameters, written in the order given
    (``name``, ``organizer`` and ``campaign``, say)."""
    today = datetime.now(UTC).date()
    fields = {
        "start": str(today - timedelta(days=1)),
        "end": str(today + timedelta(days=1)),
        "wikis": ", ".join(wikis),
        **details,
    }
    rows = "".join(f"{{{{Participant table row|username={u}|joined={joined}}}}}\n" for u in users)
    return (
        "{{Program details\n"
        + "".join(f"|{name}={value}\n" for name, value in fields.items())
        + "}}\n{{Participants table}}\n"
        + rows
        + "{{End of participants table}}\n"
    )
