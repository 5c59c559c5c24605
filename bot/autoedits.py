"""The automatic edits a wiki's community may turn on (off by default): marker templates on
participants' and instructors' user pages, and assignment notices on article talk pages.

Each is a bot edit against the revision read, never made twice, never on a page with
{{nobots}}; a failure here is logged and never fails the join or refresh it follows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import pywikibot
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.site import APISite

from bot.botconfig import WikiSettings
from bot.errors import ConflictError, ProgramsBotError
from bot.markers import add_marker, remove_marker
from bot.messages import Messages
from bot.pageformat import PageFormat
from bot.writer import check_may_edit, check_stop_page, default_stop_page, save

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class AutoEditor:
    """Makes the enabled automatic edits on one wiki."""

    def __init__(
        self,
        site: APISite,
        settings: WikiSettings,
        fmt: PageFormat,
        *,
        messages: Messages | None = None,
        stop_page: str | None = None,
    ) -> None:
        self.site = site
        self.settings = settings
        self.fmt = fmt
        self.messages = messages or Messages()
        self.stop_page = stop_page or default_stop_page(site)

    def joined(self, program: str, usernames: Iterable[str]) -> list[str]:
        """Put {{Participant editor}} on the user pages of people who joined."""
        if not self.settings.user_page_templates:
            return []
        key = self.fmt.participant_marker
        return [
            title
            for name in usernames
            if self._change(
                title := f"User:{name}",
                lambda text: add_marker(text, key, program, self.fmt),
                self.messages.text("summary-marker-add", self.fmt.name(key), program),
            )
        ]

    def left(self, program: str, usernames: Iterable[str]) -> list[str]:
        """Take {{Participant editor}} for this program off the user pages of people who left."""
        if not self.settings.user_page_templates:
            return []
        key = self.fmt.participant_marker
        return [
            title
            for name in usernames
            if self._change(
                title := f"User:{name}",
                lambda text: remove_marker(text, key, program, self.fmt),
                self.messages.text("summary-marker-remove", self.fmt.name(key), program),
            )
        ]

    def instructors(self, program: str, usernames: Iterable[str]) -> list[str]:
        """Put {{Program instructor}} on the organizer's and facilitators' user pages."""
        if not self.settings.user_page_templates:
            return []
        key = self.fmt.instructor_marker
        return [
            title
            for name in usernames
            if name
            and self._change(
                title := f"User:{name}",
                lambda text: add_marker(text, key, program, self.fmt),
                self.messages.text("summary-marker-add", self.fmt.name(key), program),
            )
        ]

    def assignments(self, program: str, articles: Iterable[str]) -> list[str]:
        """Put {{Program assignment}} on the talk pages of the program's listed articles."""
        if not self.settings.talk_page_notices:
            return []
        key = self.fmt.assignment_marker
        changed = []
        for article in articles:
            talk = pywikibot.Page(self.site, article).toggleTalkPage()
            if talk is not None and self._change(
                talk.title(),
                lambda text: add_marker(text, key, program, self.fmt),
                self.messages.text("summary-marker-add", self.fmt.name(key), program),
            ):
                changed.append(talk.title())
        return changed

    def _change(self, title: str, transform: Callable[[str], str | None], summary: str) -> bool:
        """Apply ``transform`` to a page (None: nothing to do); True when it was saved."""
        for _attempt in range(MAX_ATTEMPTS):
            page = pywikibot.Page(self.site, title)
            try:
                text = page.text if page.exists() else ""
                new_text = transform(text)
                if new_text is None:
                    return False
                check_may_edit(page)
                check_stop_page(self.site, self.stop_page)
                save(page, new_text, summary, create=True)
                return True
            except ConflictError:
                continue
            except (ProgramsBotError, PywikibotError) as error:
                log.warning("automatic edit of [[%s]] skipped: %s", title, error)
                return False
        log.warning("automatic edit of [[%s]] skipped: it kept changing", title)
        return False
