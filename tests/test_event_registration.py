"""Event Registration as a participant source: the REST answers read as the extension's
handlers write them, and programs naming an event counted on the real local wikis (the
stand-in only for the extension's REST API), checked against the wikis' own tables."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.errors import EventRegistrationError
from bot.core.event_registration import error_key, parse_event_ref, read_participants
from bot.core.model import EventRef
from harness import Farm, program_page
from harness.campaignevents import CampaignEventsServer, Event, Participant
from harness.dbcount import DbCounts, db_counts

# -- reading what organizers write, and what the extension answers ---------------------------


@pytest.mark.parametrize(
    ("raw", "ref"),
    [
        ("42", EventRef(42)),
        (" 42 ", EventRef(42)),
        ("Special:EventDetails/42", EventRef(42)),
        ("special:eventdetails/7", EventRef(7)),
        (
            "https://meta.wikimedia.org/wiki/Special:EventDetails/42",
            EventRef(42, "meta.wikimedia.org"),
        ),
        ("http://127.0.0.1:8080/index.php/Special:EventDetails/3", EventRef(3, "127.0.0.1:8080")),
        ("Event:Women in Science", None),
        ("forty-two", None),
        ("https://meta.wikimedia.org/wiki/Event:Foo", None),
        ("", None),
    ],
)
def test_the_event_a_page_names(raw: str, ref: EventRef | None) -> None:
    assert parse_event_ref(raw) == ref


def test_hidden_and_private_participants_as_the_handler_writes_them() -> None:
    rows = read_participants(
        [
            {"participant_id": 1, "user_id": 5, "private": False, "user_name": "Alice"},
            {"participant_id": 2, "user_id": 6, "private": True, "user_name": "Bob"},
            {"participant_id": 3, "user_id": 7, "private": False, "hidden": True},
            {"participant_id": 4, "user_id": 8, "private": False, "not_found": True},
        ]
    )
    assert [(r.name, r.private) for r in rows] == [
        ("Alice", False),
        ("Bob", True),
        (None, False),
        (None, False),
    ]
    with pytest.raises(EventRegistrationError) as error:
        read_participants({"participants": []})
    assert error.value.key == "event-malformed"


@pytest.mark.parametrize(
    ("status", "body", "key"),
    [
        (
            404,
            {"errorKey": "campaignevents-rest-event-not-found", "httpCode": 404},
            "event-not-found",
        ),
        (
            404,
            {"errorKey": "campaignevents-rest-get-registration-deleted", "httpCode": 404},
            "event-deleted",
        ),
        # MediaWiki releases before errorKey: the message text alone.
        (
            404,
            {"messageTranslations": {"en": "This event registration was deleted."}},
            "event-deleted",
        ),
        (
            400,
            {"error": "parameter-validation-failed", "failureCode": "badinteger"},
            "event-refused",
        ),
        (403, "not json object", "event-refused"),
    ],
)
def test_error_answers(status: int, body: Any, key: str) -> None:
    assert error_key(status, body)[0] == key


# -- on the local wikis ----------------------------------------------------------------------

pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page  # noqa: E402
from bot.core.settings import BotConfig, WikiSettings  # noqa: E402
from bot.jobs.refresh import Refresher, RefreshResult  # noqa: E402
from bot.jobs.reports import report_tables  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.wiki import event_registration as rest  # noqa: E402

TITLE = "Project:Event program"
EVENT_ID = 31


def _window() -> tuple[datetime, datetime]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=1), today + timedelta(days=2) - timedelta(seconds=1)


def _program(farm: Farm, rows: list[str], event: str = str(EVENT_ID)) -> str:
    return program_page(
        rows,
        [farm.content.host, farm.media.host],
        before="Prose of the organizer.\n",
        after="\nAfter.\n",
        name="Event program",
        organizer="Admin",
        event_registration=event,
    )


@pytest.fixture
def standin(wikis: Farm) -> Iterator[CampaignEventsServer]:
    with CampaignEventsServer(wikis.content.api_url) as server:
        yield server


@pytest.fixture
def config(wikis: Farm, standin: CampaignEventsServer) -> BotConfig:
    return BotConfig({wikis.content.host: WikiSettings(campaignevents_url=standin.url)})


@pytest.fixture
def refresh(tmp_path: Path, wikis: Farm, config: BotConfig) -> Callable[..., RefreshResult]:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    site = pywikibot.Site(wikis.content.name, wikis.content.name)

    def run(**options: Any) -> RefreshResult:
        return Refresher(store, config=config).refresh(pywikibot.Page(site, TITLE), **options)

    return run


def _block_rows(text: str) -> dict[str, dict[str, str]]:
    """The {{Program source participant}} rows: username -> figures."""
    import mwparserfromhell

    found = {}
    for template in mwparserfromhell.parse(text).filter_templates():
        if str(template.name).strip() == "Program source participant":
            values = {str(p.name).strip(): str(p.value).strip() for p in template.params}
            found[values.pop("username")] = values
    return found


def _as_row(counts: DbCounts) -> dict[str, str]:
    return {
        "edits": str(counts.edits),
        "articles_edited": str(counts.articles_edited),
        "articles_created": str(counts.articles_created),
        "bytes_added": str(counts.bytes_added),
        "uploads": str(counts.uploads),
    }


def _organizer_text(text: str) -> str:
    """The page without the bot's block (placed after the table) and the rows' statistics:
    what organizers own."""
    text = re.sub(
        r"\{\{Program outcomes\|.*\{\{End of program outcomes\}\}\n*", "", text, flags=re.S
    )
    return re.sub(
        r"\|(edits|articles_edited|articles_created|bytes_added|uploads)=[^|}]*", "", text
    )


@pytest.mark.wiki
def test_registered_participants_are_counted_named_in_the_bots_table_and_private_ones_in_totals(
    wikis: Farm,
    participant: Callable[..., Any],
    standin: CampaignEventsServer,
    refresh: Callable[..., RefreshResult],
    config: BotConfig,
    tmp_path: Path,
) -> None:
    wiki = wikis.content
    extra = [f"Registrant {n:02d}" for n in range(22)]
    wiki.create_users(extra)
    participant("Alice").edit("Event article A", "Alice's article for the event.", "new")
    participant("Bob").edit("Event article B", "Bob registered only through the event.", "new")
    participant("Bob").edit("Event article A", "Alice's article for the event, and Bob's.", "x")
    participant("Carol").edit("Event article C", "Carol registered privately.", "new")
    for name in extra[:3]:
        client = participant(name, password=wiki.users[name])
        client.edit(f"Page of {name}", f"Text by {name}.", "new")
    people = [
        Participant("Alice"),  # also has a row: counted once, in the row
        Participant("Bob"),
        Participant("Carol", private=True),
        Participant("Suppressed someone", hidden=True),
        *(Participant(name) for name in extra),
    ]
    standin.add_event(Event(EVENT_ID, "Event program", "Event:Event program", participants=people))
    # The wiki grants bots campaignevents-view-private-participants (sysops have it).
    standin.state.view_private_groups = ("sysop", "bot")
    admin = participant("Admin")
    admin.edit(TITLE, _program(wikis, ["Alice", "Dave"]), "program")
    before = admin.get_text(TITLE)
    assert before is not None

    result = refresh()

    text = admin.get_text(TITLE)
    assert text is not None
    start, end = _window()
    rows = {row.username: dict(row.stats) for row in parse_program_page(text).rows}
    assert {k: rows["Alice"][k] for k in _as_row(db_counts(wiki, ["Alice"], start, end))} == (
        _as_row(db_counts(wiki, ["Alice"], start, end))
    )
    named = _block_rows(text)
    assert list(named) == ["Bob", *extra]  # registration order, Alice in her row
    assert named["Bob"] == {"source": "event", **_as_row(db_counts(wiki, ["Bob"], start, end))}
    for name in extra:
        assert {k: v for k, v in named[name].items() if k != "source"} == _as_row(
            db_counts(wiki, [name], start, end)
        )
    assert "Carol" not in text and "Suppressed someone" not in text  # never named
    asked = standin.requests
    site = pywikibot.Site(wiki.name, wiki.name)
    store = Store(f"sqlite:///{tmp_path / 'report.sqlite'}")
    _, tables = report_tables(site, TITLE, store, config)
    assert "Bob" in repr(tables) and "Carol" not in repr(tables)  # nor in reports and CSV
    everyone = ["Alice", "Dave", "Bob", "Carol", *extra]
    assert result.outcomes is not None
    assert sorted(result.outcomes.participants) == sorted(everyone)
    total = db_counts(wiki, everyone, start, end)
    content_row = result.outcomes.per_wiki[wiki.host]
    assert (content_row.edits, content_row.articles_created, content_row.bytes_added) == (
        total.edits,
        total.articles_created,
        total.bytes_added,
    )
    assert ("event-unnamed", (str(EVENT_ID), "1")) in [(n.key, n.params) for n in result.notices]
    assert _organizer_text(text) == _organizer_text(before)
    # One request for the registration, then pages of 20 until an empty one: 25 people
    # (24 visible with private ones) -> 2 full pages... 20 + 4, then the empty page.
    pages = [p for p in asked if "/participants" in p]
    assert len([p for p in asked if "/participants" not in p]) == 1
    assert len(pages) == 3 and "include_private=true" in pages[0]
    assert "last_participant_id=20" in pages[1]


@pytest.mark.wiki
def test_private_participants_the_bot_may_not_see_are_left_out_with_a_notice(
    wikis: Farm,
    participant: Callable[..., Any],
    standin: CampaignEventsServer,
    refresh: Callable[..., RefreshResult],
) -> None:
    participant("Bob").edit("Event article B", "Bob's text.", "new")
    participant("Carol").edit("Event article C", "Carol's text.", "new")
    standin.state.view_private_groups = ()
    standin.add_event(
        Event(
            EVENT_ID,
            "E",
            "Event:E",
            organizers=("Someone else",),
            participants=[Participant("Bob"), Participant("Carol", private=True)],
        )
    )
    participant("Admin").edit(TITLE, _program(wikis, ["Alice"]), "program")

    result = refresh()

    assert result.outcomes is not None
    assert sorted(result.outcomes.participants) == ["Alice", "Bob"]
    keys = [(n.key, n.params) for n in result.notices]
    assert ("event-private-hidden", (str(EVENT_ID),)) in keys
    assert [p for p in standin.requests if "include_private=false" in p]


@pytest.mark.wiki
@pytest.mark.parametrize(
    ("setup", "key"),
    [
        ("missing", "event-not-found"),
        ("deleted", "event-deleted"),
        ("malformed", "event-malformed"),
        ("error", "event-unreachable"),
        ("slow", "event-unreachable"),
        ("unknown wiki", "event-wiki-unknown"),
        ("unreadable", "bad-event-registration"),
    ],
)
def test_an_event_that_cannot_be_used_gives_a_notice_and_the_rows_still_count(
    wikis: Farm,
    participant: Callable[..., Any],
    standin: CampaignEventsServer,
    refresh: Callable[..., RefreshResult],
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    key: str,
) -> None:
    participant("Alice").edit("Row article", "Alice's text.", "new")
    event = Event(EVENT_ID, "E", "Event:E", participants=[Participant("Bob")])
    standin.add_event(event)
    written = str(EVENT_ID)
    if setup == "missing":
        written = "999"
    elif setup == "deleted":
        event.deleted = True
    elif setup in ("malformed", "error"):
        standin.set_fault(setup)
    elif setup == "slow":
        monkeypatch.setattr(rest, "TIMEOUT", 0.5)
        standin.set_fault(None, delay=2.0)
    elif setup == "unknown wiki":
        written = "https://events.example.org/wiki/Special:EventDetails/31"
    elif setup == "unreadable":
        written = "Event:Women in science"
    admin = participant("Admin")
    admin.edit(TITLE, _program(wikis, ["Alice"], written), "program")
    before = admin.get_text(TITLE)
    assert before is not None

    result = refresh()

    assert key in [n.key for n in result.notices]
    assert result.outcomes is not None and result.outcomes.participants == ("Alice",)
    text = admin.get_text(TITLE)
    assert text is not None
    start, end = _window()
    assert (
        result.outcomes.per_user["Alice"].edits
        == db_counts(wikis.content, ["Alice"], start, end).edits
    )
    assert "{{Program notice|message=" in text and "Bob" not in text
    assert _organizer_text(text) == _organizer_text(before)
