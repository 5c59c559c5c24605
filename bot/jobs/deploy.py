"""Putting the project's templates (and the gadget) on a wiki, idempotently."""

from __future__ import annotations

import logging
from importlib.resources.abc import Traversable

import pywikibot
from pywikibot.site import APISite

from bot.core import resources
from bot.core.errors import ConfigError, WikiAccessError
from bot.core.messages import Messages

log = logging.getLogger(__name__)

TEMPLATES_DIR = resources.wikitemplates("templates")
DEFINITION = "MediaWiki:Gadgets-definition"


def languages() -> list[str]:
    """Languages the templates exist in: English, and one folder per translation."""
    return ["en", *resources.subfolders(TEMPLATES_DIR)]


def template_sources(lang: str = "en", directory: Traversable = TEMPLATES_DIR) -> dict[str, str]:
    """Page title -> wikitext for every template of ``lang`` (files ``<Title>.wikitext``)."""
    folder = directory if lang == "en" else directory / lang
    if not folder.is_dir():
        raise ConfigError(f"there are no templates in {lang!r}; known: {', '.join(languages())}")
    return {
        f"Template:{name}": (folder / f"{name}.wikitext").read_text(encoding="utf-8")
        for name in resources.stems(folder, ".wikitext")
    }


def wiki_language(site: APISite, configured: str | None = None) -> str:
    """The language to install in: configured, else the wiki's own when translated, else en."""
    if configured:
        return configured
    lang = str(site.lang)
    return lang if lang in languages() else "en"


def _save(site: APISite, title: str, text: str, summary: str) -> bool:
    page = pywikibot.Page(site, title)
    current = page.text if page.exists() else None
    # MediaWiki strips trailing whitespace on save; compare the same way.
    if current is not None and current.rstrip() == text.rstrip():
        return False
    page.text = text
    try:
        page.save(summary=summary, bot=True, watch="nochange")
    except pywikibot.exceptions.Error as error:
        raise WikiAccessError(f"saving {title} failed: {error}") from error
    log.info("saved %s", title)
    return True


def deploy(
    site: APISite,
    *,
    lang: str = "en",
    api_url: str | None = None,
    messages: Messages | None = None,
) -> list[str]:
    """Install the templates in ``lang`` and, given the Join API's URL, the gadget.

    Returns the titles saved; a second run saves nothing. The gadget's pages are in the
    MediaWiki namespace: the bot account needs the interface-admin right for them.
    """
    messages = messages or Messages()
    pages = template_sources(lang)
    if api_url:
        from bot.core.gadget_pages import gadget_pages, merge_definition

        pages.update(gadget_pages(api_url, lang))
        definition = pywikibot.Page(site, DEFINITION)
        pages[DEFINITION] = merge_definition(definition.text if definition.exists() else "")
    summary = messages.text("summary-deploy")
    return [title for title, text in pages.items() if _save(site, title, text, summary)]
