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

from bot.core.errors import ProgramsBotError
from bot.core.markers import add_marker, remove_marker
from bot.core.messages import Messages
from bot.core.pageformat import PageFormat
from bot.core.settings import WikiSettings
from bot.wiki.edit import Change, Editor, Outcome, PageText

log = logging.getLogger(__name__)


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
        self.editor = Editor(site, stop_page=stop_page)

    def joined(self, program: str, usernames: Iterable[str]) -> list[str]:
        """Put {{Participant editor}} on the user pages of people who joined."""
        return self._user_pages(program, usernames, self.fmt.participant_marker)

    def left(self, program: str, usernames: Iterable[str]) -> list[str]:
        """Take {{Participant editor}} for this program off the user pages of people who left."""
        return self._user_pages(program, usernames, self.fmt.participant_marker, remove=True)

    def instructors(self, program: str, usernames: Iterable[str]) -> list[str]:
        """Put {{Program instructor}} on the organizer's and facilitators' user pages."""
        return self._user_pages(program, usernames, self.fmt.instructor_marker)

    def assignments(self, program: str, articles: Iterable[str]) -> list[str]:
        """Put {{Program assignment}} on the talk pages of the program's listed articles."""
        if not self.settings.talk_page_notices:
            return []
        talks = [pywikibot.Page(self.site, article).toggleTalkPage() for article in articles]
        titles = [talk.title() for talk in talks if talk is not None]
        return self._mark(program, titles, self.fmt.assignment_marker)

    def _user_pages(
        self, program: str, usernames: Iterable[str], key: str, *, remove: bool = False
    ) -> list[str]:
        """Markers on user pages, where the wiki turned them on; the pages saved."""
        if not self.settings.user_page_templates:
            return []
        titles = [f"User:{name}" for name in usernames if name]
        return self._mark(program, titles, key, remove=remove)

    def _mark(
        self, program: str, titles: Iterable[str], key: str, *, remove: bool = False
    ) -> list[str]:
        """Add (or remove) the marker ``key`` for ``program`` on each page; the pages saved."""
        if remove:
            summary = self.messages.text("summary-marker-remove", self.fmt.name(key), program)
        else:
            summary = self.messages.text("summary-marker-add", self.fmt.name(key), program)

        def transform(text: str) -> str | None:
            if remove:
                return remove_marker(text, key, program, self.fmt)
            return add_marker(text, key, program, self.fmt)

        return [title for title in titles if self._change(title, transform, summary)]

    def _change(self, title: str, transform: Callable[[str], str | None], summary: str) -> bool:
        """Apply ``transform`` to a page (None: nothing to do); True when it was saved."""

        def edit(read: PageText) -> Change[None] | None:
            if read.redirect:
                return None  # a marker above "#REDIRECT" would break the redirect
            new_text = transform(read.text)
            return None if new_text is None else Change(new_text, summary, None)

        try:
            result = self.editor.edit(title, edit, create=True)
        except (ProgramsBotError, PywikibotError) as error:
            log.warning("automatic edit of [[%s]] skipped: %s", title, error)
            return False
        if result.reason:
            log.warning("automatic edit of [[%s]] skipped: %s", title, result.reason)
        return result.outcome is Outcome.SAVED
