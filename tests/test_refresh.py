"""The bot against the real local wikis: figures checked against the wikis' own tables."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness import Farm, LocalWiki, program_page, tiny_png
from harness.dbcount import DB_FIGURES, DbCounts, db_counts

ParticipantFactory = Callable[..., Any]

pytestmark = pytest.mark.wiki

pywikibot = pytest.importorskip("pywikibot")

from bot.core.errors import EditRefusedError, NotAProgramError, StopPageError  # noqa: E402
from bot.core.program_page import parse_program_page, read_outcome_rows  # noqa: E402
from bot.jobs.count import ProgramCounter  # noqa: E402
from bot.jobs.refresh import Refresher, RefreshResult  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.wiki.sites import RequestCounter  # noqa: E402

TITLE = "Project:Test program"
FIGURES = DB_FIGURES


def program_text(
    farm: Farm,
    users: list[str],
    *,
    start: str | None = None,
    end: str | None = None,
    wikis: str | None = None,
    **details: str,
) -> str:
    return program_page(
        users,
        [wikis] if wikis is not None else [farm.content.host, farm.media.host],
        start=start,
        end=end,
        before="Organizer prose before.\n",
        after="\nAfter.\n",
        name="Test program",
        organizer="Admin",
        **details,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'store.sqlite'}")


@pytest.fixture
def site(wikis: Farm) -> object:
    return pywikibot.Site(wikis.content.name, wikis.content.name)


@pytest.fixture
def remembered_in(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The threads in which refreshes remember what they counted, in order."""
    threads: list[str] = []
    real = Refresher._remember

    def spy(self: Refresher, counted: Any) -> None:
        threads.append(threading.current_thread().name)
        real(self, counted)

    monkeypatch.setattr(Refresher, "_remember", spy)
    return threads


@pytest.fixture
def refresh(store: Store, site: object) -> Callable[..., RefreshResult]:
    def run(title: str = TITLE, **options: object) -> RefreshResult:
        refresher = Refresher(store, **options)  # type: ignore[arg-type]
        return refresher.refresh(pywikibot.Page(site, title))

    return run


def page_text(wiki: LocalWiki, participant: ParticipantFactory, title: str = TITLE) -> str:
    text = participant("Admin", wiki=wiki).get_text(title)
    assert text is not None
    return text


def row_figures(text: str) -> dict[str, dict[str, str]]:
    return {row.username: dict(row.stats) for row in parse_program_page(text).rows}


def as_strings(counts: DbCounts) -> dict[str, str]:
    return {name: str(getattr(counts, name)) for name in FIGURES}


def window_of(text: str) -> tuple[datetime, datetime]:
    window = parse_program_page(text).details.window
    assert window is not None
    return window.start, window.end


@pytest.fixture
def activity(wikis: Farm, participant: ParticipantFactory) -> None:
    """Edits and uploads on both wikis: articles, a redirect, a moved draft, an overwrite."""
    alice, bob, carol, eve = (participant(n) for n in ("Alice", "Bob", "Carol", "Eve"))
    alice.edit("Ada Lovelace", "'''Ada Lovelace''' was a mathematician.")
    alice.append("Ada Lovelace", "\nShe wrote the first algorithm.")
    alice.edit("Talk:Ada Lovelace", "Sources?")
    bob.append("Ada Lovelace", "\nMore.")
    bob.edit("Grace Hopper", "'''Grace Hopper''' " * 20)
    bob.edit("Grace Hopper", "'''Grace Hopper''' was a computer scientist.")  # removes bytes
    bob.edit("Hopper", "#REDIRECT [[Grace Hopper]]")
    carol.edit("User:Carol/Draft", "'''Katherine Johnson''' was a mathematician.")
    carol.move("User:Carol/Draft", "Katherine Johnson")
    eve.edit("Not counted", "Eve is no participant.")
    media_alice = participant("Alice", wiki=wikis.media)
    media_alice.upload("A1.png", tiny_png(11), "file one")
    media_alice.upload("A2.png", tiny_png(12), "file two")
    media_bob = participant("Bob", wiki=wikis.media)
    media_bob.upload("B1.png", tiny_png(13), "file three")
    media_bob.upload("A1.png", tiny_png(14), "overwrite, not a new file")


USERS = ["Alice", "Bob", "Carol", "Dave"]


def test_figures_match_the_wikis_own_tables(
    wikis: Farm,
    participant: ParticipantFactory,
    activity: None,
    refresh: Callable[..., RefreshResult],
) -> None:
    admin = participant("Admin")
    admin.edit(TITLE, program_text(wikis, USERS))
    before = admin.latest_revid(TITLE)

    result = refresh()
    text = page_text(wikis.content, participant)
    assert result.saved_revid is not None and result.saved_revid != before
    start, end = window_of(text)

    rows = row_figures(text)
    for user in USERS:
        expected = {
            "edits": 0,
            "articles_edited": 0,
            "articles_created": 0,
            "bytes_added": 0,
            "uploads": 0,
        }
        for wiki in wikis.wikis:
            counts = db_counts(wiki, [user], start, end)
            for name in expected:
                expected[name] += getattr(counts, name)
        # articles are distinct pages per wiki; participants here edit articles on one wiki
        assert rows[user] == {k: str(v) for k, v in expected.items()}, user

    outcome_rows = read_outcome_rows(text)
    for wiki in wikis.wikis:
        figures = outcome_rows[wiki.host]
        assert {k: figures[k] for k in FIGURES} == as_strings(db_counts(wiki, USERS, start, end))
    # The figures exercise every definition: the draft moved to mainspace counts as
    # created, the redirect does not, the overwrite is no new upload, Eve is not counted.
    content = outcome_rows[wikis.content.host]
    assert (content["articles_created"], content["articles_edited"]) == ("3", "3")
    assert outcome_rows[wikis.media.host]["uploads"] == "3"
    assert outcome_rows["total"]["edits"] == str(
        sum(int(outcome_rows[w.host]["edits"]) for w in wikis.wikis)
    )
    # Everything the organizer wrote is still there, byte for byte, in the same order.
    assert text.startswith("Organizer prose before.\n{{Program details\n")
    assert text.endswith("\n\nAfter.")
    # A bot edit with a descriptive summary, visible as such in recent changes.
    rc = wikis.content.sql(
        "SELECT rc_bot, comment_text FROM recentchanges JOIN comment ON comment_id = "
        "rc_comment_id WHERE rc_this_oldid = ?",
        (result.saved_revid,),
    )
    assert rc[0][0] == 1
    assert rc[0][1].startswith("Bot: updating program statistics (4 participants,")


def test_a_refresh_that_changes_nothing_makes_no_edit(
    wikis: Farm,
    participant: ParticipantFactory,
    refresh: Callable[..., RefreshResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    participant("Alice").edit("Some article", "Text.")
    admin = participant("Admin")
    admin.edit(TITLE, program_text(wikis, ["Alice"]))
    collecting: list[bool] = []
    real_count = ProgramCounter.count

    def count(self: ProgramCounter, *args: Any, **kwargs: Any) -> Any:
        collecting.append(gc.isenabled())
        return real_count(self, *args, **kwargs)

    monkeypatch.setattr(ProgramCounter, "count", count)
    first = refresh()
    assert first.saved_revid is not None
    # What a refresh builds lives to its end: no cyclic collection inside it, as before after.
    assert collecting == [False] and gc.isenabled()
    second = refresh()
    assert not second.changed and second.saved_revid is None
    assert admin.latest_revid(TITLE) == first.saved_revid
    # A new edit changes a number: the next refresh edits again.
    participant("Alice").append("Some article", " More.")
    third = refresh()
    assert third.saved_revid is not None
    assert row_figures(page_text(wikis.content, participant))["Alice"]["edits"] == "2"


def test_the_window_is_exact_to_the_second(
    wikis: Farm, participant: ParticipantFactory, refresh: Callable[..., RefreshResult]
) -> None:
    alice = participant("Alice")
    alice.edit("Before", "Made before the start.")
    time.sleep(1.1)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(2.1)
    alice.edit("Inside", "Made inside the window.")
    participant("Admin").edit(
        TITLE, program_text(wikis, ["Alice"], start=start.strftime("%Y-%m-%dT%H:%M:%S"))
    )
    refresh()
    text = page_text(wikis.content, participant)
    assert row_figures(text)["Alice"]["edits"] == "1"
    s, e = window_of(text)
    assert db_counts(wikis.content, ["Alice"], s, e).edits == 1


def test_scope_by_category_template_and_article(
    wikis: Farm, participant: ParticipantFactory, refresh: Callable[..., RefreshResult]
) -> None:
    admin = participant("Admin")
    admin.edit("Category:Physicists", "Subcategory of scientists.\n[[Category:Scientists]]")
    admin.edit("Template:Infobox scientist", "Infobox")
    alice = participant("Alice")
    alice.edit("In category", "A.\n[[Category:Scientists]]")
    alice.edit("In subcategory", "B.\n[[Category:Physicists]]")
    alice.edit("With template", "C. {{Infobox scientist}}")
    alice.edit("Listed article", "D.")
    alice.edit("Out of scope", "E.")
    wikis.content.run_jobs()
    scope = {
        "categories": "Scientists",
        "category_depth": "1",
        "templates": "Infobox scientist",
        "articles": "Listed article",
    }
    admin.edit(TITLE, program_text(wikis, ["Alice"], wikis=wikis.content.host, **scope))
    refresh()
    text = page_text(wikis.content, participant)
    assert row_figures(text)["Alice"]["articles_edited"] == "4"
    assert read_outcome_rows(text)[wikis.content.host]["edits"] == "4"

    # Without the depth, the subcategory's page drops out.
    admin.edit(TITLE, text.replace("|category_depth=1", "|category_depth=0"))
    refresh()
    assert row_figures(page_text(wikis.content, participant))["Alice"]["articles_edited"] == "3"


def test_deleted_articles_stay_counted_and_are_flagged(
    wikis: Farm, participant: ParticipantFactory, refresh: Callable[..., RefreshResult]
) -> None:
    alice = participant("Alice")
    alice.edit("Doomed article", "Soon deleted. " * 10)
    alice.edit("Kept article", "Stays.")
    admin = participant("Admin")
    admin.edit(TITLE, program_text(wikis, ["Alice"], wikis=wikis.content.host))
    refresh()
    admin.delete("Doomed article", "test")
    result = refresh()
    assert result.saved_revid is not None
    text = page_text(wikis.content, participant)
    figures = read_outcome_rows(text)[wikis.content.host]
    assert (figures["articles_created"], figures["deleted"], figures["edits"]) == ("2", "1", "2")
    assert (
        "{{Program deleted article|wiki=" + wikis.content.host + "|title=Doomed article}}" in text
    )
    # The wiki itself no longer shows the deleted revision: the bot remembered it.
    assert (
        wikis.content.sql("SELECT COUNT(*) FROM archive WHERE ar_title = 'Doomed_article'")[0][0]
        == 1
    )


def test_bad_input_gives_notices_and_keeps_rows(
    wikis: Farm, participant: ParticipantFactory, refresh: Callable[..., RefreshResult]
) -> None:
    participant("Alice").edit("Something", "x")
    users = ["Alice", "Nobody here", "Bad#name", "Alice"]
    text = program_text(wikis, users, wikis=f"{wikis.content.host}, unknown.example.org")
    participant("Admin").edit(TITLE, text.replace("{{End of participants table}}\n", ""))
    result = refresh()
    keys = {n.key for n in result.notices}
    assert {
        "unknown-user",
        "invalid-user",
        "duplicate-user",
        "unknown-wiki",
        "no-table-end",
    } <= keys
    new = page_text(wikis.content, participant)
    assert new.count("{{Program notice|message=") == len(result.notices)
    # Alice is counted once; the duplicate row is untouched, the bad rows have no figures.
    rows = [r for r in parse_program_page(new).rows]
    assert [r.username for r in rows] == ["Alice", "Nobody here", "Bad#name"]
    assert dict(rows[0].stats)["edits"] == "1"
    assert dict(rows[1].stats)["edits"] == ""
    assert new.count("username=Alice|joined=2026-11-01}}") == 1


def test_bad_dates_write_a_notice_and_no_figures(
    wikis: Farm, participant: ParticipantFactory, refresh: Callable[..., RefreshResult]
) -> None:
    text = program_text(wikis, ["Alice"], start="2026-11-30", end="2026-11-01")
    participant("Admin").edit(TITLE, text)
    refresh()
    new = page_text(wikis.content, participant)
    assert "The end (<nowiki>2026-11-01</nowiki>) is before the start" in new
    assert "{{Participant table row|username=Alice|joined=2026-11-01}}" in new
    assert "{{Program outcomes row" not in new


def test_a_page_that_is_not_a_program_is_refused(
    wikis: Farm, participant: ParticipantFactory, refresh: Callable[..., RefreshResult]
) -> None:
    participant("Admin").edit("Just a page", "No program here.")
    with pytest.raises(NotAProgramError):
        refresh("Just a page")
    with pytest.raises(NotAProgramError):
        refresh("Missing page")


@pytest.mark.parametrize("marker", ["{{nobots}}", "{{bots|deny=ProgramsBot}}"])
def test_nobots_is_honoured(
    wikis: Farm,
    participant: ParticipantFactory,
    refresh: Callable[..., RefreshResult],
    marker: str,
) -> None:
    admin = participant("Admin")
    admin.edit(TITLE, marker + "\n" + program_text(wikis, ["Alice"]))
    before = admin.latest_revid(TITLE)
    with pytest.raises(EditRefusedError):
        refresh()
    assert admin.latest_revid(TITLE) == before


def test_the_stop_page_stops_edits(
    wikis: Farm,
    participant: ParticipantFactory,
    refresh: Callable[..., RefreshResult],
    remembered_in: list[str],
) -> None:
    admin = participant("Admin")
    admin.edit(TITLE, program_text(wikis, ["Alice"]))
    before = admin.latest_revid(TITLE)
    admin.edit("User:ProgramsBot/Stop", "STOP: the bot misbehaves")
    with pytest.raises(StopPageError):
        refresh()
    assert admin.latest_revid(TITLE) == before
    assert remembered_in == []  # a stopped refresh keeps nothing either
    admin.edit("User:ProgramsBot/Stop", "run")
    assert refresh().saved_revid is not None
    # A configured stop page elsewhere works the same way.
    admin.edit("Project:Bot stop", "stop")
    participant("Alice").edit("New edit", "x")
    with pytest.raises(StopPageError):
        refresh(stop_page="Project:Bot stop")


def test_simulate_saves_nothing(
    wikis: Farm,
    participant: ParticipantFactory,
    refresh: Callable[..., RefreshResult],
    remembered_in: list[str],
) -> None:
    admin = participant("Admin")
    admin.edit(TITLE, program_text(wikis, ["Alice"]))
    before = admin.latest_revid(TITLE)
    result = refresh(simulate=True)
    assert result.changed and result.simulated and result.saved_revid is None
    assert admin.latest_revid(TITLE) == before
    assert remembered_in == []  # nor does it keep anything in the store


def conflicting_clock(action: Callable[[], None]) -> Callable[[], datetime]:
    """A clock that makes an organizer edit the first time the bot asks for the time.

    The bot asks after it read the page and before it saves, so the edit lands exactly in
    the window where a careless bot would overwrite it.
    """
    calls: list[int] = []

    def clock() -> datetime:
        if not calls:
            calls.append(1)
            action()
        return datetime.now(UTC)

    return clock


def test_an_organizer_editing_at_the_same_time_is_never_overwritten(
    wikis: Farm,
    participant: ParticipantFactory,
    refresh: Callable[..., RefreshResult],
    remembered_in: list[str],
    store: Store,
    site: object,
) -> None:
    admin = participant("Admin")
    participant("Alice").edit("Article", "x")
    participant("Bob").edit("Other article", "y")
    admin.edit(TITLE, program_text(wikis, ["Alice"]))

    def organizer_adds_a_row_and_prose() -> None:
        text = page_text(wikis.content, participant)
        text = text.replace(
            "{{Participant table row|username=Alice|joined=2026-11-01}}",
            "{{Participant table row|username=Alice|joined=2026-11-01|edits=99}}\n"
            "{{Participant table row|username=Bob|joined=2026-11-02}}",
        ).replace("Organizer prose before.", "Organizer prose, edited meanwhile.")
        admin.edit(TITLE, text, "organizer edit")

    result = refresh(clock=conflicting_clock(organizer_adds_a_row_and_prose))
    assert result.attempts == 2
    text = page_text(wikis.content, participant)
    assert text.startswith("Organizer prose, edited meanwhile.")
    rows = row_figures(text)
    assert (rows["Alice"]["edits"], rows["Bob"]["edits"]) == ("1", "1")
    assert "joined=2026-11-02" in text
    # Each attempt's count was remembered while its save was sent, the second counted
    # from the first; what the store holds now is what the page shows.
    assert remembered_in == ["remember_0", "remember_0"]
    again = Refresher(store).refresh(pywikibot.Page(site, TITLE), full=False)
    assert not again.changed and again.saved_revid is None
    assert remembered_in[2:] == ["MainThread"]  # nothing to save: remembered at once


def test_contributions_are_fetched_in_one_request_per_wiki(
    wikis: Farm,
    participant: ParticipantFactory,
    activity: None,
    refresh: Callable[..., RefreshResult],
) -> None:
    participant("Admin").edit(TITLE, program_text(wikis, USERS))
    asked: list[str] = []

    def hook(response: object, *args: object, **kwargs: object) -> None:
        request = response.request  # type: ignore[attr-defined]
        asked.append(f"{request.url} {request.body or ''}")

    from pywikibot.comms import http

    http.session.hooks["response"].append(hook)
    try:
        with RequestCounter() as counter:
            refresh()
    finally:
        http.session.hooks["response"].remove(hook)
    usercontribs = [a for a in asked if "usercontribs" in a]
    # One request per wiki covers every participant: no loop per participant.
    assert len(usercontribs) == len(wikis.wikis)
    assert counter.count == len(asked)


def test_the_command_line(wikis: Farm, participant: ParticipantFactory) -> None:
    import os
    import subprocess
    import sys

    admin = participant("Admin")
    participant("Alice").edit("Article", "x")
    admin.edit(TITLE, program_text(wikis, ["Alice"]))
    admin.edit("Second program", program_text(wikis, ["Alice"]))
    admin.edit("Not a program", "Prose.")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=120,
            check=False,
        )

    simulated = run("-simulate", "refresh", TITLE)
    assert simulated.returncode == 0, simulated.stderr
    assert "changed (simulated, not saved)" in simulated.stderr
    # The diff follows its page's status line (not the other way round).
    status_at = simulated.stderr.index("changed (simulated")
    assert status_at < simulated.stderr.index("Program outcomes|")
    assert "{{Program outcomes" not in page_text(wikis.content, participant)

    everything = run("refresh", "--all")
    assert everything.returncode == 0, everything.stderr
    assert "[1/2]" in everything.stderr and "[2/2]" in everything.stderr
    assert "{{Program outcomes" in page_text(wikis.content, participant, "Second program")

    failed = run("refresh", "Not a program", TITLE)
    assert failed.returncode == 1
    assert "does not use {{Program details}}" in failed.stderr
    assert "unchanged, no edit" in failed.stderr

    assert run("refresh").returncode == 2
    assert run("refresh", "--all", TITLE).returncode == 2


def test_an_organizer_edit_elsewhere_on_the_page_is_merged_not_overwritten(
    wikis: Farm, participant: ParticipantFactory, refresh: Callable[..., RefreshResult]
) -> None:
    admin = participant("Admin")
    participant("Alice").edit("Article", "x")
    admin.edit(TITLE, program_text(wikis, ["Alice"]))

    def organizer_edits_prose() -> None:
        text = page_text(wikis.content, participant)
        admin.edit(TITLE, text.replace("\nAfter.", "\nAfter, with notes added meanwhile."))

    refresh(clock=conflicting_clock(organizer_edits_prose))
    text = page_text(wikis.content, participant)
    assert text.endswith("After, with notes added meanwhile.")
    assert row_figures(text)["Alice"]["edits"] == "1"


def test_rows_as_organizers_paste_them_are_counted_and_an_open_table_is_closed(
    wikis: Farm,
    participant: ParticipantFactory,
    activity: None,
    refresh: Callable[..., RefreshResult],
) -> None:
    """Names written as ``User:Alice`` or ``[[User:Bob|Bob]]`` count as Alice and Bob; a
    facilitator with a row of their own is told about; a table left open is closed after
    its last row, so the wiki renders the outcomes outside it."""
    from test_templates import html_tree, install_templates, parse

    install_templates(wikis)
    admin = participant("Admin")
    text = program_text(
        wikis, ["User:Alice", "[[User:Bob|Bob]]", "Carol"], facilitators="Carol"
    ).replace("{{End of participants table}}\n", "")
    admin.edit(TITLE, text)
    result = refresh()
    assert result.saved_revid is not None
    keys = {notice.key for notice in result.notices}
    assert {"no-table-end", "facilitator-listed"} <= keys
    assert "unknown-user" not in keys
    new = page_text(wikis.content, participant)
    start, end = window_of(new)
    rows = row_figures(new)
    for user in ("Alice", "Bob", "Carol"):
        expected = {
            name: 0
            for name in ("edits", "articles_edited", "articles_created", "bytes_added", "uploads")
        }
        for wiki in wikis.wikis:
            counts = db_counts(wiki, [user], start, end)
            for name in expected:
                expected[name] += getattr(counts, name)
        assert rows[user] == {k: str(v) for k, v in expected.items()}, user
    # The organizer's names are kept as written.
    assert "username=[[User:Bob|Bob]]|" in new and "username=User:Alice|" in new

    html = html_tree(parse(wikis.content.api_url, title=TITLE, text=new)["text"])
    participants = html.find("table", "programs-bot-participants")
    outcomes = html.find("table", "programs-bot-outcomes")
    assert outcomes.ancestor("table") is None and participants.ancestor("table") is None
    assert "After." not in participants.text()


def test_the_sentence_names_the_program_and_the_wikis_as_people_do(
    wikis: Farm,
    participant: ParticipantFactory,
    activity: None,
    refresh: Callable[..., RefreshResult],
) -> None:
    """The content wiki by its site name, the media wiki by the name programs-bot.toml gives
    it; the figures in the words are the wikis' own."""
    from bot.core.program_page import current_outcomes_param
    from bot.core.settings import BotConfig, WikiSettings
    from test_templates import parse

    participant("Admin").edit(TITLE, program_text(wikis, USERS))
    config = BotConfig({wikis.media.host: WikiSettings(name="Shared Media")})
    result = refresh(config=config)
    assert result.saved_revid is not None
    text = page_text(wikis.content, participant)
    start, end = window_of(text)
    content = db_counts(wikis.content, USERS, start, end)
    media = db_counts(wikis.media, USERS, start, end)
    assert content.articles_edited and content.articles_created and media.uploads
    assert media.edits and not media.articles_edited and not content.uploads

    def plural(n: int, one: str, other: str) -> str:
        return f"{n} {{{{PLURAL:{n}|{one}|{other}}}}}"

    c, m = content, media
    assert current_outcomes_param(text, "sentence") == (
        f"{plural(4, 'person', 'people')} joined Test program. During the event the group made"
        f" {plural(c.edits, 'edit', 'edits')} to {c.articles_edited} Content Wiki"
        f" {{{{PLURAL:{c.articles_edited}|article|articles}}}} and"
        f" {plural(m.edits, 'edit', 'edits')} on Shared Media. The group created"
        f" {c.articles_created} new Content Wiki"
        f" {{{{PLURAL:{c.articles_created}|article|articles}}}} and uploaded"
        f" {plural(m.uploads, 'file', 'files')} to Shared Media."
    )
    rendered = parse(
        wikis.content.api_url, title=TITLE, text=current_outcomes_param(text, "sentence") or ""
    )["text"]
    assert f"made {c.edits} edits to {c.articles_edited} Content Wiki articles" in rendered
    assert f"uploaded {m.uploads} files to Shared Media." in rendered
    rows = read_outcome_rows(text)
    assert rows[wikis.content.host]["wiki_name"] == "Content Wiki"
    assert rows[wikis.media.host]["wiki_name"] == "Shared Media"
    assert "wiki_name" not in rows["total"]


def test_one_render_a_refresh_and_the_time_moves_only_with_the_figures(
    wikis: Farm,
    participant: ParticipantFactory,
    refresh: Callable[..., RefreshResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each refresh renders the page once; one that finds the same figures later leaves
    the page (and its computed time) as it is."""
    import bot.jobs.refresh as refresh_module
    from bot.core.dates import format_moment
    from bot.core.program_page import current_outcomes_param

    def texts_given(name: str) -> list[str]:
        """The texts the refresh hands the page function ``name``, one per call."""
        function = getattr(refresh_module, name)
        texts: list[str] = []

        def recorded(text: str, *args: Any) -> Any:
            texts.append(text)
            return function(text, *args)

        monkeypatch.setattr(refresh_module, name, recorded)
        return texts

    renders = texts_given("render_program_page")
    # The page's outcomes block is found once a render, for every parameter read from it.
    blocks_read = texts_given("current_outcomes_params")
    participant("Alice").edit("Some article", "Text.")
    admin = participant("Admin")
    admin.edit(TITLE, program_text(wikis, ["Alice", "Bob"]))
    now = datetime.now(UTC).replace(microsecond=0)
    times = [now + timedelta(minutes=m) for m in (1, 2, 3)]

    first = refresh(clock=lambda: times[0])
    assert first.saved_revid is not None and len(renders) == 1
    assert current_outcomes_param(first.new_text, "computed") == format_moment(times[0])

    second = refresh(clock=lambda: times[1])
    assert not second.changed and second.saved_revid is None and len(renders) == 2
    assert admin.latest_revid(TITLE) == first.saved_revid

    participant("Alice").append("Some article", " More.")
    third = refresh(clock=lambda: times[2])
    assert third.saved_revid is not None and len(renders) == 3
    text = page_text(wikis.content, participant)
    assert current_outcomes_param(text, "computed") == format_moment(times[2])
    assert row_figures(text)["Alice"]["edits"] == "2"
    assert blocks_read == renders
