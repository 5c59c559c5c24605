"""Saving a program page safely: bot flag, {{nobots}}, the emergency stop page, -simulate."""

from __future__ import annotations

import difflib
import logging

import pywikibot
from pywikibot.exceptions import EditConflictError, NoPageError
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.site import APISite

from bot.core.errors import (
    ConflictError,
    EditRefusedError,
    NotAProgramError,
    StopPageError,
    WikiAccessError,
)

log = logging.getLogger(__name__)

#: Stop-page contents that let the bot run; anything else stops it.
RUN_WORDS = frozenset({"", "run", "go", "active"})


#: Characters of old and new text above which show_diff uses a plain unified diff.
DIFF_LIMIT = 50_000


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


def show_diff(old: str, new: str) -> None:
    """Pywikibot's coloured diff for a page of ordinary size, a plain unified diff above
    that (Pywikibot's takes about a minute for a thousand changed rows)."""
    if len(old) + len(new) <= DIFF_LIMIT:
        pywikibot.showDiff(old, new)
        return
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), "before", "after", lineterm="")
    pywikibot.info("\n".join(lines))


def check_may_edit(page: pywikibot.Page) -> None:
    """Refuse a page that is not wikitext; honour {{bots}}/{{nobots}} before any work.

    A CSS, JavaScript or JSON page may spell ``{{Program details}}`` too; rows written
    into it would break a gadget or a user's script (the bot may edit site CSS/JS).
    """
    if page.content_model != "wikitext":
        raise NotAProgramError(
            f"[[{page.title()}]] is not a program: its content model is {page.content_model}"
        )
    if not _may_restrict(page):
        # Pywikibot asks botMayEdit again when the new text is set and when saving; it
        # caches the answer here. Without it the full parse would run anyway.
        page._bot_may_edit = True
        return
    if not page.botMayEdit():
        raise EditRefusedError(
            f"[[{page.title()}]] excludes this bot with {{{{bots}}}}/{{{{nobots}}}}"
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
