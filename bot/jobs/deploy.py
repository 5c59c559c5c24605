"""Putting the project's templates (and the gadget) on a wiki, idempotently."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from pywikibot.site import APISite

from bot.core import resources
from bot.core.errors import ConfigError
from bot.core.gadget_pages import (
    DEFINITION_PAGE,
    JOIN_API_MODE,
    WIKI_EDIT_MODE,
    check_api_url,
    gadget_pages,
    merge_definition,
)
from bot.core.messages import Messages
from bot.wiki.edit import Change, Editor, Outcome, PageText

TEMPLATES_DIR = resources.wikitemplates("templates")
#: The tracking categories the templates put pages in: their pages, so they are no red links.
CATEGORIES_DIR = resources.wikitemplates("categories")


def languages() -> list[str]:
    """Languages the templates exist in: English, and one folder per translation."""
    return ["en", *resources.subfolders(TEMPLATES_DIR)]


def template_sources(lang: str = "en", directory: Traversable = TEMPLATES_DIR) -> dict[str, str]:
    """Page title -> wikitext for every template of ``lang`` (files ``<Title>.wikitext``)."""
    return _sources(directory, lang, "Template")


def category_sources(lang: str = "en") -> dict[str, str]:
    """Page title -> wikitext for every tracking category the templates of ``lang`` use."""
    return _sources(CATEGORIES_DIR, lang, "Category")


def _sources(directory: Traversable, lang: str, namespace: str) -> dict[str, str]:
    """``<namespace>:<name>`` -> text of each ``<name>.wikitext`` of ``lang`` (English at the
    top of ``directory``, a translation in its own folder)."""
    folder = directory if lang == "en" else directory / lang
    if not folder.is_dir():
        raise ConfigError(f"there are no templates in {lang!r}; known: {', '.join(languages())}")
    return {
        f"{namespace}:{name}": (folder / f"{name}.wikitext").read_text(encoding="utf-8")
        for name in resources.stems(folder, ".wikitext")
    }


def wiki_language(site: APISite, configured: str | None = None) -> str:
    """The language to install in: configured, else the wiki's own when translated, else en."""
    if configured:
        return configured
    lang = str(site.lang)
    return lang if lang in languages() else "en"


#: What saving the gadget's pages takes (MediaWiki:*.js, *.css and interface messages): the
#: interface-admin group's rights, and for a BotPassword the grant "Edit sitewide and user
#: CSS/JS" (editsiteconfig).
GADGET_RIGHTS = ("editsitejs", "editsitecss", "editinterface")


@dataclass(frozen=True)
class GadgetPlan:
    """Whether deploy installs the Join gadget, in which mode, and why (for the operator)."""

    install: bool
    #: The Join API's URL for the join-api mode; None for the wiki-edit mode.
    api_url: str | None
    note: str

    @property
    def mode(self) -> str | None:
        if not self.install:
            return None
        return JOIN_API_MODE if self.api_url else WIKI_EDIT_MODE


def choose_gadget(
    api_url: str | None, *, extensions: Collection[str], rights: Collection[str]
) -> GadgetPlan:
    """The gadget's mode on a wiki with these extensions, for an account with these rights.

    The join-api mode needs the Join API's URL and Extension:OAuth on the wiki (the API signs
    people in through its Special:OAuth); otherwise the gadget edits the page as the
    logged-in user (the wiki-edit mode). Without Extension:Gadgets, or without the rights
    to save the gadget's pages, there is no gadget. Raises ConfigError for a URL that is
    none (the docs' placeholder, say), whichever mode the wiki allows.
    """
    if api_url:
        api_url = check_api_url(api_url)
    if "Gadgets" not in extensions:
        return GadgetPlan(False, None, "no Join gadget: the wiki has no Extension:Gadgets")
    missing = [right for right in GADGET_RIGHTS if right not in rights]
    if missing:
        return GadgetPlan(
            False,
            None,
            f"no Join gadget: the account lacks the rights {', '.join(missing)} (the "
            "interface-admin group, and for a BotPassword the grant 'Edit sitewide and user "
            "CSS/JS'); an interface administrator can save its pages instead",
        )
    if not api_url:
        return GadgetPlan(True, None, f"the Join gadget in the {WIKI_EDIT_MODE} mode (no Join API)")
    if "OAuth" not in extensions:
        return GadgetPlan(
            True,
            None,
            f"the Join gadget in the {WIKI_EDIT_MODE} mode: the wiki has no Extension:OAuth, "
            "which the Join API signs people in with",
        )
    return GadgetPlan(True, api_url, f"the Join gadget in the {JOIN_API_MODE} mode ({api_url})")


def gadget_plan(site: APISite, api_url: str | None) -> GadgetPlan:
    """choose_gadget() for this wiki and the bot's account on it."""
    extensions = [str(ext.get("name", "")) for ext in site.siteinfo["extensions"]]
    rights = [right for right in GADGET_RIGHTS if site.has_right(right)]
    return choose_gadget(api_url, extensions=extensions, rights=rights)


def deploy(
    site: APISite,
    *,
    lang: str = "en",
    api_url: str | None = None,
    gadget: bool = True,
    messages: Messages | None = None,
    stop_page: str | None = None,
    simulate: bool = False,
) -> list[str]:
    """Install the templates in ``lang`` (and their tracking categories' pages) and, with
    ``gadget``, the Join gadget: through the Join API at ``api_url``, or without one in the
    wiki-edit mode (gadget_plan() tells which the wiki allows).

    Returns the titles saved (with ``simulate``: that would be saved); a second run saves
    nothing. The gadget's pages are in the MediaWiki namespace: the bot account needs the
    interface-admin right for them. Raises StopPageError when the stop page says stop.
    """
    messages = messages or Messages(lang)
    pages = planned_pages(lang, api_url, gadget=gadget)
    summary = messages.text("summary-deploy")
    editor = Editor(site, stop_page=stop_page, simulate=simulate)
    changed = []
    for title, make in pages.items():

        def transform(read: PageText, make: Callable[[str], str] = make) -> Change[None] | None:
            text = make(read.text)
            # MediaWiki strips trailing whitespace on save; compare the same way.
            if read.exists and read.text.rstrip() == text.rstrip():
                return None
            return Change(text, summary, None)

        result = editor.edit(title, transform, create=True).check()
        if result.outcome in (Outcome.SAVED, Outcome.SIMULATED):
            changed.append(title)
    return changed


def planned_pages(
    lang: str, api_url: str | None, *, gadget: bool = True
) -> dict[str, Callable[[str], str]]:
    """What deploy writes, page by page: each page's text given what it holds now (the
    project's copy, or for the Gadgets definition the wiki's with the gadget's line)."""
    pages: dict[str, Callable[[str], str]] = {
        title: _replacing(text)
        for title, text in {**template_sources(lang), **category_sources(lang)}.items()
    }
    if gadget:
        pages.update(
            {title: _replacing(text) for title, text in gadget_pages(api_url, lang).items()}
        )
        pages[DEFINITION_PAGE] = merge_definition
    return pages


def _replacing(text: str) -> Callable[[str], str]:
    """A page's new text whatever it holds now: the project's copy wins."""
    return lambda _current: text
