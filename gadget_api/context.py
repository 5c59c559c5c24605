"""What every request handler needs, kept on the app (no module-level state)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from flask import current_app

from bot.store import Store
from gadget_api.config import ApiConfig
from gadget_api.programs import WikiReader

EXTENSION = "programs_api"


@dataclass(frozen=True)
class Services:
    config: ApiConfig
    store: Store
    reader: WikiReader
    #: Aware UTC "now"; tests replace it to expire tokens and end programs.
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        return self.clock()


def services() -> Services:
    """The current app's services (inside a request or app context)."""
    return cast(Services, current_app.extensions[EXTENSION])
