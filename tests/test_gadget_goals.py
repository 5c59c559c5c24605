"""Goals in the gadget: the Join API's summary carries each goal of ``goals=`` with what the
figures reached, and the gadget draws a bar per goal, on the real local wiki.

The reached figures are checked against the wiki's own tables (harness.dbcount), never
against the bot's output; the bars in headless Chromium (Debian's, as in
test_gadget_browser.py), in English, in German and on a phone's screen.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator

from api_support import Clock, api_config, wiki_entry
from bot.store import Store
from gadget_api import create_app
from harness import PROJECT_ROOT, Farm
from harness.dbcount import DB_FIGURES, DbCounts, db_counts
from join_load import ServedApp
from test_gadget_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DE,
    EN,
    Console,
    _browser_or_skip,
    deploy,
    new_context,
    page_url,
)

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

from bot.jobs.refresh import Refresher  # noqa: E402

GOALS_PROGRAM = "Project:Goal edit-a-thon"
PLAIN_PROGRAM = "Project:Plain edit-a-thon"
#: As organizers write them; "words" is no figure, so it is no goal.
GOALS = (
    "articles_created: 4, edits: 3, participants: 2, bytes added: 10,000, pageviews: 100, words: 7"
)
#: The goals the API answers with, in the order written (the bad one left out).
TARGETS = [
    ("articles_created", 4),
    ("edits", 3),
    ("participants", 2),
    ("bytes_added", 10000),
    ("pageviews", 100),
]
PARTICIPANTS = ("Alice", "Bob")
SCREENSHOT = PROJECT_ROOT / "docs" / "images" / "screenshot-goals.png"


def program_text(wikis: Farm, name: str, goals: str = "") -> str:
    today = datetime.now(UTC).date()
    rows = "".join(
        f"{{{{Participant table row|username={user}|joined={today}}}}}\n" for user in PARTICIPANTS
    )
    return (
        "{{Program details\n"
        f"|name={name}\n|organizer=Admin\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={wikis.content.host}\n"
        + (f"|goals={goals}\n" if goals else "")
        + "}}\n{{Participants table}}\n"
        + rows
        + "{{End of participants table}}\n"
    )


def contribute(participant: Callable[..., Any]) -> None:
    """Two new articles (one of them edited twice) by the participants."""
    participant("Alice").edit("Goal article one", "A first article about a scientist.", "new")
    participant("Bob").edit("Goal article two", "A second article.", "new")
    participant("Bob").edit("Goal article two", "A second article, somewhat longer now.", "more")


def refresh(wikis: Farm, title: str, tmp_path: Path) -> None:
    """The bot's refresh of the page, as its scheduler makes it."""
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    Refresher(Store(f"sqlite:///{tmp_path / 'bot.sqlite'}")).refresh(pywikibot.Page(site, title))


def counted(wikis: Farm) -> DbCounts:
    """The participants' figures in the program's window, from the wiki's own tables."""
    today = datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=1), datetime.min.time(), UTC)
    end = datetime.combine(today + timedelta(days=1), datetime.max.time(), UTC)
    return db_counts(wikis.content, PARTICIPANTS, start, end)


def expected_goals(counts: DbCounts) -> list[dict[str, Any]]:
    """The goals with the independent counts: a wiki figure from the database, the
    participants from the page's rows, pageviews not known (no pageview service here)."""
    known = {name: getattr(counts, name) for name in DB_FIGURES}
    known["participants"] = len(PARTICIPANTS)
    return [
        {"figure": name, "target": target, "reached": known.get(name)} for name, target in TARGETS
    ]


@pytest.fixture
def client(wikis: Farm, tmp_path: Path) -> FlaskClient:
    return create_app(
        api_config(tmp_path, [wiki_entry(wikis.content)]), clock=Clock()
    ).test_client()


def summary(client: FlaskClient, wikis: Farm, title: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/programs/{wikis.content.host}/{title}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def test_the_summary_carries_the_goals_and_what_they_reached(
    wikis: Farm, participant: Callable[..., Any], client: FlaskClient, tmp_path: Path
) -> None:
    admin = wikis.content.admin_client()
    contribute(participant)
    admin.edit(GOALS_PROGRAM, program_text(wikis, "Goals", GOALS))
    admin.edit(PLAIN_PROGRAM, program_text(wikis, "Plain"))

    # Before the bot's first run the page holds no figures: every goal not known yet.
    before = summary(client, wikis, GOALS_PROGRAM)["goals"]
    assert before == [{"figure": f, "target": t, "reached": None} for f, t in TARGETS]

    refresh(wikis, GOALS_PROGRAM, tmp_path)
    refresh(wikis, PLAIN_PROGRAM, tmp_path)
    counts = counted(wikis)
    assert (counts.articles_created, counts.edits) == (2, 3)  # what contribute() made
    body = summary(client, wikis, GOALS_PROGRAM)
    assert body["goals"] == expected_goals(counts)
    assert body["participant_count"] == len(PARTICIPANTS)

    # The answer is the one the served document describes.
    document = client.get("/api/v1/openapi.json").get_json()
    OAS30Validator(document["components"]["schemas"]["Summary"]).validate(body)

    # A program without goals has none, also after the bot's run.
    assert summary(client, wikis, PLAIN_PROGRAM)["goals"] == []


# -- the bars in the browser ------------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def api(wikis: Farm, tmp_path: Path) -> Iterator[ServedApp]:
    """The Join API over HTTP; showing goals needs no sign-in (no OAuth, no worker)."""
    served = ServedApp(create_app(api_config(tmp_path, [wiki_entry(wikis.content)])))
    try:
        yield served
    finally:
        served.stop()


def grouped(number: int, separator: str) -> str:
    return f"{number:,}".replace(",", separator)


def progress_text(messages: dict[str, str], reached: int, target: int, separator: str) -> str:
    return (
        messages["programs-bot-gadget-goal-progress"]
        .replace("$1", grouped(reached, separator))
        .replace("$2", grouped(target, separator))
        .replace("$3", str(reached * 100 // target))
    )


def bars(page: Any) -> list[dict[str, Any]]:
    """Each goal as shown: its figure, name, text, and the fill's share of the bar's width."""
    result: list[dict[str, Any]] = page.evaluate(
        """() => Array.from(document.querySelectorAll('.programs-bot-panel-goal')).map(li => {
            const bar = li.querySelector('.programs-bot-panel-goal-bar');
            const fill = li.querySelector('.programs-bot-panel-goal-fill');
            return {
                figure: li.dataset.figure,
                name: li.querySelector('.programs-bot-panel-goal-name').textContent,
                text: li.querySelector('.programs-bot-panel-goal-text').textContent,
                share: fill.getBoundingClientRect().width / bar.getBoundingClientRect().width,
                barWidth: bar.getBoundingClientRect().width,
                reached: li.classList.contains('programs-bot-panel-goal-reached'),
                fill: getComputedStyle(fill).backgroundColor,
            };
        })"""
    )
    return result


def check_bars(page: Any, counts: DbCounts, messages: dict[str, str], separator: str) -> None:
    shown = bars(page)
    expected = expected_goals(counts)
    assert [bar["figure"] for bar in shown] == [goal["figure"] for goal in expected]
    for bar, goal in zip(shown, expected, strict=True):
        figure = str(goal["figure"])
        target: int = goal["target"]
        reached: int | None = goal["reached"]
        assert bar["name"] == messages[f"programs-bot-gadget-figure-{figure.replace('_', '-')}"]
        assert bar["barWidth"] > 50, bar
        if reached is None:
            unknown = messages["programs-bot-gadget-goal-unknown"]
            assert bar["text"] == unknown.replace("$1", grouped(target, separator))
            assert bar["share"] == 0 and not bar["reached"]
            continue
        assert bar["text"] == progress_text(messages, reached, target, separator), bar
        assert bar["share"] == pytest.approx(min(1, reached / target), abs=0.01), bar
        assert bar["reached"] == (reached >= target)
        # Green once reached, blue before.
        assert bar["fill"] == ("rgb(20, 134, 109)" if reached >= target else "rgb(51, 102, 204)")


def test_the_gadget_draws_a_bar_per_goal(
    wikis: Farm,
    participant: Callable[..., Any],
    api: ServedApp,
    browser: Any,
    tmp_path: Path,
) -> None:
    deploy(wikis, api.url)
    admin = wikis.content.admin_client()
    contribute(participant)
    admin.edit(GOALS_PROGRAM, program_text(wikis, "Goals", GOALS))
    admin.edit(PLAIN_PROGRAM, program_text(wikis, "Plain"))
    refresh(wikis, GOALS_PROGRAM, tmp_path)
    counts = counted(wikis)
    assert counts.bytes_added < 10_000  # the goal is far off: a short bar

    console = Console()
    context = new_context(browser, locale="en-US")
    page = console.watch(context.new_page())
    page.goto(page_url(wikis, GOALS_PROGRAM))
    page.locator(".programs-bot-panel-goal").first.wait_for()
    heading = page.locator(".programs-bot-panel-goals-heading")
    assert heading.inner_text() == EN["programs-bot-gadget-goals"]
    check_bars(page, counts, EN, ",")
    # The bar says the same to a screen reader.
    edits = page.locator('.programs-bot-panel-goal[data-figure="edits"] [role="progressbar"]')
    assert edits.get_attribute("aria-valuenow") == str(counts.edits)
    assert edits.get_attribute("aria-valuemax") == "3"
    pageviews = page.locator(
        '.programs-bot-panel-goal[data-figure="pageviews"] [role="progressbar"]'
    )
    assert pageviews.get_attribute("aria-valuenow") is None
    shot = page.locator(".programs-bot-panel").screenshot(path=str(tmp_path / "goals-en.png"))
    if os.environ.get("PROGRAMS_BOT_UPDATE_SCREENSHOT"):
        SCREENSHOT.write_bytes(shot)  # the documentation's picture, on request only

    # In German: the figures' names, the text and the numbers in the reader's language.
    page.goto(page_url(wikis, GOALS_PROGRAM, uselang="de"))
    page.locator(".programs-bot-panel-goal").first.wait_for()
    assert (
        page.locator(".programs-bot-panel-goals-heading").inner_text()
        == DE["programs-bot-gadget-goals"]
    )
    check_bars(page, counts, DE, ".")

    # A program without goals shows no goal section.
    page.goto(page_url(wikis, PLAIN_PROGRAM))
    page.locator(".programs-bot-panel-count").wait_for()
    assert page.locator(".programs-bot-panel-goal").count() == 0
    assert not page.locator(".programs-bot-panel-goals").is_visible()
    context.close()

    # On a phone: every bar as wide as the panel allows, nothing wider than the screen.
    phone = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True
    )
    phone.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    page = console.watch(phone.new_page())
    page.goto(page_url(wikis, GOALS_PROGRAM))
    page.locator(".programs-bot-panel-goal").first.wait_for()
    check_bars(page, counts, EN, ",")
    fits = page.evaluate(
        """() => {
            const panel = document.querySelector('.programs-bot-panel').getBoundingClientRect();
            const goals = '.programs-bot-panel-goal, .programs-bot-panel-goal *';
            return Array.from(document.querySelectorAll(goals))
                .every(e => {
                    const box = e.getBoundingClientRect();
                    return box.left >= panel.left - 0.5 && box.right <= panel.right + 0.5
                        && box.right <= window.innerWidth;
                });
        }"""
    )
    assert fits
    page.locator(".programs-bot-panel").screenshot(path=str(tmp_path / "goals-phone.png"))
    phone.close()
    assert not console.problems, console.problems
    print(f"\ngoal bars: screenshots in {tmp_path}")


def test_goals_the_gadget_cannot_read_do_not_break_it(
    wikis: Farm, api: ServedApp, browser: Any
) -> None:
    """A figure the gadget has no name for (a newer API's), a target or a reached figure
    that is no number: the panel shows what it can and works on."""
    deploy(wikis, api.url)
    wikis.content.admin_client().edit(GOALS_PROGRAM, program_text(wikis, "Goals", GOALS))

    def odd_goals(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        body["goals"] = [
            {"figure": "talk_edits", "target": 40, "reached": 10},
            {"figure": "edits", "target": 0, "reached": 3},
            {"figure": "uploads", "target": "many", "reached": 1},
            {"figure": "edits", "target": 5, "reached": "lots"},
            None,
            "edits",
        ]
        route.fulfill(response=response, body=json.dumps(body))

    console = Console()
    context = new_context(browser, locale="en-US")
    page = console.watch(context.new_page())
    page.route(f"{api.url}/api/v1/programs/**", odd_goals)
    page.goto(page_url(wikis, GOALS_PROGRAM))
    page.locator(".programs-bot-panel-count").wait_for()
    shown = page.locator(".programs-bot-panel-goal")
    assert shown.count() == 2
    assert shown.nth(0).locator(".programs-bot-panel-goal-name").inner_text() == "talk edits"
    assert shown.nth(0).locator(".programs-bot-panel-goal-text").inner_text() == "10 of 40 (25%)"
    unknown = EN["programs-bot-gadget-goal-unknown"].replace("$1", "5")
    assert shown.nth(1).locator(".programs-bot-panel-goal-text").inner_text() == unknown
    assert page.locator(".programs-bot-panel-join").is_visible()
    context.close()
    assert not console.problems, console.problems
