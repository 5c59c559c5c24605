"""Putting the project's templates (and the gadget) on a wiki, idempotently."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources.abc import Traversable

from pywikibot.site import APISite

from bot.core import resources
from bot.core.errors import ConfigError
from bot.core.gadget_pages import DEFINITION_PAGE, gadget_pages, merge_definition
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


def deploy(
    site: APISite,
    *,
    lang: str = "en",
    api_url: str | None = None,
    messages: Messages | None = None,
    stop_page: str | None = None,
    simulate: bool = False,
) -> list[str]:
    """Install the templates in ``lang`` (and their tracking categories' pages) and, given
    the Join API's URL, the gadget.

    Returns the titles saved (with ``simulate``: that would be saved); a second run saves
    nothing. The gadget's pages are in the MediaWiki namespace: the bot account needs the
    interface-admin right for them. Raises StopPageError when the stop page says stop.
    """
    messages = messages or Messages()
    pages: dict[str, Callable[[str], str]] = {
        title: _replacing(text)
        for title, text in {**template_sources(lang), **category_sources(lang)}.items()
    }
    if api_url:
        pages.update(
            {title: _replacing(text) for title, text in gadget_pages(api_url, lang).items()}
        )
        pages[DEFINITION_PAGE] = merge_definition
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


def _replacing(text: str) -> Callable[[str], str]:
    """A page's new text whatever it holds now: the project's copy wins."""
    return lambda _current: text
