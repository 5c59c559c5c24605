"""Finding the pages that use one of the project's templates, in every language it has."""

from __future__ import annotations

import pywikibot
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.site import APISite

from bot.core.errors import WikiAccessError
from bot.core.pageformat import PageFormat, available_formats

TEMPLATE_NAMESPACE = 10


def names_of(template: str) -> list[str]:
    """A template's name in every language the project knows (English first)."""
    names: list[str] = []
    for fmt in available_formats():
        name = fmt.name(template)
        if name not in names:
            names.append(name)
    return names


def pages_using(site: APISite, template: str, *, content: bool = False) -> list[pywikibot.Page]:
    """Pages using the template ``template`` (a canonical name) under any of its names,
    each once, sorted by title. Template pages (documentation examples) are left out, and
    pages that are not wikitext: a style sheet or a script that names the template in a
    comment is recorded as using it, but is no program. With ``content`` their texts come
    along, in the same batched requests."""
    found: dict[str, pywikibot.Page] = {}
    for name in names_of(template):
        page = pywikibot.Page(site, name, ns=TEMPLATE_NAMESPACE)
        try:
            using = list(site.page_embeddedin(page, filter_redirects=False, content=content))
        except PywikibotError as error:
            raise WikiAccessError(f"cannot list the pages using {name}: {error}") from error
        for user in using:
            # The generator's page info carries the content model: no request per page.
            if user.namespace() != TEMPLATE_NAMESPACE and user.content_model == "wikitext":
                found.setdefault(user.title(), user)
    return [found[title] for title in sorted(found)]


def program_pages(site: APISite, *, content: bool = False) -> list[pywikibot.Page]:
    """Every program page on ``site``: pages using {{Program details}} in any language."""
    return pages_using(site, PageFormat.details, content=content)


def campaign_pages(site: APISite) -> list[pywikibot.Page]:
    """Every campaign page on ``site``: pages using {{Campaign details}} in any language."""
    return pages_using(site, PageFormat.campaign_details)
