"""Running one wiki under PHP's built-in web server (``php -S``) on loopback."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from .errors import LocalWikiError
from .mediawiki import MEDIAWIKI_DIR, php_env, require_mediawiki

log = logging.getLogger(__name__)

#: php -S handles one request at a time unless told to fork workers.
WORKERS = 4


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(count: int) -> tuple[int, ...]:
    """Return ``count`` distinct ports that are free right now."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return tuple(ports)


def port_in_use(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _live_members(pgid: int) -> bool:
    """Whether the process group has a member that is not a zombie.

    Workers orphaned by the parent's exit are reaped by PID 1, which in some containers does
    so only about once a second; a zombie no longer holds the port, so it counts as gone.
    """
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


class PhpServer:
    """One ``php -S`` process group serving one wiki.

    The server runs in its own session: with PHP_CLI_SERVER_WORKERS, SIGTERM to the parent
    alone leaves the forked workers listening, so stop() signals the whole process group.
    """

    def __init__(self, *, port: int, settings: Path, router: Path, log_path: Path, pid_path: Path):
        self.port = port
        self.settings = settings
        self.router = router
        self.log_path = log_path
        self.pid_path = pid_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """Process (and process group) id of the running server, also one started elsewhere."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid
        return self._pid_from_file()

    def _pid_from_file(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        # Guard against a recycled pid: it must still be our php -S on this port.
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        if b"-S" not in cmdline or f"127.0.0.1:{self.port}".encode() not in cmdline:
            return None
        return pid

    @property
    def running(self) -> bool:
        return self.pid is not None

    def start(self, api_url: str, timeout: float = 30.0) -> None:
        """Start serving and return once ``api_url`` answers a siteinfo query."""
        if self.running:
            return
        php = require_mediawiki()
        if port_in_use(self.port):
            raise LocalWikiError(f"port {self.port} is already in use")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            php,
            # Never share an APCu cache between requests: reset() relies on PHP keeping no
            # state between requests (a no-op when APCu is not installed).
            "-d",
            "apc.enabled=0",
            "-S",
            f"127.0.0.1:{self.port}",
            "-t",
            str(MEDIAWIKI_DIR),
            str(self.router),
        ]
        env = php_env(self.settings, {"PHP_CLI_SERVER_WORKERS": str(WORKERS)})
        with self.log_path.open("ab") as log_file:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.settings.parent,
                start_new_session=True,
            )
        self.pid_path.write_text(f"{self._proc.pid}\n")
        log.debug("started php -S on port %d (pid %d)", self.port, self._proc.pid)
        try:
            self._wait_ready(api_url, timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, api_url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        params = {"action": "query", "meta": "siteinfo", "format": "json"}
        last = "no answer"
        with requests.Session() as http:
            while time.monotonic() < deadline:
                if self._proc is not None and self._proc.poll() is not None:
                    raise LocalWikiError(
                        f"php -S on port {self.port} exited ({self._proc.returncode}): "
                        f"{self.log_tail()}"
                    )
                try:
                    resp = http.get(api_url, params=params, timeout=10)
                    if resp.status_code == 200 and "query" in resp.json():
                        return
                    last = f"HTTP {resp.status_code}: {resp.text[:300]}"
                except (requests.RequestException, ValueError) as exc:
                    last = str(exc)
                time.sleep(0.05)
        raise LocalWikiError(f"{api_url} did not answer within {timeout} s ({last})")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the whole process group; harmless when not running."""
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            if not self._wait_gone(pid, timeout):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                self._wait_gone(pid, timeout)
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout)
            self._proc = None
        with contextlib.suppress(FileNotFoundError):
            self.pid_path.unlink()

    def _wait_gone(self, pgid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pgid:
                self._proc.poll()  # reap the parent so that it does not linger as a zombie
            if not _live_members(pgid):
                return True
            time.sleep(0.01)
        return False

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server log, for error messages."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""
