"""The Join API's exception tree; every error it answers with is an ApiError.

Its own tree, apart from the bot's (bot.core.errors): the API catches what the store
raises (StoreError) where it calls the store.
"""

from __future__ import annotations

from collections.abc import Mapping


class GadgetApiError(Exception):
    """Base of every error the Join API raises on purpose."""


class ApiConfigError(GadgetApiError):
    """The API's configuration is missing or wrong."""


class WikiUnavailableError(GadgetApiError):
    """A wiki did not answer, or answered with something that is not a usable reply."""


class OAuthNotInstalledError(GadgetApiError):
    """The wiki has no Special:OAuth: Extension:OAuth is not installed there."""


class OAuthFlowError(GadgetApiError):
    """The OAuth handshake failed; shown to the user as a page in the popup."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ApiError(GadgetApiError):
    """An answer of the JSON API other than success: ``{"error": {"code", "message"}}``.

    ``code`` is stable (clients may branch on it); ``message`` is for people.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The JSON body every error answer has."""
    return {"error": {"code": code, "message": message}}
