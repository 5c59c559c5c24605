"""Finding wikis from host names: Wikimedia hosts work as they are, unknown hosts never."""

from __future__ import annotations

import pytest

from bot.core.errors import UnknownWikiError
from bot.core.messages import Messages, nowiki
from bot.core.model import Notice
from bot.core.render import notice_text

wikis = pytest.importorskip("bot.wiki.sites")


@pytest.mark.parametrize(
    ("host", "family", "code"),
    [
        ("en.wikipedia.org", "wikipedia", "en"),
        ("de.wikipedia.org", "wikipedia", "de"),
        ("commons.wikimedia.org", "commons", "commons"),
        ("www.wikidata.org", "wikidata", "wikidata"),
        ("fr.wikisource.org", "wikisource", "fr"),
    ],
)
def test_wikimedia_hosts_need_no_configuration(host: str, family: str, code: str) -> None:
    # Only the mapping: creating the Site would contact the real wiki.
    assert wikis.family_and_code(host) == (family, code)


@pytest.mark.parametrize(
    "host", ["unknown.example.org", "en.wikipedia.org/../x", "{{evil}}", "", "a b"]
)
def test_unknown_hosts_are_refused_without_asking_them(host: str) -> None:
    with pytest.raises(UnknownWikiError):
        wikis.site_for_host(host)


def test_text_from_pages_is_made_inert_in_notices() -> None:
    hostile = "x}}{{Delete|now}}|[[Category:Spam]]</nowiki><script>"
    text = notice_text(Notice("unknown-user", (hostile,)), Messages())
    assert nowiki(hostile) in text
    assert "</nowiki><script>" not in text
    assert text.count("<nowiki>") == 1 and text.count("</nowiki>") == 1
