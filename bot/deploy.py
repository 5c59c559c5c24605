"""Putting the project's templates on a wiki, idempotently."""

from __future__ import annotations

import logging
from pathlib import Path

import pywikibot
from pywikibot.site import APISite

from bot import PROJECT_ROOT
from bot.errors import WikiAccessError

log = logging.getLogger(__name__)

TEMPLATES_DIR = PROJECT_ROOT / "wikitemplates" / "templates"
SUMMARY = "Bot: installing the programs-bot template from the project's wikitemplates/"


def template_sources(directory: Path = TEMPLATES_DIR) -> dict[str, str]:
    """Page title -> wikitext for every template file (``<Title>.wikitext``)."""
    return {
        f"Template:{path.stem}": path.read_text(encoding="utf-8")
        for path in sorted(directory.glob("*.wikitext"))
    }


def deploy_templates(site: APISite, directory: Path = TEMPLATES_DIR) -> list[str]:
    """Create or update each template page whose text differs; returns the titles saved."""
    changed = []
    for title, text in template_sources(directory).items():
        page = pywikibot.Page(site, title)
        current = page.text if page.exists() else None
        # MediaWiki strips trailing whitespace on save; compare the same way.
        if current is not None and current.rstrip() == text.rstrip():
            continue
        page.text = text
        try:
            page.save(summary=SUMMARY, bot=True, watch="nochange")
        except pywikibot.exceptions.Error as error:
            raise WikiAccessError(f"saving {title} failed: {error}") from error
        changed.append(title)
        log.info("saved %s", title)
    return changed
