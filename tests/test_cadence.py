"""The scheduler's pure rules: phases, cadence, the polite edit interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.cadence import (
    ENDED,
    FINAL,
    RETENTION,
    RUNNING,
    UPCOMING,
    Cadence,
    may_edit,
    next_due,
    phase_of,
)
from bot.core.model import Window

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
WINDOW = Window(START, END)


@pytest.mark.parametrize(
    ("now", "phase"),
    [
        (START - timedelta(seconds=1), UPCOMING),
        (START, RUNNING),
        (END, RUNNING),
        (END + timedelta(seconds=1), ENDED),
        (END + timedelta(days=7), ENDED),
        (END + timedelta(days=8), RETENTION),
        (END + timedelta(days=31), RETENTION),
        (END + timedelta(days=31, seconds=1), FINAL),
    ],
)
def test_phases(now: datetime, phase: str) -> None:
    assert phase_of(WINDOW, now) == phase


def test_a_program_without_window_is_final() -> None:
    assert phase_of(None, START) == FINAL


def test_next_due_follows_the_phase_and_never_sleeps_past_a_phase_change() -> None:
    cadence = Cadence()
    assert next_due(RUNNING, START, cadence, WINDOW) == START + timedelta(minutes=5)
    before_end = END - timedelta(minutes=2)
    assert next_due(RUNNING, before_end, cadence, WINDOW) == END + timedelta(seconds=1)
    before_start = START - timedelta(minutes=30)
    assert next_due(UPCOMING, before_start, cadence, WINDOW) == START + timedelta(seconds=1)
    late = END + timedelta(days=40)
    assert next_due(FINAL, late, cadence, WINDOW) == late + timedelta(days=7)


def test_edits_are_polite_unless_asked_for() -> None:
    cadence = Cadence(edit_interval=timedelta(minutes=10))
    assert may_edit(None, START, cadence, manual=False)
    assert not may_edit(START, START + timedelta(minutes=9), cadence, manual=False)
    assert may_edit(START, START + timedelta(minutes=10), cadence, manual=False)
    assert may_edit(START, START + timedelta(minutes=1), cadence, manual=True)
