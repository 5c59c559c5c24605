"""The one edit loop every writer uses: read the page, honour {{nobots}}, apply the writer's
transform, check the emergency stop page, save against the revision read, and on an edit
conflict read again and re-apply.

A writer hands :meth:`Editor.edit` a transform (the page as read -> a :class:`Change`, or
None for nothing to do) and gets back an :class:`EditResult` whose outcome says what
happened: saved, unchanged, simulated (``-simulate``), held (the writer chose not to save
now), stopped (the stop page), refused ({{nobots}}) or gave up (conflicts every time).
A page or wiki that cannot be read or written raises WikiAccessError; a transform may raise
the bot's own errors (a page that is not a program, say), which pass through.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

import pywikibot
from pywikibot.exceptions import EditConflictError, IsRedirectPageError, NoPageError
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.site import APISite

from bot.core.errors import (
    ConflictError,
    EditRefusedError,
    ProgramsBotError,
    StopPageError,
    WikiAccessError,
)

log = logging.getLogger(__name__)

#: Stop-page contents that let the bot run; anything else stops it.
RUN_WORDS = frozenset({"", "run", "go", "active"})
#: Characters of old and new text above which show_diff uses a plain unified diff.
DIFF_LIMIT = 50_000
#: How often a writer reads and re-applies after edit conflicts before giving up.
MAX_ATTEMPTS = 5

T = TypeVar("T")


class Outcome(StrEnum):
    """What an edit came to."""

    SAVED = "saved"
    UNCHANGED = "unchanged"
    SIMULATED = "simulated"
    HELD = "held"
    STOPPED = "stopped"
    REFUSED = "refused"
    GAVE_UP = "gave up"


@dataclass(frozen=True)
class PageText:
    """A page as read for an edit (``text`` is empty for a missing page)."""

    title: str
    text: str
    exists: bool
    redirect: bool
    content_model: str
    #: The revision read (None for a missing page): the base the edit is saved against.
    revid: int | None
    pageid: int | None = None

    def wikitext(self, error: type[ProgramsBotError], what: str) -> str:
        """The text of an existing wikitext page; ``error`` saying why it is not ``what``
        otherwise (a CSS, JavaScript or JSON page may spell the templates too, and rows
        written into it would break a gadget or a user's script)."""
        reason = None
        if not self.exists:
            reason = "the page does not exist"
        elif self.redirect:
            reason = "the page is a redirect"
        elif self.content_model != "wikitext":
            reason = f"its content model is {self.content_model}"
        if reason:
            raise error(f"[[{self.title}]] is not {what}: {reason}")
        return self.text


@dataclass(frozen=True)
class Change(Generic[T]):
    """What a transform wants: the new text and its edit summary, and what it computed on
    the way (handed back in the result); ``hold`` computes and compares but saves nothing
    now."""

    text: str
    summary: str
    data: T
    hold: bool = False
    #: Called just before the save is sent (after the stop page allowed it): what the
    #: caller starts there runs while the wiki answers.
    beside_save: Callable[[], object] | None = None


@dataclass(frozen=True)
class EditResult(Generic[T]):
    """What one edit came to, with the page as last read and the text the transform made."""

    outcome: Outcome
    page: PageText
    new_text: str
    data: T | None
    attempts: int
    #: The revision saved (SAVED only).
    revid: int | None = None
    #: Why the edit was not made (STOPPED, REFUSED, GAVE_UP).
    reason: str = ""

    @property
    def changed(self) -> bool:
        return self.page.text != self.new_text

    def check(self) -> EditResult[T]:
        """This result, or the bot's error for an edit that could not be made."""
        if self.outcome is Outcome.STOPPED:
            raise StopPageError(self.reason)
        if self.outcome in (Outcome.REFUSED, Outcome.GAVE_UP):
            raise EditRefusedError(self.reason)
        return self


def default_stop_page(site: APISite) -> str:
    """``User:<bot name>/Stop`` on the wiki the bot edits."""
    return f"User:{site.username()}/Stop"


def check_stop_page(site: APISite, title: str) -> None:
    """Raise StopPageError unless the stop page is missing, empty or says ``run``."""
    page = pywikibot.Page(site, title)
    try:
        text = page.get(force=True)
    except NoPageError:
        return
    except PywikibotError as error:
        raise WikiAccessError(f"cannot read the stop page {title}: {error}") from error
    if text.strip().lower() not in RUN_WORDS:
        raise StopPageError(
            f"the emergency stop page [[{title}]] asks the bot to stop editing; "
            "empty it (or write 'run') to let the bot edit again"
        )


def _may_restrict(page: pywikibot.Page) -> bool:
    """Whether the page's text names {{bots}}, {{nobots}} or another template the wiki
    uses to keep bots off a page (a cheap look before Pywikibot's botMayEdit, which
    parses every template: minutes for a 10,000-row program page)."""
    text = page.text.lower().replace("_", " ")
    site = page.site
    names = {"bots", "nobots", *site.get_edit_restricted_templates()}
    names.update(site.get_archived_page_templates())
    return any(str(name).lower().replace("_", " ") in text for name in names)


def bots_allowed(page: pywikibot.Page) -> bool:
    """Whether {{bots}}/{{nobots}} on a wikitext page let this bot edit it."""
    if page.content_model != "wikitext" or not _may_restrict(page):
        # Pywikibot asks botMayEdit again when the new text is set and when saving; it
        # caches the answer here. Without it the full parse would run anyway, and on a
        # script or style sheet it would read template calls where there are none.
        page._bot_may_edit = True
        return True
    return bool(page.botMayEdit())


def show_diff(old: str, new: str) -> None:
    """Pywikibot's coloured diff for a page of ordinary size, a plain unified diff above
    that (Pywikibot's takes about a minute for a thousand changed rows). The command line
    shows it after a page's status line; the loop itself prints nothing, so that a
    long-running process's log is not filled with diffs."""
    if len(old) + len(new) <= DIFF_LIMIT:
        pywikibot.showDiff(old, new)
        return
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), "before", "after", lineterm="")
    pywikibot.info("\n".join(lines))


def read_page(page: pywikibot.Page) -> PageText:
    """The page's text and state as the wiki has it now."""
    title = page.title()
    try:
        text = page.get(get_redirect=True)
    except NoPageError:
        return PageText(title, "", False, False, "wikitext", None)
    except IsRedirectPageError:  # not raised with get_redirect, but never a program
        return PageText(title, "", True, True, "wikitext", None)
    except PywikibotError as error:
        raise WikiAccessError(f"[[{title}]] cannot be read: {error}") from error
    return PageText(
        title,
        text,
        True,
        page.isRedirectPage(),
        str(page.content_model),
        int(page.latest_revision_id),
        int(page.pageid),
    )


def save(page: pywikibot.Page, new_text: str, summary: str, *, create: bool = False) -> int:
    """Save against the revision that was read; returns the new revision id.

    The page object must be the one whose text was read: its revision goes along as
    ``baserevid``, so the wiki merges a newer edit or reports a conflict, never
    overwrites it.
    """
    base_revid = page.latest_revision_id if page.exists() else None
    page.text = new_text
    try:
        # Conflicts are detected by revision id only. With a basetimestamp (which
        # Pywikibot sends by default) MediaWiki 1.39 treats an organizer's save made in
        # the same second as the bot's own and lets the bot's text replace it
        # (EditPage::userWasLastToEdit compares timestamps with ">"): measured here.
        page.save(
            summary=summary,
            bot=True,
            minor=False,
            nocreate=not create,
            createonly=create and base_revid is None,
            watch="nochange",
            baserevid=base_revid,
            basetimestamp=None,  # None makes Pywikibot leave the parameter out
        )
    except EditConflictError as error:
        raise ConflictError(str(error)) from error
    except PywikibotError as error:
        raise WikiAccessError(f"saving [[{page.title()}]] failed: {error}") from error
    revid = int(page.latest_revision_id)
    if base_revid is not None and revid == base_revid:
        # MediaWiki answered "nochange": the text is already there. That happens when an
        # earlier try of this very save reached the wiki but its answer was lost (a dropped
        # connection, a timeout) and Pywikibot sent it again; the revision is the latest.
        revid = int(pywikibot.Page(page.site, page.title()).latest_revision_id)
    return revid


class Editor:
    """Edits pages of one wiki for one writer: the stop page and ``-simulate`` it obeys."""

    def __init__(
        self, site: APISite, *, stop_page: str | None = None, simulate: bool = False
    ) -> None:
        self.site = site
        self.stop_page = stop_page or default_stop_page(site)
        self.simulate = simulate

    def edit(
        self,
        title: str,
        transform: Callable[[PageText], Change[T] | None],
        *,
        create: bool = False,
        page: pywikibot.Page | None = None,
    ) -> EditResult[T]:
        """Read, transform and save ``title`` until it is saved or there is nothing to save.

        ``create`` lets the edit create a missing page (else the wiki refuses to). ``page``:
        the page object of ``title`` when the caller read it already; the first attempt uses
        what it read (the save goes against that revision, so nothing newer is lost).
        """
        given = page
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if attempt == 1 and given is not None and given.title() == title:
                page = given
            else:
                page = pywikibot.Page(self.site, title)
            read = read_page(page)
            if read.exists and not bots_allowed(page):
                reason = f"[[{read.title}]] excludes this bot with {{{{bots}}}}/{{{{nobots}}}}"
                return EditResult(Outcome.REFUSED, read, read.text, None, attempt, reason=reason)
            change = transform(read)
            if change is None or change.text == read.text:
                data = None if change is None else change.data
                return EditResult(Outcome.UNCHANGED, read, read.text, data, attempt)
            if change.hold:
                return EditResult(Outcome.HELD, read, change.text, change.data, attempt)
            if self.simulate:
                return EditResult(Outcome.SIMULATED, read, change.text, change.data, attempt)
            try:
                check_stop_page(self.site, self.stop_page)
            except StopPageError as error:
                stopped = Outcome.STOPPED
                return EditResult(
                    stopped, read, change.text, change.data, attempt, reason=str(error)
                )
            log.info("saving [[%s]] against revision %s", read.title, read.revid)
            if change.beside_save is not None:
                change.beside_save()
            try:
                revid = save(page, change.text, change.summary, create=create)
            except ConflictError:
                log.warning("edit conflict on [[%s]]; reading it again", read.title)
                continue
            log.info("saved [[%s]] as revision %s", read.title, revid)
            return EditResult(Outcome.SAVED, read, change.text, change.data, attempt, revid)
        reason = (
            f"[[{title}]] kept changing while the bot edited it "
            f"({MAX_ATTEMPTS} edit conflicts); try again later"
        )
        return EditResult(Outcome.GAVE_UP, read, read.text, None, MAX_ATTEMPTS, reason=reason)
