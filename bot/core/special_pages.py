"""What MediaWiki answers for a special page it lacks: how an extension that is not
installed shows (Special:OAuth without Ext:OAuth, say)."""

from __future__ import annotations

#: The class MediaWiki's skins give the body of a page for a special page it lacks
#: (Skin::getPageClasses); the page is "No such special page", HTTP 404 by default.
NO_SUCH_SPECIAL_PAGE = "mw-invalidspecialpage"


def no_such_special_page(content_type: str, body: str) -> bool:
    """Whether an answer is MediaWiki's page for a special page it does not have."""
    return content_type.startswith("text/html") and NO_SUCH_SPECIAL_PAGE in body
