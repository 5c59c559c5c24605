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

    first = deploy(site, gadget=False)
    assert sorted(first) == sorted(sources)
    assert deploy(site, gadget=False) == []

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
    assert deploy(site, gadget=False) == ["Template:Program notice"]


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


def test_deploy_without_a_join_api_installs_the_wiki_edit_mode(wikis: Farm) -> None:
    """`programs-bot deploy` as an operator runs it: no Join API, so the gadget edits pages
    as the logged-in reader. The local wikis have no Extension:OAuth, so a Join API's URL
    changes nothing there; where a wiki has it, deploy switches the script to the API."""
    import json
    import os
    import subprocess
    import sys

    from bot.core.gadget_pages import DEFINITION_PAGE, SCRIPT_PAGE, gadget_pages

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "deploy", *args],
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout + done.stderr

    def config() -> dict[str, object]:
        script = admin.get_text(SCRIPT_PAGE) or ""
        start = script.index("/*CONFIG*/") + len("/*CONFIG*/")
        loaded: dict[str, object] = json.loads(script[start : script.index("/*END*/", start)])
        return loaded

    admin = wikis.content.admin_client()
    said = cli()
    assert "the Join gadget in the wiki-edit mode (no Join API)" in said
    for title, text in gadget_pages(None, "en").items():
        assert (admin.get_text(title) or "") == text, title
    assert config()["mode"] == "wiki-edit" and "apiUrl" not in config()
    assert "* programs-bot[ResourceLoader|default|" in (admin.get_text(DEFINITION_PAGE) or "")

    api_url = "https://programs-bot.example.org"
    said = cli("--api-url", api_url)
    assert "wiki-edit mode: the wiki has no Extension:OAuth" in said
    assert "0 page(s) changed" in said and config()["mode"] == "wiki-edit"

    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    assert deploy(site, api_url=api_url) == [SCRIPT_PAGE]
    assert config()["mode"] == "join-api" and config()["apiUrl"] == api_url


def test_the_gadget_s_mode_follows_the_wiki_and_the_account(wikis: Farm) -> None:
    from bot.jobs.deploy import GADGET_RIGHTS, choose_gadget, gadget_plan

    url = "https://programs-bot.example.org"
    both = ["Gadgets", "OAuth"]
    assert choose_gadget(url, extensions=both, rights=GADGET_RIGHTS).mode == "join-api"
    assert choose_gadget(url, extensions=both, rights=GADGET_RIGHTS).api_url == url
    assert choose_gadget(None, extensions=both, rights=GADGET_RIGHTS).mode == "wiki-edit"
    no_oauth = choose_gadget(url, extensions=["Gadgets"], rights=GADGET_RIGHTS)
    assert no_oauth.mode == "wiki-edit" and no_oauth.api_url is None
    no_gadgets = choose_gadget(url, extensions=["OAuth"], rights=GADGET_RIGHTS)
    assert not no_gadgets.install and no_gadgets.mode is None
    assert "Extension:Gadgets" in no_gadgets.note
    no_rights = choose_gadget(url, extensions=both, rights=["editinterface"])
    assert not no_rights.install and "editsitejs, editsitecss" in no_rights.note

    # The local wiki as the bot's BotPassword sees it: Gadgets, no OAuth, every right.
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    plan = gadget_plan(site, url)
    assert plan.install and plan.mode == "wiki-edit" and plan.api_url is None


def test_a_placeholder_for_the_join_apis_url_is_refused(wikis: Farm) -> None:
    """The README's '<Join API URL>' left as it is must not end up in the gadget."""
    import os
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "deploy", "--api-url", "<Join API URL>"],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
        check=False,
    )
    assert run.returncode == 1
    assert "the Join API's URL must be http(s)://host[/path]" in run.stderr
    saved = wikis.content.sql("SELECT COUNT(*) FROM page WHERE page_namespace = 10")[0][0]
    assert saved == 0
