"""A standard pair of wikis: a Wikipedia-like content wiki and a Commons-like media wiki."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from .install import create_wiki
from .server import free_ports
from .wiki import LocalWiki

log = logging.getLogger(__name__)

CONTENT_NAME = "content"
CONTENT_SITE_NAME = "Content Wiki"
MEDIA_NAME = "media"
MEDIA_SITE_NAME = "Media Commons"
#: Participant accounts made on both wikis (password wiki.DEFAULT_USER_PASSWORD).
PARTICIPANTS = ("Alice", "Bob", "Carol", "Dave", "Eve")
FARM_NAMES = (CONTENT_NAME, MEDIA_NAME)


def farm_families(ports: tuple[int, int]) -> dict[str, str]:
    """Family name -> api.php URL of a farm on ``ports``, known before the farm exists."""
    return {name: LocalWiki.api_url_for(port) for name, port in zip(FARM_NAMES, ports, strict=True)}


@dataclass(frozen=True)
class Farm:
    """Two running wikis; ``Admin`` is the administrator on both."""

    content: LocalWiki
    media: LocalWiki

    @property
    def wikis(self) -> tuple[LocalWiki, LocalWiki]:
        return (self.content, self.media)

    def snapshot(self) -> None:
        for wiki in self.wikis:
            wiki.snapshot()

    def reset(self) -> None:
        for wiki in self.wikis:
            wiki.reset()

    def stop(self) -> None:
        for wiki in self.wikis:
            wiki.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _make(
    root: Path, name: str, port: int, site_name: str, uploads: bool, participants: Sequence[str]
) -> LocalWiki:
    wiki = create_wiki(root / name, name, port, site_name=site_name, uploads=uploads)
    wiki.create_users(participants)
    wiki.start()
    return wiki


def start_farm(
    root: Path,
    *,
    ports: tuple[int, int] | None = None,
    participants: Sequence[str] = PARTICIPANTS,
) -> Farm:
    """Create and start the content and media wikis under ``root`` (in parallel).

    ``ports`` (content, media) defaults to two free ports; pass them when they must be known
    earlier, e.g. to write Pywikibot's user-config.py before pywikibot is imported.
    """
    started = time.monotonic()
    content_port, media_port = ports if ports is not None else free_ports(2)
    root = Path(root)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(
                _make, root, CONTENT_NAME, content_port, CONTENT_SITE_NAME, False, participants
            ),
            pool.submit(_make, root, MEDIA_NAME, media_port, MEDIA_SITE_NAME, True, participants),
        ]
        made: list[LocalWiki] = []
        error: BaseException | None = None
        for future in futures:
            try:
                made.append(future.result())
            except BaseException as exc:  # stop whatever did start before re-raising
                error = error or exc
    if error is not None:
        for wiki in made:
            wiki.stop()
        raise error
    log.info("farm started under %s in %.2f s", root, time.monotonic() - started)
    return Farm(content=made[0], media=made[1])
