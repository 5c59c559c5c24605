"""A socket server run in a daemon thread, for the harness's stand-in services."""

from __future__ import annotations

import socketserver
import threading
from types import TracebackType
from typing import Self

from .errors import LocalWikiError


class ThreadedServer:
    """Start, stop and ``with`` for a server that ``_bind`` makes; subclasses say what."""

    _thread_name = "stand-in"

    def __init__(self) -> None:
        self._server: socketserver.BaseServer | None = None
        self._thread: threading.Thread | None = None

    def _bind(self) -> socketserver.BaseServer:
        raise NotImplementedError

    def _not_running(self) -> LocalWikiError:
        return LocalWikiError(f"the {self._thread_name} is not running")

    @property
    def port(self) -> int:
        if self._server is None:
            raise self._not_running()
        return int(self._server.server_address[1])  # type: ignore[index]

    def start(self) -> Self:
        """Bind and serve; harmless when already running."""
        if self._server is not None:
            return self
        self._server = self._bind()
        self._thread = threading.Thread(
            # A short poll interval keeps stop() (and so each test's teardown) quick.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"{self._thread_name}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; harmless when not running."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
