"""Asking several wikis at once: one thread a wiki, each sending one request at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Generic, TypeVar, cast

#: How many wikis a count asks at once.
WIKIS_AT_ONCE = 4

T = TypeVar("T")


def each_wiki(
    jobs: Sequence[Callable[[], T]], meanwhile: Callable[[], object] | None = None
) -> list[T]:
    """Run one job per wiki in threads, up to WIKIS_AT_ONCE at once, while the calling
    thread runs ``meanwhile``; return the jobs' results in their order. The first job that
    failed raises its error, once every job has finished. A job sends one request at a
    time, as API:Etiquette asks of a client. Without ``meanwhile`` a single job runs in the
    calling thread."""
    if len(jobs) < 2 and meanwhile is None:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max(1, min(len(jobs), WIKIS_AT_ONCE)), "wiki") as pool:
        futures = [pool.submit(job) for job in jobs]
        try:
            if meanwhile is not None:
                meanwhile()
        finally:
            wait(futures)
    return [future.result() for future in futures]


class Handoff(Generic[T]):
    """A value one thread hands another once it has it, or the error that stopped it
    (the first of the two stands)."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None

    def give(self, value: T) -> None:
        if not self._ready.is_set():
            self._value = value
            self._ready.set()

    def fail(self, error: BaseException) -> None:
        if not self._ready.is_set():
            self._error = error
            self._ready.set()

    def take(self) -> T:
        """The value, once given (waits until then); raises the error it failed with."""
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return cast(T, self._value)
