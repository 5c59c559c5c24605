"""Who holds a page: the ids of this process and the leases it takes in the store, so that
several workers and schedulers, on one machine or many, never work on a page at once."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from bot.store import Store


def process_id() -> str:
    """This process's holder id: ``host:pid:instance``, where the instance names the
    machine's boot and process namespace, so that another process of the same machine
    can tell that the holder of a lease no longer runs (see :func:`holder_is_dead`)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_instance()}"


def _instance() -> str:
    """The boot and pid namespace this process runs in; empty where /proc cannot tell."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return hashlib.sha256(f"{boot}\n{namespace}".encode()).hexdigest()[:12]


def holder_is_dead(holder: str) -> bool:
    """Whether the holder id ``holder`` names a process of this machine (same host, boot
    and pid namespace) that has ended: a process killed and restarted takes its pages back
    at once instead of waiting for the lease to run out. Anything else (another machine,
    a test's name, a process that still runs, or a pid now used by another process)
    counts as alive, and the lease is waited for."""
    parts = holder.rsplit(":", 2)
    mine = _instance()
    if len(parts) != 3 or not mine or not parts[1].isdigit():
        return False
    host, pid_text, instance = parts
    if host != socket.gethostname() or instance != mine or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: a process of another user has that pid
        return False
    return False


@contextmanager
def page_lease(
    store: Store, wiki: str, title: str, holder: str, now: datetime, lease: timedelta
) -> Iterator[bool]:
    """Hold the page for the block if no one else does (True), and give it back after."""
    taken = store.claim_page(wiki, title, holder, now, lease, dead=holder_is_dead)
    try:
        yield taken
    finally:
        if taken:
            store.release_page(wiki, title, holder)
