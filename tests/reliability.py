"""The reliability suite's tally: what was tried and what harm was found, printed at the end.

Tests of the fault, interleaving, hostile-input and crash suites add to ``TALLY`` what they
did (faults injected, interleavings run, hostile inputs tried) and what harm they measured
(lost or duplicated joins, overwritten organizer edits, 5xx answers, garbage pages). A harm
count is a measurement (expected minus found), never a constant, and each test also asserts
that its own harm is zero; the summary shows the totals of the whole run.

``pytest --long`` (or ``PROGRAMS_BOT_LONG=1``) runs the longer mode: more faults, more
interleavings, more generated inputs, more kills. ``scaled(quick, long)`` picks the number.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path

#: Shown in this order; the harm counts must all be zero.
EFFORT = (
    "faults injected",
    "interleavings run",
    "hostile inputs tried",
    "processes killed",
)
HARM = (
    "lost joins",
    "duplicated joins",
    "overwritten organizer edits",
    "garbage or partial pages",
    "wrong figures",
    "5xx answers",
)


class Tally:
    """Thread-safe counters, with a breakdown per kind (e.g. faults by kind)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.detail: dict[str, Counter[str]] = {}

    def add(self, name: str, amount: int = 1, *, kind: str | None = None) -> None:
        if name not in EFFORT and name not in HARM:
            raise KeyError(f"unknown tally {name!r}")
        if amount < 0:
            raise ValueError(f"a tally only grows: {name} {amount}")
        with self._lock:
            self.counts[name] += amount
            if kind is not None:
                self.detail.setdefault(name, Counter())[kind] += amount

    def harm(self) -> int:
        return sum(self.counts[name] for name in HARM)

    def lines(self) -> list[str]:
        out = []
        for name in (*EFFORT, *HARM):
            text = f"{name}: {self.counts[name]}"
            detail = self.detail.get(name)
            if detail:
                text += " (" + ", ".join(f"{k} {v}" for k, v in sorted(detail.items())) + ")"
            out.append(text)
        return out

    def as_json(self) -> dict[str, object]:
        return {
            "counts": {name: self.counts[name] for name in (*EFFORT, *HARM)},
            "detail": {name: dict(c) for name, c in self.detail.items()},
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")


TALLY = Tally()
_long = {"on": os.environ.get("PROGRAMS_BOT_LONG") == "1"}


def set_long(on: bool) -> None:
    _long["on"] = _long["on"] or on


def long_mode() -> bool:
    return _long["on"]


def scaled(quick: int, long: int) -> int:
    """``quick`` in the default run, ``long`` under ``pytest --long``."""
    return long if long_mode() else quick
