"""`deploy` puts the templates on a real wiki, and a second run edits nothing."""

from __future__ import annotations

import pytest

from harness import Farm

pytestmark = pytest.mark.wiki

pywikibot = pytest.importorskip("pywikibot")

from bot.jobs.deploy import category_sources, deploy, template_sources  # noqa: E402


def test_deploy_is_idempotent_and_the_pages_match(wikis: Farm) -> None:
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    sources = {**template_sources(), **category_sources()}
    assert "Template:Program details" in sources and "Template:Program notice" in sources
    assert "Category:Programs" in sources

    first = deploy(site)
    assert sorted(first) == sorted(sources)
    assert deploy(site) == []

    admin = wikis.content.admin_client()
    for title, text in sources.items():
        assert (admin.get_text(title) or "").rstrip() == text.rstrip(), title
    # Each save is a bot edit with the deploy summary.
    rows = wikis.content.sql(
        "SELECT COUNT(*), SUM(rc_bot) FROM recentchanges JOIN comment ON comment_id = "
        "rc_comment_id WHERE rc_namespace IN (10, 14) AND comment_text LIKE 'Bot: %'"
    )
    assert rows[0] == (len(sources), len(sources))

    # A local change is put back on the next run, and only that page is saved.
    admin.edit("Template:Program notice", "vandalised")
    assert deploy(site) == ["Template:Program notice"]


def test_deploy_in_german_with_the_gadget(wikis: Farm) -> None:
    from bot.core.gadget_pages import DEFINITION_PAGE as DEFINITION
    from bot.core.gadget_pages import gadget_pages, merge_definition
    from bot.jobs.deploy import template_sources

    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    admin = wikis.content.admin_client()
    admin.edit(DEFINITION, "== Local ==\n* local-gadget[ResourceLoader]|local.js")
    api_url = "https://programs-bot.example.org"

    saved = deploy(site, lang="de", api_url=api_url)
    german = {**template_sources("de"), **category_sources("de")}
    assert "Template:Programmdetails" in german
    expected = {*german, *gadget_pages(api_url, "de"), DEFINITION}
    assert set(saved) == expected
    assert deploy(site, lang="de", api_url=api_url) == []

    definition = admin.get_text(DEFINITION) or ""
    assert definition.startswith("== Local ==\n* local-gadget[ResourceLoader]|local.js")
    assert merge_definition(definition) == definition
    script = admin.get_text("MediaWiki:Gadget-programs-bot.js") or ""
    assert '"apiUrl":"https:\\/\\/programs-bot.example.org"' in script  # "/" escaped
    # The gadget's pages are bot edits like the templates.
    rows = wikis.content.sql(
        "SELECT COUNT(*), SUM(rc_bot) FROM recentchanges WHERE rc_namespace = 8 "
        "AND rc_title LIKE 'Gadget-%'"
    )
    assert rows[0] == (4, 4)  # script, style, description, section: all bot edits


def test_the_gadgets_pages_are_not_programs(wikis: Farm) -> None:
    """The gadget's style sheet names {{Program details}} in a comment, and the wiki records
    it as using the template; refresh --all must not take it for a program page."""
    import os
    import subprocess
    import sys

    from bot.wiki.discovery import program_pages

    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    deploy(site, api_url="https://programs-bot.example.org")
    style = "MediaWiki:Gadget-programs-bot.css"
    template = pywikibot.Page(site, "Template:Program details")
    users = [p.title() for p in template.getReferences(only_template_inclusion=True)]
    assert style in users  # what the wiki's own link tables say
    assert style not in [page.title() for page in program_pages(site)]

    everything = subprocess.run(
        [sys.executable, "-m", "bot.cli", "refresh", "--all"],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=300,
        check=False,
    )
    assert everything.returncode == 0, everything.stderr
    assert style not in everything.stderr


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_tracking_category_of_the_templates_gets_a_page(wikis: Farm, lang: str) -> None:
    """The templates put pages in tracking categories; deploy writes those categories'
    pages, so a program page shows no red category link."""
    import re

    from bot.core.pageformat import page_format
    from test_templates import parse

    linked = {
        f"Category:{name.strip()}"
        for text in template_sources(lang).values()
        for name in re.findall(r"\[\[(?:Category|\{\{ns:14\}\}):([^\]|]+)", text)
    }
    assert linked == set(category_sources(lang))

    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    deploy(site, lang=lang)
    text = "{{" + page_format(lang).name("Program details") + "}}"
    parsed = parse(wikis.content.api_url, title="Some program", text=text)
    shown = parsed["categories"]
    assert shown and all(not category.get("missing") for category in shown), shown
