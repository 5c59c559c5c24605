"""A full refresh writes new and retained editors, file usage and pageviews on the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness import Farm, tiny_png
from harness.pageviews_server import PageviewsServer

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import current_outcomes_param  # noqa: E402
from bot.core.settings import BotConfig, WikiSettings  # noqa: E402
from bot.jobs.refresh import Refresher  # noqa: E402
from bot.store import Store  # noqa: E402

TITLE = "Content Wiki:Extras program"


def test_extra_figures_on_a_full_refresh(wikis: Farm, tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    wikis.media.client("Alice").upload("Extras-1.png", tiny_png(41), "a file")
    alice = wikis.content.client("Alice")
    alice.edit("Illustrated article", "Text [[File:Extras-1.png]].")
    wikis.content.client("Bob").edit("Other article", "Also [[File:Extras-1.png]].")
    alice.edit("Other article", "Also [[File:Extras-1.png]], improved by Alice.")
    wikis.content.admin_client().edit(
        TITLE,
        "{{Program details\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={wikis.content.host}, {wikis.media.host}\n}}}}\n{{{{Participants table}}}}\n"
        "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{End of participants table}}\n",
    )
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    with PageviewsServer() as views:
        views.set_views(wikis.content.host, "Illustrated article", {today: 7})
        views.set_views(wikis.content.host, "Other article", {today: 5})
        config = BotConfig({wikis.content.host: WikiSettings(pageviews_url=views.url)})
        store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
        refresher = Refresher(store, config=config)
        refresher.refresh(pywikibot.Page(site, TITLE), full=True)
        text = wikis.content.admin_client().get_text(TITLE) or ""

        def param(name: str) -> str | None:
            return current_outcomes_param(text, name)

        # Alice's account was made when the test wikis were: a new editor, in the wiki's
        # own user table too.
        registered = wikis.content.sql(
            "SELECT user_registration FROM user WHERE user_name = 'Alice'"
        )[0][0]
        assert str(registered).startswith(today.strftime("%Y%m%d"))
        assert param("new_editors") == "1"
        assert param("retained_7") == "unknown" and param("retained_30") == "unknown"
        # Two content articles use the file; the count matches the wiki's imagelinks.
        used = wikis.content.sql(
            "SELECT COUNT(DISTINCT il_from) FROM imagelinks JOIN page ON page_id = il_from "
            "WHERE il_to = 'Extras-1.png' AND page_namespace = 0"
        )[0][0]
        assert param("file_usage") == str(used) == "2"
        assert param("pageviews") == "12"
        # Created (its first revision Alice's, in the wiki's tables) and improved, apart.
        created = {
            title
            for (title,) in wikis.content.sql(
                "SELECT page_title FROM page JOIN revision ON rev_page = page_id "
                "JOIN actor ON actor_id = rev_actor WHERE rev_parent_id = 0 "
                "AND actor_name = 'Alice' AND page_namespace = 0"
            )
        }
        assert created == {"Illustrated_article"}
        assert (param("pageviews_created"), param("pageviews_improved")) == ("7", "5")

        # An incremental refresh keeps them without asking again.
        asked = views.request_count
        alice.append("Illustrated article", " More.")
        refresher.refresh(pywikibot.Page(site, TITLE), full=False)
        text = wikis.content.admin_client().get_text(TITLE) or ""
        assert current_outcomes_param(text, "pageviews") == "12"
        assert views.request_count == asked

        # A repeat full count asks the usage of the files it knows in its first request on
        # each wiki, not in requests of its own, and sees a new use.
        wikis.content.client("Carol").edit("Third user", "[[File:Extras-1.png]]")
        wikis.content.run_jobs()
        from pywikibot.comms import http

        sent: list[str] = []

        def hook(response: object, *args: object, **kwargs: object) -> object:
            request = getattr(response, "request", None)
            sent.append(f"{getattr(request, 'url', '')} {getattr(request, 'body', '')}")
            return response

        http.session.hooks["response"].append(hook)
        try:
            refresher.refresh(pywikibot.Page(site, TITLE), full=True)
        finally:
            http.session.hooks["response"].remove(hook)
        text = wikis.content.admin_client().get_text(TITLE) or ""
        used = wikis.content.sql(
            "SELECT COUNT(DISTINCT il_from) FROM imagelinks JOIN page ON page_id = il_from "
            "WHERE il_to = 'Extras-1.png' AND page_namespace = 0"
        )[0][0]
        assert current_outcomes_param(text, "file_usage") == str(used) == "3"
        usage = [line for line in sent if "fileusage" in line]
        assert len(usage) == 2 and all("usercontribs" in line for line in usage), usage


def test_a_first_count_writes_every_field_so_the_scheduler_has_nothing_to_add(
    wikis: Farm, tmp_path: Path
) -> None:
    """``refresh`` counts incrementally once a page was counted; its first count fetches
    everything, so it writes the extra figures too, and the scheduler's first (full) refresh
    of the page finds nothing to change."""
    from bot.jobs.scheduler import Scheduler

    today = datetime.now(UTC).date()
    wikis.content.client("Alice").edit("First count article", "Text.")
    admin = wikis.content.admin_client()
    admin.edit(
        TITLE,
        "{{Program details\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={wikis.content.host}\n}}}}\n{{{{Participants table}}}}\n"
        "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{End of participants table}}\n",
    )
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    store = Store(f"sqlite:///{tmp_path / 'first.sqlite'}")
    Refresher(store).refresh(pywikibot.Page(site, TITLE), full=False)
    text = admin.get_text(TITLE) or ""
    assert current_outcomes_param(text, "new_editors") == "1"
    assert current_outcomes_param(text, "file_usage") == "0"
    revid = admin.latest_revid(TITLE)

    scheduler = Scheduler(store, site, worker_id="first-count")
    assert scheduler.discover() == 1
    cycle = scheduler.cycle()
    assert cycle.refreshed == 1 and cycle.edited == 0
    assert admin.latest_revid(TITLE) == revid
