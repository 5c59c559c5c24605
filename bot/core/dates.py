"""Reading the dates organizers write: ISO dates with optional times, always UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

_DATE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?))?"
    r"\s*(?:Z|UTC|\+00:00)?$",
    re.IGNORECASE,
)


def parse_moment(value: str, *, end_of_day: bool) -> datetime | None:
    """Read ``2026-11-01``, ``2026-11-01T09:00``, ``2026-11-01 09:00:30Z``; None if malformed.

    A date without a time means the day's first second, or its last with ``end_of_day``,
    so that an ``end`` date includes the whole day.
    """
    match = _DATE.match(value.strip())
    if not match:
        return None
    try:
        day = datetime.strptime(match["date"], "%Y-%m-%d").date()
        if match["time"]:
            fmt = "%H:%M:%S" if match["time"].count(":") == 2 else "%H:%M"
            clock = datetime.strptime(match["time"], fmt).time()
        else:
            clock = time(23, 59, 59) if end_of_day else time(0, 0, 0)
    except ValueError:
        return None
    return datetime.combine(day, clock, tzinfo=UTC)


def format_moment(moment: datetime) -> str:
    """The ISO form the bot writes, e.g. ``2026-11-25T06:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
