"""The harness's exception tree: everything it raises derives from LocalWikiError."""

from __future__ import annotations


class LocalWikiError(Exception):
    """A throw-away wiki could not be created, started, queried or changed."""


class MediaWikiMissingError(LocalWikiError):
    """PHP or the Debian MediaWiki package is not installed on this machine."""


class ApiError(LocalWikiError):
    """The wiki's action API answered with an error."""

    def __init__(self, code: str, info: str = "", *, action: str = "") -> None:
        self.code = code
        self.info = info
        self.action = action
        where = f"{action}: " if action else ""
        super().__init__(f"{where}{code}: {info}" if info else f"{where}{code}")
