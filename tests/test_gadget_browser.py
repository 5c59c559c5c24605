"""End to end in headless Chromium: the gadget on a real MediaWiki wiki (1.39, or 1.43 with
LOCALWIKI_MEDIAWIKI_DIR pointing at its tree), in both of its modes.

The templates and the gadget are put on the content wiki the way ``programs-bot deploy`` does
(bot/core/gadget_pages.py builds the pages and the Gadgets-definition line).

- The join-api mode: the Join API is served over HTTP with the local Special:OAuth provider,
  and the bot's worker runs beside it. A logged-out reader opens a program page, clicks Join,
  signs in as Bob in the popup, and sees the bot's edit: Bob's row in the participant table,
  highlighted, and a Leave button. Then "Update statistics now" and Leave; and Join on a
  closed program, in English and in German.
- The wiki-edit mode (no Join API): a logged-out reader is asked to log in; a user whose name
  needs inert writing joins and leaves, each time by their own edit of the page, which the
  bot's parser reads back as that user; an organizer's edit made between the gadget's read
  and its save is kept; a blocked user, a row an organizer wrote and a registration closed
  meanwhile are refused as the Join API refuses them. The gadget's row writing is compared
  with the bot's (bot/core/rows.py) on a corpus of pages, through MediaWiki's parse trees.

Every page the browser shows is watched: any error or warning in the console (deprecated
ResourceLoader modules included) fails the test, on 1.39 as on 1.43.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's Python package; Playwright
never downloads a browser here. Under CI=true a missing browser fails the test.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import pytest
import requests

from api_support import api_config, wiki_entry
from bot.core.dates import parse_moment
from bot.core.gadget_pages import DEFINITION_PAGE, gadget_pages, merge_definition
from bot.core.program_page import parse_program_page
from bot.core.rows import add_rows, remove_rows
from bot.core.wikitext import inert_text, read_name
from bot.store import Store
from gadget_api import create_app
from harness import PROJECT_ROOT, Farm, LocalWiki
from harness.oauth_provider import Consumer, OAuthProvider
from join_load import ServedApp, WorkerThread

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEMPLATES = PROJECT_ROOT / "wikitemplates" / "templates"
SCREENSHOT = PROJECT_ROOT / "docs" / "images" / "screenshot-join.png"
EN = json.loads((PROJECT_ROOT / "i18n" / "gadget" / "en.json").read_text(encoding="utf-8"))
DE = json.loads((PROJECT_ROOT / "i18n" / "gadget" / "de.json").read_text(encoding="utf-8"))
OPEN_PROGRAM = "Content Wiki:Meetup/Women in Science edit-a-thon"
CLOSED_PROGRAM = "Content Wiki:Meetup/Closed workshop"
CLOSING_PROGRAM = "Content Wiki:Meetup/Closing soon"
#: A user name that shows as markup unless written inert ("=" ends a parameter's name,
#: "''" is italics): rows.py writes it O&#39;&#39;Hara&#61;Lee.
HOSTILE_USER = "O''Hara=Lee"
#: Milliseconds to wait for anything the worker, the API or the wiki does.
WAIT_MS = 30_000


def _browser_or_skip() -> Any:
    """Playwright's sync_playwright, or skip (fail under CI=true) saying what is missing."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        reason = f"the Python package playwright is not installed ({error})"
    if reason is None and not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        reason = f"{CHROMIUM} is missing (Debian's chromium package)"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"headless Chromium required under CI=true: {reason}", pytrace=False)
        pytest.skip(f"headless Chromium not available: {reason}")
    return sync_playwright


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


#: What Chromium logs for every HTTP error answer to a page's request.
HTTP_ERROR = re.compile(r"^Failed to load resource: the server responded with a status of (\d+)")


class Console:
    """Every page error, console error and console warning of the pages it watches.

    MediaWiki reports a deprecated ResourceLoader module (1.43: "mediawiki.ui.button ...
    Please use Codex") and jQuery Migrate a deprecated jQuery call as console warnings.
    ``answers``: HTTP error statuses a test provokes from the Join API on purpose (its
    error codes come with 4xx statuses), which Chromium logs as console errors too."""

    def __init__(self, api_url: str | None = None, answers: Collection[int] = ()) -> None:
        self.problems: list[str] = []
        self.api_url = api_url
        self.answers = set(answers)

    def provoked(self, message: Any) -> bool:
        status = HTTP_ERROR.match(message.text)
        source = str(message.location.get("url", ""))
        return bool(
            status
            and self.api_url
            and source.startswith(self.api_url + "/")
            and int(status[1]) in self.answers
        )

    def watch(self, page: Any) -> Any:
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                self.problems.append(f"{page.url}: console {message.type}: {message.text}")
                if message.type in ("error", "warning") and not self.provoked(message)
                else None
            ),
        )
        return page


def new_context(browser: Any, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": 1100, "height": 820}, **options)
    context.set_default_timeout(WAIT_MS)
    # php -S serves no favicon, and Chromium logs the 404 of its request as a console error.
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    return context


def log_in(context: Any, wiki: LocalWiki, username: str) -> None:
    """The browser logged in as ``username``, with the session of a login made through the
    API (1.39's own login form uses the deprecated module mediawiki.ui)."""
    client = wiki.client(username)
    context.add_cookies(
        [{"name": c.name, "value": c.value or "", "url": wiki.url} for c in client.http.cookies]
    )


def program_text(wikis: Farm, name: str, registration: str, rows: str = "") -> str:
    today = datetime.now(UTC).date()
    return (
        "An edit-a-thon to write about women scientists. Everyone is welcome!\n\n"
        "{{Program details\n"
        f"|name={name}\n|organizer=Alice\n|facilitators=Carol\n"
        f"|start={today - timedelta(days=2)}\n|end={today + timedelta(days=12)}\n"
        f"|wikis={wikis.content.host}\n|registration={registration}\n"
        "|campaign=Wiki Science\n}}\n\n"
        "== Participants ==\n"
        "{{Participants table}}\n"
        f"{rows}"
        "{{End of participants table}}\n"
    )


@dataclass
class Stack:
    """The Join API, its OAuth provider and the worker, serving the content wiki."""

    api: ServedApp
    store: Store
    provider: OAuthProvider


@pytest.fixture
def stack(wikis: Farm, tmp_path: Path) -> Iterator[Stack]:
    # The consumer's callback is the served API's address, known only once it listens.
    provider = OAuthProvider(wikis.content, []).start()
    key, secret = secrets.token_hex(16), secrets.token_hex(16)
    entry = wiki_entry(wikis.content, provider.index_url, consumer_key=key, consumer_secret=secret)
    config = api_config(tmp_path, [entry], public_url="http://127.0.0.1")
    served = ServedApp(create_app(config))
    provider.add_consumer(
        Consumer(key, secret, f"{served.url}/oauth/callback", name="programs-bot Join button")
    )
    store = Store(config["store_url"])
    pywikibot.Site(wikis.content.name, wikis.content.name)
    worker = WorkerThread(store)
    try:
        yield Stack(served, store, provider)
    finally:
        worker.stop()
        served.stop()
        provider.stop()


def deploy(wikis: Farm, api_url: str | None) -> None:
    """What ``programs-bot deploy`` does: the templates, the gadget, its definition line
    (``api_url`` None: the wiki-edit mode)."""
    admin = wikis.content.admin_client()
    for path in sorted(TEMPLATES.glob("*.wikitext")):
        admin.edit(f"Template:{path.stem}", path.read_text(encoding="utf-8"), "deploy")
    for title, text in gadget_pages(api_url, "en").items():
        admin.edit(title, text, "deploy the programs-bot gadget")
    existing = admin.get_text(DEFINITION_PAGE) or ""
    admin.edit(DEFINITION_PAGE, merge_definition(existing), "add the programs-bot gadget")
    # Saved as is: the pre-save transform changed nothing (a later deploy edits nothing).
    for title, text in gadget_pages(api_url, "en").items():
        assert admin.get_text(title) == text, title


def page_url(wikis: Farm, title: str, **params: str) -> str:
    query = "".join(f"&{k}={quote(v)}" for k, v in params.items())
    return f"{wikis.content.index_url}?title={quote(title.replace(' ', '_'))}{query}"


def test_join_in_the_browser(wikis: Farm, stack: Stack, browser: Any, tmp_path: Path) -> None:
    started = time.monotonic()
    deploy(wikis, stack.api.url)
    admin = wikis.content.admin_client()
    admin.edit(
        OPEN_PROGRAM,
        program_text(
            wikis,
            "Women in Science edit-a-thon",
            "open",
            "{{Participant table row|username=Alice|joined=2026-11-01}}\n",
        ),
    )
    admin.edit(CLOSED_PROGRAM, program_text(wikis, "Closed workshop", "closed"))
    admin.edit(CLOSING_PROGRAM, program_text(wikis, "Closing soon", "open"))
    deployed = time.monotonic()

    # Provoked below: registration closed (409) and a token the API no longer knows (401).
    console = Console(stack.api.url, answers=(401, 409))
    context = new_context(browser, locale="en-US")
    page = console.watch(context.new_page())

    # -- on by default, also for logged-out readers; idle on other pages ------------
    page.goto(page_url(wikis, "Main Page"))
    # Loaded by the page itself (getState, unlike using(), loads nothing).
    page.wait_for_function("mw.loader.getState('ext.gadget.programs-bot') === 'ready'")
    assert page.locator(".programs-bot-panel").count() == 0

    # -- a logged-out reader joins -------------------------------------------------
    page.goto(page_url(wikis, OPEN_PROGRAM))
    count = page.locator(".programs-bot-panel-count")
    count.wait_for()
    assert count.inner_text() == "1 participant"
    state = page.locator(".programs-bot-panel-registration")
    assert state.inner_text() == EN["programs-bot-gadget-registration-open"]
    join = page.locator(".programs-bot-panel-join")
    assert join.is_visible() and join.inner_text() == "Join"
    assert not page.locator(".programs-bot-panel-leave").is_visible()
    assert page.locator(".programs-bot-panel-public").count() == 0  # private joins: the API's

    # A sign-in given up: the popup is closed without allowing.
    with page.expect_popup() as opened:
        join.click()
    popup = opened.value
    popup.locator("input[name=username]").fill("Bob")
    popup.locator("input[name=cancel]").click()
    popup.wait_for_load_state()
    popup.close()
    closed = page.locator('.programs-bot-panel-message[data-code="popup-closed"]')
    closed.wait_for()
    assert closed.inner_text() == EN["programs-bot-gadget-popup-closed"]

    with page.expect_popup() as opened:
        join.click()
    popup = opened.value
    popup.locator("input[name=username]").fill("Bob")
    with popup.expect_event("close"):
        popup.locator("#mw-mwoauth-accept").click()

    bob = page.locator('tr.programs-bot-participant[data-username="Bob"]')
    bob.wait_for()
    assert "programs-bot-own-row" in (bob.get_attribute("class") or "")
    leave = page.locator(".programs-bot-panel-leave")
    leave.wait_for(state="visible")
    assert not join.is_visible()
    message = page.locator(".programs-bot-panel-message")
    assert message.inner_text() == EN["programs-bot-gadget-join-applied"]
    page.locator(".programs-bot-panel-count", has_text="2 participants").wait_for()
    assert page.locator(".programs-bot-panel-user").inner_text() == "Signed in as Bob."
    text = admin.get_text(OPEN_PROGRAM) or ""
    assert "{{Participant table row|username=Bob|" in text
    page.locator(".programs-bot-panel").scroll_into_view_if_needed()
    shot = page.locator("#content").screenshot(path=str(tmp_path / SCREENSHOT.name))
    if os.environ.get("PROGRAMS_BOT_UPDATE_SCREENSHOT"):
        # The documentation's picture: rewritten only on request, not on every run.
        SCREENSHOT.write_bytes(shot)
    joined = time.monotonic()

    # -- update statistics now, then leave ------------------------------------------
    page.locator(".programs-bot-panel-refresh").click()
    page.locator(
        ".programs-bot-panel-message",
        has_text=EN["programs-bot-gadget-refresh-queued"],
    ).wait_for()
    leave.click()
    bob.wait_for(state="detached")
    page.locator(".programs-bot-panel-join").wait_for(state="visible")
    assert (
        page.locator(".programs-bot-panel-message").inner_text()
        == (EN["programs-bot-gadget-leave-applied"])
    )
    assert "username=Bob" not in (admin.get_text(OPEN_PROGRAM) or "")

    # -- a private join: recorded by the API, never written on the page ---------------------
    before = admin.get_text(OPEN_PROGRAM)
    private = page.locator(".programs-bot-panel-private")
    assert private.inner_text() == EN["programs-bot-gadget-private"]
    private.locator("input").check()
    page.locator(".programs-bot-panel-join").click()
    page.locator(
        ".programs-bot-panel-message", has_text=EN["programs-bot-gadget-join-private-applied"]
    ).wait_for()
    leave.wait_for(state="visible")
    assert not private.is_visible()
    request = stack.store.latest_join(wikis.content.host, OPEN_PROGRAM, "Bob")
    assert request is not None and request.private and request.action == "join"
    assert admin.get_text(OPEN_PROGRAM) == before
    assert bob.count() == 0
    leave.click()
    page.locator(".programs-bot-panel-join").wait_for(state="visible")
    page.locator(
        ".programs-bot-panel-message", has_text=EN["programs-bot-gadget-leave-applied"]
    ).wait_for()
    assert admin.get_text(OPEN_PROGRAM) == before

    # -- Join on a closed program, in English and in German ---------------------------
    closed_en = EN["programs-bot-gadget-error-registration-closed"]
    closed_de = DE["programs-bot-gadget-error-registration-closed"]
    assert closed_en != closed_de
    for params, expected, state_text in (
        ({}, closed_en, EN["programs-bot-gadget-registration-closed"]),
        ({"uselang": "de"}, closed_de, DE["programs-bot-gadget-registration-closed"]),
    ):
        page.goto(page_url(wikis, CLOSED_PROGRAM, **params))
        page.locator(".programs-bot-panel-count").wait_for()
        assert page.locator(".programs-bot-panel-registration").inner_text() == state_text
        page.locator(".programs-bot-panel-join").click()
        error = page.locator('.programs-bot-panel-message[data-code="registration-closed"]')
        error.wait_for()
        assert error.inner_text() == expected

    # The API's own answer: registration closed after the page was shown.
    page.goto(page_url(wikis, CLOSING_PROGRAM, uselang="de"))
    page.locator(".programs-bot-panel-count").wait_for()
    assert page.locator(".programs-bot-panel-join").inner_text() == (DE["programs-bot-gadget-join"])
    admin.edit(CLOSING_PROGRAM, program_text(wikis, "Closing soon", "closed"))
    page.locator(".programs-bot-panel-join").click()  # signed in still: no popup
    error = page.locator('.programs-bot-panel-message[data-code="registration-closed"]')
    error.wait_for()
    assert error.inner_text() == closed_de
    assert "username=Bob" not in (admin.get_text(CLOSING_PROGRAM) or "")

    # A token the API no longer knows: dropped, and the reader asked to sign in again.
    key = f"programs-bot-token:{stack.api.url}"
    page.evaluate(
        """key => sessionStorage.setItem(key, JSON.stringify({token: 'expired',
            username: 'Bob', wiki: location.host, expires: '2099-01-01T00:00:00Z'}))""",
        key,
    )
    page.locator(".programs-bot-panel-refresh").click()
    error = page.locator('.programs-bot-panel-message[data-code="invalid-token"]')
    error.wait_for()
    assert error.inner_text() == DE["programs-bot-gadget-error-invalid-token"]
    assert page.evaluate("key => sessionStorage.getItem(key)", key) is None
    context.close()

    assert not console.problems, console.problems
    assert (tmp_path / SCREENSHOT.name).stat().st_size > 10_000
    print(
        f"\ngadget browser test: deploy and pages {deployed - started:.1f} s, "
        f"join seen {joined - deployed:.1f} s, total {time.monotonic() - started:.1f} s; "
        f"screenshot in {tmp_path} (PROGRAMS_BOT_UPDATE_SCREENSHOT=1 also updates {SCREENSHOT})"
    )


# -- the wiki-edit mode ---------------------------------------------------------------------


def revisions(wiki: LocalWiki, title: str) -> list[dict[str, Any]]:
    """The page's revisions, newest first: revid, user, comment, text."""
    answer = wiki.admin_client().get(
        {
            "action": "query",
            "prop": "revisions",
            "titles": title,
            "rvprop": "ids|user|comment|content",
            "rvslots": "main",
            "rvlimit": "max",
        }
    )
    return [
        {
            "revid": rev["revid"],
            "user": rev["user"],
            "comment": rev["comment"],
            "text": rev["slots"]["main"]["content"],
        }
        for rev in answer["query"]["pages"][0]["revisions"]
    ]


def today_or_yesterday() -> set[str]:
    """The join date the gadget writes (the browser's UTC date), should midnight pass."""
    now = datetime.now(UTC)
    return {now.date().isoformat(), (now - timedelta(minutes=5)).date().isoformat()}


def joined_by_gadget(old: str, new: str, username: str) -> bool:
    """``new`` is ``old`` with the row the bot itself would add for ``username``."""
    return any(new == add_rows(old, [(username, day)])[0] for day in today_or_yesterday())


def test_join_by_editing_the_page(wikis: Farm, browser: Any) -> None:
    started = time.monotonic()
    wiki = wikis.content
    wiki.create_users([HOSTILE_USER])
    deploy(wikis, None)
    admin = wiki.admin_client()
    admin.post({"action": "block", "user": "Dave", "expiry": "1 day", "reason": "test"})
    organizer_row = "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
    admin.edit(
        OPEN_PROGRAM, program_text(wikis, "Women in Science edit-a-thon", "open", organizer_row)
    )
    original = admin.get_text(OPEN_PROGRAM) or ""  # as stored: without the final newline
    admin.edit(CLOSING_PROGRAM, program_text(wikis, "Closing soon", "open"))
    console = Console()

    # -- a logged-out reader is asked to log in ------------------------------------------
    reader = new_context(browser, locale="en-US")
    page = console.watch(reader.new_page())
    page.goto(page_url(wikis, OPEN_PROGRAM))
    page.locator(".programs-bot-panel-count", has_text="1 participant").wait_for()
    assert (
        page.locator(".programs-bot-panel-public").inner_text()
        == (EN["programs-bot-gadget-public-only"])
    )
    assert not page.locator(".programs-bot-panel-refresh").is_visible()  # needs the API
    assert page.locator(".programs-bot-panel-user").count() == 0
    page.locator(".programs-bot-panel-join").click()
    asked = page.locator('.programs-bot-panel-message[data-code="login-needed"]')
    asked.wait_for()
    assert asked.inner_text().startswith(EN["programs-bot-gadget-login-needed"])
    login = asked.locator("a.programs-bot-panel-login")
    assert login.inner_text() == EN["programs-bot-gadget-login"]
    href = login.get_attribute("href") or ""
    assert "Special:UserLogin" in href
    assert parse_qs(href.split("?", 1)[1])["returnto"] == [OPEN_PROGRAM.replace(" ", "_")]
    assert admin.get_text(OPEN_PROGRAM) == original
    reader.close()

    # -- a user whose name needs inert writing joins, by their own edit -----------------
    context = new_context(browser, locale="en-US")
    log_in(context, wiki, HOSTILE_USER)
    page = console.watch(context.new_page())
    page.goto(page_url(wikis, OPEN_PROGRAM))
    page.locator(".programs-bot-panel-count").wait_for()
    assert page.locator(".programs-bot-panel-user").inner_text() == f"Signed in as {HOSTILE_USER}."
    page.locator(".programs-bot-panel-join").click()
    own = page.locator("tr.programs-bot-own-row")
    own.wait_for()
    assert own.get_attribute("data-username") == HOSTILE_USER
    page.locator(".programs-bot-panel-leave").wait_for(state="visible")
    assert not page.locator(".programs-bot-panel-join").is_visible()
    assert (
        page.locator(".programs-bot-panel-message").inner_text()
        == (EN["programs-bot-gadget-join-applied"])
    )
    assert (
        page.locator(".programs-bot-panel-joined").inner_text()
        == (EN["programs-bot-gadget-you-joined"])
    )
    page.locator(".programs-bot-panel-count", has_text="2 participants").wait_for()
    latest = revisions(wiki, OPEN_PROGRAM)[0]
    assert latest["user"] == HOSTILE_USER
    assert latest["comment"] == EN["programs-bot-gadget-summary-join"]
    assert joined_by_gadget(original, latest["text"], HOSTILE_USER), latest["text"]
    assert "|username=O&#39;&#39;Hara&#61;Lee|" in latest["text"]
    assert [row.username for row in parse_program_page(latest["text"]).rows] == [
        "Alice",
        HOSTILE_USER,
    ]

    # A second click finds the row and saves nothing.
    page.reload()
    page.locator(".programs-bot-panel-leave").wait_for(state="visible")
    assert not page.locator(".programs-bot-panel-join").is_visible()

    # -- and leaves: only their own row goes, every other byte stays ---------------------
    page.locator(".programs-bot-panel-leave").click()
    own.wait_for(state="detached")
    page.locator(".programs-bot-panel-join").wait_for(state="visible")
    assert (
        page.locator(".programs-bot-panel-message").inner_text()
        == (EN["programs-bot-gadget-leave-applied"])
    )
    latest = revisions(wiki, OPEN_PROGRAM)[0]
    assert latest["user"] == HOSTILE_USER
    assert latest["comment"] == EN["programs-bot-gadget-summary-leave"]
    assert latest["text"] == original

    # -- an organizer edits the same lines between the gadget's read and its save ---------
    with_carol = original.replace(
        organizer_row,
        organizer_row + "{{Participant table row|username=Carol|joined=2026-11-02}}\n",
    )
    answers: list[dict[str, Any]] = []

    def organizer_first(route: Any) -> None:
        if "action=edit" not in (route.request.post_data or ""):
            route.continue_()
            return
        if not answers:
            admin.edit(OPEN_PROGRAM, with_carol, "adding Carol by hand")
        response = route.fetch()
        answers.append(response.json())
        route.fulfill(response=response)

    page.route("**/api.php", organizer_first)
    page.locator(".programs-bot-panel-join").click()
    own.wait_for()
    page.locator(".programs-bot-panel-leave").wait_for(state="visible")
    page.unroute("**/api.php")
    # The first save met the organizer's edit: the gadget read the page again and added
    # its row to what the organizer had saved.
    assert [a.get("errors", [{}])[0].get("code") for a in answers] == ["editconflict", None]
    assert answers[1]["edit"]["result"] == "Success"
    history = revisions(wiki, OPEN_PROGRAM)
    assert history[1]["text"] == with_carol and history[1]["user"] == "Admin"
    assert history[0]["user"] == HOSTILE_USER
    assert joined_by_gadget(with_carol, history[0]["text"], HOSTILE_USER), history[0]["text"]
    assert [row.username for row in parse_program_page(history[0]["text"]).rows] == [
        "Alice",
        "Carol",
        HOSTILE_USER,
    ]

    # -- an organizer removes that row: the gadget does not put it back ------------------
    admin.edit(OPEN_PROGRAM, with_carol, "removing a participant")
    page.reload()
    page.locator(".programs-bot-panel-count", has_text="2 participants").wait_for()
    page.locator(".programs-bot-panel-join").click()
    error = page.locator('.programs-bot-panel-message[data-code="removed-by-organizer"]')
    error.wait_for()
    assert error.inner_text() == EN["programs-bot-gadget-error-removed-by-organizer"]
    assert revisions(wiki, OPEN_PROGRAM)[0]["user"] == "Admin"
    version = page.evaluate("mw.config.get('wgVersion')")
    context.close()

    # -- a row an organizer wrote is theirs: no Leave for it -----------------------------
    context = new_context(browser, locale="en-US")
    log_in(context, wiki, "Alice")
    page = console.watch(context.new_page())
    page.goto(page_url(wikis, OPEN_PROGRAM))
    page.locator(".programs-bot-panel-joined").wait_for()
    assert (
        page.locator(".programs-bot-panel-joined").inner_text()
        == (EN["programs-bot-gadget-you-listed"])
    )
    assert not page.locator(".programs-bot-panel-leave").is_visible()
    assert not page.locator(".programs-bot-panel-join").is_visible()
    assert "programs-bot-own-row" in (
        page.locator('tr.programs-bot-participant[data-username="Alice"]').get_attribute("class")
        or ""
    )

    # -- registration closed after the page was shown: the page as read now decides -------
    page.goto(page_url(wikis, CLOSING_PROGRAM, uselang="de"))
    page.locator(".programs-bot-panel-count").wait_for()
    admin.edit(CLOSING_PROGRAM, program_text(wikis, "Closing soon", "closed"))
    closing = admin.get_text(CLOSING_PROGRAM)
    page.locator(".programs-bot-panel-join").click()
    error = page.locator('.programs-bot-panel-message[data-code="registration-closed"]')
    error.wait_for()
    assert error.inner_text() == DE["programs-bot-gadget-error-registration-closed"]
    assert admin.get_text(CLOSING_PROGRAM) == closing
    context.close()

    # -- a blocked user: the wiki refuses the edit, the gadget says why ------------------
    context = new_context(browser, locale="en-US")
    log_in(context, wiki, "Dave")
    page = console.watch(context.new_page())
    page.goto(page_url(wikis, OPEN_PROGRAM))
    page.locator(".programs-bot-panel-count").wait_for()
    before = admin.get_text(OPEN_PROGRAM)
    page.locator(".programs-bot-panel-join").click()
    error = page.locator('.programs-bot-panel-message[data-code="user-blocked"]')
    error.wait_for()
    assert error.inner_text() == EN["programs-bot-gadget-error-user-blocked"]
    assert admin.get_text(OPEN_PROGRAM) == before
    context.close()

    assert not console.problems, console.problems
    print(
        f"\nwiki-edit mode browser test on MediaWiki {version}: {time.monotonic() - started:.1f} s"
    )


# -- the gadget writes and reads rows as the bot does ----------------------------------------

#: Names as the wiki lets people choose them, many of them markup unless written inert.
NAMES = [
    "Bob",
    HOSTILE_USER,
    "Two~~Tildes",
    "Tilde~ ~~Spaced",
    "Eq=Name",
    "1=Alice",
    "O''Brien'''Bold",
    "Tom & Jerry;x",
    "Tom &amp; Jerry",
    "----Dash",
    "*Star",
    ";Semi",
    "!Bang",
    '"Quoted" name',
    "Under__score",
    "مرحبا بالعالم",
    "שלום עולם",
    "Ame\u0301lie",
    "Emoji 🎉",
    "𐐨astral first",
    "L" * 235,
]
#: Values as organizers write them in a row's username.
WRITTEN = [
    "Alice",
    "bob_x",
    "  spaced   name ",
    "A&#61;B",
    "O&#39;&#39;Brien",
    "Tom &amp; Jerry",
    "&notit; &amp &#x1F389; &#0; &#99999999999; &rlm;x &#1114112; &AMP;",
    "<nowiki>Sig~~~~</nowiki>",
    "<NOWIKI >a</nowiki ><nowiki/>b",
    "\u200fRtl mark",
    "e\u0301mile",
    "i\u0307x",
    "ǆemal",
    "ßtraße",
    "\u3000wide\u3000space\u2003",
    "\x1cfile sep",
    "\ufeffbom",
]
DATES = [
    "2026-11-01",
    " 2026-11-01T09:00 ",
    "2026-11-01 09:00:30Z",
    "2026-11-01t09:00utc",
    "2026-11-01 +00:00",
    "2026-02-29",
    "2028-02-29T23:59:59",
    "2026-13-01",
    "2026-11-31",
    "2026-11-01T24:00",
    "2026-11-01T09:60",
    "2026-11-01T09:00:60",
    "0000-01-01",
    "0050-01-01",
    "2026-1-01",
    "26-11-01",
    "tomorrow",
    "",
]
DE_TABLE = (
    "{{Programmdetails\n|name=X\n|beginn=2026-11-01\n|ende=2026-11-30\n|wikis=x\n}}\n"
    "{{Teilnehmertabelle}}\n{{Teilnehmerzeile|benutzername=Alice|angemeldet=2026-11-01}}\n"
    "{{Ende der Teilnehmertabelle}}\n"
)
DETAILS = "{{Program details\n|name=X\n|start=2026-11-01\n|end=2026-11-30\n|wikis=x\n}}"
ROW = "{{Participant table row|username=Alice|joined=2026-11-01}}"
#: Pages as organizers write them; {me} is the joining user's name as some organizer wrote
#: it (a row the gadget must find, or remove).
TABLE_START = "{{Participants table}}"
TABLE_END = "{{End of participants table}}"
PAGES = [
    "Intro.\n"
    + DETAILS
    + "\n\n== Participants ==\n"
    + TABLE_START
    + "\n"
    + ROW
    + "\n"
    + TABLE_END
    + "\n\nOutro.",
    DETAILS + "\n" + TABLE_START + "\n" + ROW + "\n",  # no end of the table
    DETAILS + "\n" + TABLE_START,  # neither rows nor an end
    DETAILS + "\n\nNo table yet.",
    "Intro " + DETAILS + " and more text",
    DETAILS + "\n<!-- an organizer's note never closed\n" + TABLE_START,
    DETAILS + "\n<includeonly>never closed " + TABLE_START,
    ROW + "\n" + DETAILS + "\n" + TABLE_END + "\n" + TABLE_START + "\n" + ROW,
    DE_TABLE,
    DE_TABLE.replace("{{Teilnehmerzeile", "{{Vorlage:teilnehmerzeile"),
    DETAILS.replace("Program details", "template:program_details")
    + "\n{{Participants_table}}\n{{ Participant table row |username=Alice}}"
    + TABLE_END,
    DETAILS + "\n" + TABLE_START + "\n"
    "{{Participant table row| username = {me} <!-- by hand --> |joined=2026-11-01}}\n"
    "{{Participant table row|username=Other|username={me}}}\n"
    + ROW
    + "{{Participant table row|username={me}}}"
    + TABLE_END
    + "\n",
    DETAILS + "\n" + TABLE_START + "\n"
    "<!-- {{Participant table row|username={me}}} -->\n"
    "<nowiki>{{Participant table row|username={me}}}</nowiki>\n"
    "<pre>{{Participant table row|username={me}}}</pre>\n"
    "{{Other|{{Participant table row|username={me}}}}}\n"
    "{{Participant table row|1={me}}}\n" + TABLE_END,
    "== {{Participant table row|username={me}}} ==\n"
    + DETAILS
    + "\n"
    + TABLE_START
    + "\n"
    + TABLE_END,
]


def test_the_gadget_writes_rows_as_the_bot_does(wikis: Farm, browser: Any) -> None:
    """Names, dates and rows through the gadget's own functions (mw.libs.programsBot, on
    MediaWiki's parse trees of the pages) against bot/core/rows.py and wikitext.py."""
    deploy(wikis, None)
    console = Console()
    context = new_context(browser)
    page = console.watch(context.new_page())
    page.goto(page_url(wikis, "Main Page"))
    page.wait_for_function("!!(mw.libs.programsBot)")
    gadget = "mw.libs.programsBot"

    names = [*NAMES, *WRITTEN]
    assert page.evaluate(f"v => v.map({gadget}.inertText)", names) == [
        inert_text(name) for name in names
    ]
    assert page.evaluate(f"v => v.map({gadget}.readName)", names) == [
        read_name(name) for name in names
    ]
    moments = [parse_moment(d, end_of_day=end) for d in DATES for end in (False, True)]
    assert page.evaluate(
        f"v => v.map(d => [false, true].map(e => {gadget}.parseMoment(d, e))).flat()", DATES
    ) == [None if m is None else int(m.timestamp() * 1000) for m in moments]

    cases = []
    for template in PAGES:
        for name in NAMES:
            for written in {inert_text(name), name.replace("''", "&#39;&#39;")}:
                # As the wiki stores every text: in NFC (the parse tree is of that form).
                text = unicodedata.normalize("NFC", template.replace("{me}", written))
                cases.append((text, name))
    trees = {}
    for text, _ in cases:
        if text not in trees:
            answer = requests.post(
                wikis.content.api_url,
                data={
                    "action": "parse",
                    "title": "Some program",
                    "text": text,
                    "prop": "parsetree",
                    "contentmodel": "wikitext",
                    "format": "json",
                    "formatversion": "2",
                },
                timeout=60,
            ).json()
            trees[text] = answer["parse"]["parsetree"]
    written = page.evaluate(
        f"""cases => cases.map(([text, tree, name]) => [
            {gadget}.addRow(text, tree, name, '2026-11-05'),
            {gadget}.removeRows(text, tree, name)])""",
        [[text, trees[text], name] for text, name in cases],
    )
    for (text, name), (added, removed) in zip(cases, written, strict=True):
        bot_added, names_added = add_rows(text, [(name, "2026-11-05")])
        bot_removed, names_removed = remove_rows(text, [name])
        assert added == (bot_added if names_added else None), (text, name)
        assert removed == (bot_removed if names_removed else None), (text, name)
    context.close()
    assert not console.problems, console.problems
    print(f"\nrows compared with the bot's: {len(cases)} pages and names")
