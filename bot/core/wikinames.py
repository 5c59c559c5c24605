"""The names people use for wikis: "English Wikipedia", "Wikimedia Commons", a wiki's own
site name, or the name its table in ``programs-bot.toml`` gives it.

A page still lists and keys its wikis by host (``wikis=en.wikipedia.org``); the names are
for what people read, in the page's language. A Wikimedia language edition
(``<code>.wikipedia.org`` and its sister projects) is named from the language of its
subdomain, with the names the CLDR gives in ``i18n/languages/<lang>.json`` and the forms of
``i18n/bot/<lang>.json`` ("$1 Wikipedia", "$1sprachige Wikipedia"). The subdomain, not the
wiki's content language: simple.wikipedia.org is written in English too. Every other wiki
has a name of its own: the configured one, a Wikimedia proper name, or its site name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from bot.core import resources
from bot.core.messages import Messages, inert

#: Wikimedia's projects with one wiki per language, named "<language> <project>".
PROJECTS = (
    "wikipedia",
    "wiktionary",
    "wikibooks",
    "wikinews",
    "wikiquote",
    "wikisource",
    "wikiversity",
    "wikivoyage",
)
_EDITION = re.compile(rf"^(?P<code>[a-z][a-z0-9-]*)\.(?P<project>{'|'.join(PROJECTS)})\.org$")

#: Wikimedia wikis whose name is the same in every language (the sitename some give, such
#: as "Meta" or "MediaWiki", is not what people call them).
WIKIMEDIA_NAMES = {
    "commons.wikimedia.org": "Wikimedia Commons",
    "www.wikidata.org": "Wikidata",
    "meta.wikimedia.org": "Meta-Wiki",
    "species.wikimedia.org": "Wikispecies",
    "www.mediawiki.org": "MediaWiki.org",
    "incubator.wikimedia.org": "Wikimedia Incubator",
    "www.wikifunctions.org": "Wikifunctions",
    "wikisource.org": "Multilingual Wikisource",
    "simple.wikipedia.org": "Simple English Wikipedia",
    "simple.wiktionary.org": "Simple English Wiktionary",
    "test.wikipedia.org": "Test Wikipedia",
    "test2.wikipedia.org": "Test2 Wikipedia",
    "test.wikidata.org": "Test Wikidata",
    "test-commons.wikimedia.org": "Test Commons",
}

LANGUAGES_DIR = resources.i18n("languages")


@dataclass(frozen=True)
class WikiName:
    """What a wiki is called: its own name, or its project and language (a Wikimedia
    language edition, named in the reader's language)."""

    host: str
    own: str = ""
    project: str = ""
    code: str = ""


@dataclass(frozen=True)
class SpokenName:
    """A wiki's name in one language: on its own ("English Wikipedia", a table cell) and as
    a place in a sentence (German "in der englischsprachigen Wikipedia")."""

    name: str
    place: str


def wiki_name(
    host: str,
    configured: str | None = None,
    sitename: Callable[[], str | None] = lambda: None,
) -> WikiName:
    """The name of the wiki at ``host``: ``configured`` (programs-bot.toml) first, then a
    Wikimedia name, then ``sitename()`` (asked only when needed), then the host."""
    host = host.strip().lower()
    if configured and configured.strip():
        return WikiName(host, own=configured.strip())
    if host in WIKIMEDIA_NAMES:
        return WikiName(host, own=WIKIMEDIA_NAMES[host])
    edition = _EDITION.match(host)
    if edition:
        return WikiName(host, project=edition["project"], code=edition["code"])
    return WikiName(host, own=(sitename() or "").strip() or host)


@cache
def language_names(lang: str) -> Mapping[str, str]:
    """The names of the languages of Wikimedia's language editions in ``lang``, by
    subdomain; empty for a language the project has no names for."""
    return resources.banana_messages(LANGUAGES_DIR / f"{lang}.json")


def spoken(wiki: WikiName, messages: Messages) -> SpokenName:
    """The wiki's name in the language of ``messages``; a language edition whose language
    has no name there is called by its host."""
    if wiki.project:
        language = language_names(messages.lang).get(wiki.code)
        if language:
            forms = (language, language.lower())
            return SpokenName(
                messages.text(f"wiki-{wiki.project}", *forms),
                messages.text(f"wiki-{wiki.project}-place", *forms),
            )
    own = inert(wiki.own or wiki.host)
    return SpokenName(own, messages.text("wiki-place", own))
