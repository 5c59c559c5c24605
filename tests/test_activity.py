"""The activity chart: bars per day or week, checked against the wiki's own revision table,
and drawn on the real local wiki (a headless Chromium takes the documentation's picture)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.activity import Bar, activity_bars
from bot.core.model import Window
from harness import Farm

PICTURE = Path(__file__).resolve().parents[1] / "docs" / "images" / "activity-chart.png"


def _window(start: date, end: date) -> Window:
    return Window(
        datetime.combine(start, datetime.min.time(), UTC),
        datetime.combine(end, datetime.max.time(), UTC),
    )


def test_a_bar_per_day_up_to_the_last_day_with_an_edit() -> None:
    window = _window(date(2026, 11, 1), date(2026, 11, 30))
    per_day = {date(2026, 11, 2): (3, 1), date(2026, 11, 4): (5, 2)}
    assert activity_bars(per_day, window) == (
        "day",
        [
            Bar(date(2026, 11, 1), 0, 0),
            Bar(date(2026, 11, 2), 3, 1),
            Bar(date(2026, 11, 3), 0, 0),
            Bar(date(2026, 11, 4), 5, 2),
        ],
    )


def test_a_long_program_is_drawn_per_week_from_monday() -> None:
    window = _window(date(2026, 1, 1), date(2026, 6, 30))  # 1 January 2026 is a Thursday
    per_day = {date(2026, 1, 1): (2, 1), date(2026, 1, 4): (1, 1), date(2026, 1, 5): (4, 2)}
    period, bars = activity_bars(per_day, window)
    assert period == "week"
    assert bars == [Bar(date(2025, 12, 29), 3, 2), Bar(date(2026, 1, 5), 4, 2)]


def test_no_edits_no_chart() -> None:
    window = _window(date(2026, 11, 1), date(2026, 11, 30))
    assert activity_bars({}, window) == ("day", [])


# -- on the local wikis ----------------------------------------------------------------------

pywikibot = pytest.importorskip("pywikibot")

from bot.jobs.refresh import Refresher  # noqa: E402
from bot.store import Store  # noqa: E402

TITLE = "Project:Activity program"


@pytest.mark.wiki
def test_the_chart_counts_as_the_wikis_tables_do(
    wikis: Farm, participant: Callable[..., Any], tmp_path: Path
) -> None:
    participant("Alice").edit("Activity one", "First article.", "new")
    participant("Alice").edit("Activity one", "First article, longer.", "x")
    participant("Bob").edit("Activity two", "Second article.", "new")
    participant("Bob").edit("Project:Not an article", "Prose.", "x")
    participant("Carol").edit("Activity three", "Not a participant.", "x")
    today = datetime.now(UTC).date()
    admin = participant("Admin")
    admin.edit(
        TITLE,
        "{{Program details\n|name=Activity\n|organizer=Admin\n"
        f"|start={today - timedelta(days=3)}\n|end={today + timedelta(days=3)}\n"
        f"|wikis={wikis.content.host}\n}}}}\n{{{{Participants table}}}}\n"
        "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{Participant table row|username=Bob|joined=2026-11-01}}\n"
        "{{End of participants table}}\n",
        "program",
    )
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    result = Refresher(Store(f"sqlite:///{tmp_path / 's.sqlite'}")).refresh(
        pywikibot.Page(site, TITLE)
    )

    rows = wikis.content.sql(
        "SELECT substr(r.rev_timestamp, 1, 8), COUNT(*),"
        " COUNT(DISTINCT CASE WHEN p.page_namespace = 0 AND p.page_is_redirect = 0"
        " THEN p.page_id END)"
        " FROM revision r JOIN actor a ON a.actor_id = r.rev_actor"
        " JOIN page p ON p.page_id = r.rev_page"
        " WHERE a.actor_name IN ('Alice', 'Bob') GROUP BY 1"
    )
    expected = {datetime.strptime(day, "%Y%m%d").date(): (n, a) for day, n, a in rows}
    assert result.outcomes is not None
    assert dict(result.outcomes.per_day) == expected
    assert expected[today] == (4, 2)
    text = admin.get_text(TITLE) or ""
    start = today - timedelta(days=3)
    assert f"{{{{Program activity row|start={start}|edits=0|articles=0|max=4}}}}" in text
    assert f"{{{{Program activity row|start={today}|edits=4|articles=2|max=4}}}}" in text
    assert f"start={today + timedelta(days=1)}" not in text  # up to the last active day
    if os.environ.get("PROGRAMS_BOT_UPDATE_SCREENSHOT"):
        _picture(wikis, admin)


def _picture(wikis: Farm, admin: Any) -> None:
    """The documentation's picture of the chart, on a phone-sized screen."""
    from test_gadget_browser import CHROMIUM, CHROMIUM_ARGS, _browser_or_skip
    from test_templates import template_files

    for name, path in template_files().items():
        admin.edit(f"Template:{name}", path.read_text(encoding="utf-8"), "templates")
    admin.edit(TITLE, (admin.get_text(TITLE) or "") + "\n", "purge")
    with _browser_or_skip()() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 420, "height": 900})
            page.goto(f"{wikis.content.index_url}?title={TITLE.replace(' ', '_')}")
            chart = page.locator("table.programs-bot-outcomes")
            chart.screenshot(path=str(PICTURE))
        finally:
            browser.close()
