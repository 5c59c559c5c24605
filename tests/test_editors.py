"""New and retained editors: the definitions on hand-made dates, the fetching on real wikis."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harness import PARTICIPANTS, Farm, ParticipantClient

pywikibot = pytest.importorskip("pywikibot")

from bot.core.editors import (  # noqa: E402  (after the importorskip above)
    EditorFigures,
    earliest_registrations,
    editor_figures,
    is_new_editor,
    new_editors,
    retained_editors,
    retention_known,
    retention_moment,
)
from bot.core.model import Window  # noqa: E402
from bot.wiki.fetch import (  # noqa: E402
    fetch_edited_since,
    fetch_editor_figures,
    fetch_registrations,
)

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
WINDOW = Window(START, END)
SECOND = timedelta(seconds=1)
WEEK = timedelta(days=7)
MONTH = timedelta(days=30)


# -- new editors -----------------------------------------------------------------------


def test_new_editors_are_registered_from_14_days_before_start_to_end() -> None:
    first = START - timedelta(days=14)
    assert is_new_editor(first, WINDOW)
    assert not is_new_editor(first - SECOND, WINDOW)
    assert is_new_editor(START, WINDOW)
    assert is_new_editor(END, WINDOW)
    assert not is_new_editor(END + SECOND, WINDOW)
    assert not is_new_editor(None, WINDOW)  # too old to have a registration date

    registrations = {
        "Early": first,
        "Too early": first - SECOND,
        "Last second": END,
        "Too late": END + SECOND,
        "Ancient": None,
    }
    assert new_editors(registrations, WINDOW) == {"Early", "Last second"}


def test_the_oldest_local_account_decides() -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC)
    fresh = START + timedelta(days=2)
    merged = earliest_registrations(
        [{"Alice": fresh, "Bob": fresh, "Carol": fresh}, {"Alice": old, "Bob": None, "Dave": fresh}]
    )
    assert merged == {"Alice": old, "Bob": None, "Carol": fresh, "Dave": fresh}
    assert new_editors(merged, WINDOW) == {"Carol", "Dave"}


# -- retained editors ------------------------------------------------------------------


@pytest.mark.parametrize("delay", [WEEK, MONTH])
def test_retention_is_not_yet_known_until_its_moment_has_passed(delay: timedelta) -> None:
    moment = retention_moment(WINDOW, delay)
    assert moment == END + delay
    new = {"Alice", "Bob", "Carol"}
    edited = {"Alice", "Zed"}  # Zed is not a new editor
    for now in (END, moment - SECOND, moment):
        assert not retention_known(WINDOW, delay, now)
        assert retained_editors(new, edited, WINDOW, delay, now) is None  # never 0, never all
    assert retained_editors(new, edited, WINDOW, delay, moment + SECOND) == frozenset({"Alice"})
    assert retained_editors(new, set(), WINDOW, delay, moment + SECOND) == frozenset()
    assert retained_editors(new, edited, WINDOW, delay, moment + 400 * WEEK) == frozenset({"Alice"})


def test_both_figures_together() -> None:
    registrations = {
        "Alice": START,
        "Bob": START - timedelta(days=3),
        "Old": datetime(2019, 5, 1, tzinfo=UTC),
    }
    edited = {WEEK: {"Alice", "Bob", "Old"}, MONTH: {"Bob", "Old"}}

    during = editor_figures(registrations, edited, WINDOW, END - SECOND)
    assert during == EditorFigures(frozenset({"Alice", "Bob"}), {WEEK: None, MONTH: None})
    assert during.count(WEEK) is None and during.count(MONTH) is None

    after_week = editor_figures(registrations, edited, WINDOW, END + WEEK + SECOND)
    assert after_week.count(WEEK) == 2
    assert after_week.count(MONTH) is None

    after_month = editor_figures(registrations, edited, WINDOW, END + MONTH + SECOND)
    assert after_month.retained == {WEEK: frozenset({"Alice", "Bob"}), MONTH: frozenset({"Bob"})}


# -- fetching from a fake API: the batch goes on with only the users not seen ----------


class _FakeRequest:
    def __init__(self, api: _FakeApi, params: dict[str, Any]) -> None:
        self.api, self.params = api, params

    def submit(self) -> dict[str, Any]:
        return self.api.answer(self.params)


class _FakeApi:
    """list=usercontribs as MediaWiki lists several users: user by user, then by time."""

    def __init__(self, edits: dict[str, int], limit: int) -> None:
        self.edits, self.limit = edits, limit
        self.asked: list[dict[str, Any]] = []

    def simple_request(self, **params: Any) -> _FakeRequest:
        return _FakeRequest(self, params)

    def has_right(self, right: str) -> bool:
        return True

    def hostname(self) -> str:
        return "fake.example.org"

    def answer(self, params: dict[str, Any]) -> dict[str, Any]:
        self.asked.append(params)
        rows = [
            {"user": user, "timestamp": f"2027-01-01T00:00:{n:02}Z"}
            for user in sorted(params["ucuser"])
            for n in range(self.edits.get(user, 0))
        ]
        offset = int(params.get("uccontinue", 0))
        page = rows[offset : offset + self.limit]
        answer: dict[str, Any] = {"query": {"usercontribs": page}}
        if offset + self.limit < len(rows):
            answer["continue"] = {"uccontinue": str(offset + self.limit), "continue": "-||"}
        return answer


def test_a_busy_user_is_not_read_to_the_end() -> None:
    api = _FakeApi({"Alice": 40, "Bob": 1, "Carol": 30, "Eve": 2}, limit=10)
    since = END + WEEK
    found = fetch_edited_since(api, ["Alice", "Bob", "Carol", "Dave", "Eve"], since)
    assert found == {"Alice", "Bob", "Carol", "Eve"}
    # Page 1: Alice's first 10 edits; then Bob..Eve: Bob and Carol; then Dave and Eve: Eve.
    assert [sorted(p["ucuser"]) for p in api.asked] == [
        ["Alice", "Bob", "Carol", "Dave", "Eve"],
        ["Bob", "Carol", "Dave", "Eve"],
        ["Dave", "Eve"],
    ]
    assert all(p["ucstart"] == "2026-12-07T23:59:59Z" and p["ucdir"] == "newer" for p in api.asked)
    assert all(p["ucprop"] == "timestamp" and p["uclimit"] == "max" for p in api.asked)


def test_a_batch_whose_users_all_show_stops_at_once() -> None:
    api = _FakeApi({"Alice": 3, "Bob": 400}, limit=10)
    assert fetch_edited_since(api, ["Alice", "Bob"], END) == {"Alice", "Bob"}
    assert len(api.asked) == 1  # Bob's other 390 edits are never read


# -- on the real wikis -----------------------------------------------------------------


@contextmanager
def usercontribs_requests(word: str = "usercontribs") -> Iterator[list[str]]:
    """The URLs and bodies of the requests with ``word`` that Pywikibot sends meanwhile."""
    from pywikibot.comms import http

    asked: list[str] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        request = response.request
        text = f"{request.url} {request.body or ''}"
        if word in text:
            asked.append(text)

    http.session.hooks["response"].append(hook)
    try:
        yield asked
    finally:
        http.session.hooks["response"].remove(hook)


def mw_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def set_registration(wiki: Any, names: list[str], when: datetime | None) -> None:
    """Change accounts' registration in the wiki's database (MediaWiki reads it per request)."""
    value = None if when is None else when.strftime("%Y%m%d%H%M%S")
    conn = sqlite3.connect(wiki.db_path, timeout=30)
    try:
        with conn:
            conn.executemany(
                "UPDATE user SET user_registration = ? WHERE user_name = ?",
                [(value, name) for name in names],
            )
    finally:
        conn.close()


def site_of(wikis: Farm) -> Any:
    return pywikibot.Site(wikis.content.name, wikis.content.name)


@pytest.mark.wiki
def test_registrations_match_the_user_table(wikis: Farm) -> None:
    wiki = wikis.content
    # Bob's account predates registration dates, as MediaWiki's oldest accounts do.
    set_registration(wiki, ["Bob"], None)
    expected = {
        name: None if registered is None else mw_time(registered)
        for name, registered in wiki.sql(
            "SELECT user_name, user_registration FROM user WHERE user_name IN (?, ?, ?, ?, ?)",
            PARTICIPANTS,
        )
    }
    assert expected["Bob"] is None and expected["Alice"] is not None

    asked = ["alice", *PARTICIPANTS[1:], "Nobody by this name", "Bad#name"]
    found = fetch_registrations(site_of(wikis), asked)
    assert found == {
        ("alice" if name == "Alice" else name): when for name, when in expected.items()
    }


@pytest.mark.wiki
def test_edited_since_matches_the_revision_table(wikis: Farm) -> None:
    wiki = wikis.content

    def client(name: str) -> ParticipantClient:
        return wiki.client(name)

    client("Alice").edit("Retention before", "Alice, before the moment.")
    time.sleep(1.1)  # revision timestamps have whole seconds
    bob_rev = client("Bob").edit("Retention at", "Bob, exactly at the moment.")
    client("Carol").edit("Retention after", "Carol, after it.")
    ((bob_ts,),) = wiki.sql("SELECT rev_timestamp FROM revision WHERE rev_id = ?", [bob_rev])
    since = mw_time(bob_ts)

    found = fetch_edited_since(site_of(wikis), PARTICIPANTS, since)

    in_db = {
        name
        for (name,) in wiki.sql(
            "SELECT DISTINCT actor_name FROM revision JOIN actor ON rev_actor = actor_id "
            "WHERE rev_timestamp >= ? AND actor_name IN (?, ?, ?, ?, ?)",
            [bob_ts, *PARTICIPANTS],
        )
    }
    assert found == in_db == {"Bob", "Carol"}  # Bob's edit at the moment counts


@pytest.mark.wiki
def test_one_usercontribs_request_for_a_batch_of_five(wikis: Farm) -> None:
    since = datetime.now(UTC).replace(microsecond=0) - SECOND
    for name in PARTICIPANTS:
        for n in range(2):
            wikis.content.client(name).edit(f"Page {name} {n}", f"Text {n}")
    site = site_of(wikis)
    fetch_registrations(site, ["Alice"])  # log in and load site info before counting
    with usercontribs_requests() as asked:
        found = fetch_edited_since(site, PARTICIPANTS, since)
    assert found == set(PARTICIPANTS)
    assert len(asked) == 1
    assert "ucuser=Alice%7CBob%7CCarol%7CDave%7CEve" in asked[0]
    with usercontribs_requests("ususers") as asked:
        assert len(fetch_registrations(site, PARTICIPANTS)) == 5
    assert len(asked) == 1


@pytest.mark.wiki
def test_editor_figures_over_both_wikis(wikis: Farm) -> None:
    content, media = wikis.content, wikis.media
    now = datetime.now(UTC).replace(microsecond=0)
    # Alice, Bob and Carol registered 40 days ago on the content wiki (the earliest of
    # their accounts counts), for a program that ended 38 days ago: both moments passed.
    set_registration(content, ["Alice", "Bob", "Carol"], now - timedelta(days=40))
    window = Window(now - timedelta(days=45), now - timedelta(days=38))
    content.client("Alice").edit("Alice came back", "x")
    media.client("Bob").edit("Bob came back", "x")
    sites = [site_of(wikis), pywikibot.Site(media.name, media.name)]
    users = ["Alice", "Bob", "Carol", "Dave"]  # Dave registered today: not new

    with usercontribs_requests() as asked:
        figures = fetch_editor_figures(sites, users, window, now)
    assert figures.new == {"Alice", "Bob", "Carol"}
    assert figures.retained == dict.fromkeys([WEEK, MONTH], frozenset({"Alice", "Bob"}))
    # +30 days: content wiki (Alice found), media wiki (Bob found); +7 days: only Carol is
    # asked about, once per wiki. Dave, not new, is never asked about.
    assert len(asked) == 4
    assert not any("Dave" in text for text in asked)

    before = fetch_editor_figures(sites, users, window, window.end + WEEK)
    assert before.new == figures.new
    assert before.count(WEEK) is None and before.count(MONTH) is None
