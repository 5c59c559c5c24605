"""End to end in headless Chromium: the gadget on a real MediaWiki 1.39 wiki.

The templates and the gadget are put on the content wiki the way ``programs-bot deploy`` does
(bot/gadget.py builds the pages and the Gadgets-definition line). The Join API is served over
HTTP with the local Special:OAuth provider, and the bot's worker runs beside it. A logged-out
reader opens a program page, clicks Join, signs in as Bob in the popup, and sees the bot's
edit: Bob's row in the participant table, highlighted, and a Leave button. Then "Update
statistics now" and Leave; and Join on a closed program, in English and in German.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's Python package; Playwright
never downloads a browser here. Under CI=true a missing browser fails the test.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from api_support import api_config, wiki_entry
from bot.core.gadget_pages import DEFINITION_PAGE, gadget_pages, merge_definition
from bot.store import Store
from gadget_api import create_app
from harness import PROJECT_ROOT, Farm
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
#: Milliseconds to wait for anything the worker or the API does.
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


def deploy(wikis: Farm, api_url: str) -> None:
    """What ``programs-bot deploy`` does: the templates, the gadget, its definition line."""
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


def test_join_in_the_browser(wikis: Farm, stack: Stack, tmp_path: Path) -> None:
    sync_playwright = _browser_or_skip()
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

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 820}, locale="en-US")
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: (
                    problems.append(f"console: {message.text}")
                    if message.type == "error" and "parse error" in message.text.lower()
                    else None
                ),
            )

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
                # The README's picture: rewritten only on request, not on every run.
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
            assert (
                page.locator(".programs-bot-panel-join").inner_text()
                == (DE["programs-bot-gadget-join"])
            )
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
        finally:
            browser.close()

    assert not problems, problems
    assert (tmp_path / SCREENSHOT.name).stat().st_size > 10_000
    print(
        f"\ngadget browser test: deploy and pages {deployed - started:.1f} s, "
        f"join seen {joined - deployed:.1f} s, total {time.monotonic() - started:.1f} s; "
        f"screenshot in {tmp_path} (PROGRAMS_BOT_UPDATE_SCREENSHOT=1 also updates {SCREENSHOT})"
    )
