"""Automatic user-page and talk-page edits: off by default, never twice, never with nobots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.markers import add_marker, remove_marker
from bot.core.settings import BotConfig, WikiSettings, config_from_mapping
from harness import Farm

MARKER = "Participant editor"
PROGRAM = "Project:Edit-a-thon"


def test_markers_are_added_once_and_removed_cleanly() -> None:
    page = "About me.\n{{Babel|en}}"
    once = add_marker(page, MARKER, PROGRAM)
    assert once == "{{Participant editor|program=Project:Edit-a-thon}}\n" + page
    assert add_marker(once, MARKER, "project:Edit-a-thon") is None  # never twice
    other = add_marker(once, MARKER, "Project:Another")
    assert other is not None and other.count("{{Participant editor") == 2
    assert remove_marker(once, MARKER, PROGRAM) == page
    assert remove_marker(page, MARKER, PROGRAM) is None
    assert add_marker("", MARKER, PROGRAM) == "{{Participant editor|program=Project:Edit-a-thon}}"


def test_settings_are_off_unless_a_wiki_turns_them_on(tmp_path: Path) -> None:
    config = config_from_mapping({"wikis": {"EN.wikipedia.org": {"user_page_templates": True}}})
    assert config.wiki("en.wikipedia.org") == WikiSettings(user_page_templates=True)
    assert config.wiki("de.wikipedia.org") == WikiSettings()
    for bad in (
        {"wikis": {"x.org": {"user_page_templates": "yes"}}},
        {"wikis": {"x.org": {"colour": "blue"}}},
        {"extra": 1},
    ):
        with pytest.raises(ConfigError):
            config_from_mapping(bad)


pywikibot = pytest.importorskip("pywikibot")


@pytest.mark.wiki
def test_joining_and_leaving_mark_the_user_page(wikis: Farm, tmp_path: Path) -> None:
    from bot.jobs.joins import Worker
    from bot.store import JOIN, LEAVE, Store

    host = wikis.content.host
    admin = wikis.content.admin_client()
    title = "Content Wiki:Marked program"
    today = datetime.now(UTC).date()
    admin.edit(
        title,
        "{{Program details\n|start="
        + str(today - timedelta(days=1))
        + "\n|end="
        + str(today + timedelta(days=1))
        + f"\n|wikis={host}\n}}}}\n"
        "{{Participants table}}\n{{End of participants table}}",
    )
    admin.edit("User:Bob", "Bob's page.")
    admin.edit("User:Carol", "{{nobots}}\nCarol wants no bots here.")
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    pywikibot.Site(wikis.content.name, wikis.content.name)
    config = BotConfig({host: WikiSettings(user_page_templates=True)})
    worker = Worker(store, worker_id="w", config=config)
    now = datetime.now(UTC)
    for name in ("Bob", "Carol", "Dave"):
        store.record_join(host, title, name, JOIN, now)
    assert worker.run_once().applied == 3

    marker = "{{Participant editor|program=Content Wiki:Marked program}}"
    assert admin.get_text("User:Bob") == marker + "\nBob's page."
    assert admin.get_text("User:Carol") == "{{nobots}}\nCarol wants no bots here."
    assert admin.get_text("User:Dave") == marker  # a missing user page is created
    summary = wikis.content.sql(
        "SELECT rc_bot, comment_text FROM recentchanges JOIN comment ON comment_id = "
        "rc_comment_id WHERE rc_title = 'Bob' AND rc_namespace = 2 ORDER BY rc_id DESC"
    )[0]
    assert summary[0] == 1 and "{{Participant editor}}" in summary[1]

    store.record_join(host, title, "Bob", LEAVE, now)
    assert worker.run_once().applied == 1
    assert admin.get_text("User:Bob") == "Bob's page."

    # Off by default: another worker without settings touches no user page.
    store.record_join(host, title, "Eve", JOIN, now)
    Worker(store, worker_id="plain").run_once()
    assert admin.get_text("User:Eve") is None


@pytest.mark.wiki
def test_refresh_marks_instructors_and_talk_pages_once(wikis: Farm, tmp_path: Path) -> None:
    from bot.jobs.refresh import Refresher
    from bot.store import Store

    host = wikis.content.host
    admin = wikis.content.admin_client()
    alice = wikis.content.client("Alice")
    alice.edit("Marie Curie", "Physicist.")
    alice.edit("Talk:Marie Curie", "Old discussion.")
    title = "Content Wiki:Assigned program"
    today = datetime.now(UTC).date()
    admin.edit(
        title,
        "{{Program details\n|organizer=Admin\n|facilitators=Alice\n|start="
        + str(today - timedelta(days=1))
        + "\n|end="
        + str(today + timedelta(days=1))
        + f"\n|wikis={host}\n|articles=Marie Curie, Lise Meitner\n}}}}\n"
        "{{Participants table}}\n{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{End of participants table}}",
    )
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    config = BotConfig({host: WikiSettings(user_page_templates=True, talk_page_notices=True)})
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    refresher = Refresher(store, config=config)
    assert refresher.refresh(pywikibot.Page(site, title)).saved_revid is not None

    notice = "{{Program assignment|program=Content Wiki:Assigned program}}"
    assert admin.get_text("Talk:Marie Curie") == notice + "\nOld discussion."
    assert admin.get_text("Talk:Lise Meitner") == notice
    instructor = "{{Program instructor|program=Content Wiki:Assigned program}}"
    assert admin.get_text("User:Alice") == instructor
    assert admin.get_text("User:Admin") == instructor

    alice.append("Marie Curie", " More.")  # a change: the next refresh saves again
    assert refresher.refresh(pywikibot.Page(site, title)).saved_revid is not None
    assert (admin.get_text("Talk:Marie Curie") or "").count("{{Program assignment") == 1
    assert (admin.get_text("User:Alice") or "").count("{{Program instructor") == 1
