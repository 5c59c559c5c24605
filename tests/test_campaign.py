"""Campaign pages: reading, adding up programs once per person and article, writing back.

The pure tests build records by hand (as tests/test_metrics.py does) and check the page
round trip byte for byte, with hypothesis. The ``wiki`` tests refresh real programs on the
local wikis, then the campaign page, and compare its totals with the wikis' own tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.campaign import CampaignOutcomes, ProgramRecords, campaign_outcomes
from bot.core.campaign_page import (
    current_campaign_param,
    detect_campaign_format,
    is_campaign_page,
    parse_campaign_page,
    render_campaign_page,
)
from bot.core.contributions import PageState, Revision, Upload, WikiRecords
from bot.core.errors import NotACampaignError, ProgramsBotError
from bot.core.messages import Messages
from bot.core.metrics import Counts, DeletedArticle, compute_outcomes
from bot.core.model import Notice, Window
from bot.core.pageformat import ENGLISH, page_format
from bot.core.program_page import parse_program_page
from bot.core.render import campaign_block, campaign_sentence, campaign_summary
from bot.core.titles import names_campaign

MESSAGES = Messages()
GERMAN = page_format("de")


def moment(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def window(first: int, last: int) -> Window:
    return Window(moment(first, 0), datetime(2026, 11, last, 23, 59, 59, tzinfo=UTC))


def rev(
    revid: int, user: str, pageid: int, day: int, *, ns: int = 0, diff: int = 10, new: bool = False
) -> Revision:
    return Revision(revid, user, pageid, ns, f"Page {pageid}", moment(day), diff, new)


# -- reading the campaign page ------------------------------------------------------------

DETAILS = (
    "{{Campaign details\n|name=Wiki Science 2026\n|start=2026-11-01\n|end=2026-11-30\n"
    "|description=Women in science.\n}}"
)


def test_details_are_read() -> None:
    page = parse_campaign_page("Intro.\n" + DETAILS + "\nProse.")
    details = page.details
    assert details.name == "Wiki Science 2026"
    assert details.description == "Women in science."
    assert details.window == window(1, 30)
    assert page.notices == ()


def test_dates_are_optional_and_bad_ones_give_notices() -> None:
    assert parse_campaign_page("{{Campaign details|name=X}}").notices == ()
    assert parse_campaign_page("{{Campaign details|name=X}}").details.window is None
    page = parse_campaign_page(
        "{{Campaign details|start=next monday|end=2026-02-30|colour=red}}\n{{Campaign details}}"
    )
    assert page.notices == (
        Notice("unknown-parameter", ("colour", "{{Campaign details}}")),
        Notice("several-details", ("{{Campaign details}}",)),
        Notice("campaign-bad-date", ("start", "next monday")),
        Notice("campaign-bad-date", ("end", "2026-02-30")),
    )
    backwards = parse_campaign_page("{{Campaign details|start=2026-12-01|end=2026-11-01}}")
    assert backwards.notices == (Notice("campaign-end-before-start", ("2026-12-01", "2026-11-01")),)
    assert backwards.details.window is None
    # Every notice has a message.
    for notice in (*page.notices, *backwards.notices):
        assert MESSAGES.text("notice-" + notice.key, *notice.params)


def test_a_page_without_campaign_details_is_refused() -> None:
    with pytest.raises(NotACampaignError, match="does not use"):
        parse_campaign_page("{{Program details|start=2026-11-01}}")
    with pytest.raises(NotACampaignError, match="nested"):
        parse_campaign_page("{{Box|1={{Campaign details|name=X}}}}")
    with pytest.raises(NotACampaignError):
        parse_campaign_page("<!-- {{Campaign details|name=X}} -->")
    assert issubclass(NotACampaignError, ProgramsBotError)
    assert is_campaign_page(DETAILS) and is_campaign_page("{{Kampagnendetails}}")
    assert not is_campaign_page("{{Program details}}")
    assert not is_campaign_page("<!-- {{Campaign details}} -->")


def test_german_names_and_english_ones() -> None:
    text = (
        "{{Vorlage:Kampagnendetails|name=Wissenschaft|beginn=2026-11-01|ende=2026-11-30"
        "|beschreibung=Text|end=2026-11-20}}"
    )
    assert detect_campaign_format(text).lang == "de"
    page = parse_campaign_page(text)
    # English names are understood on a German page too; the last value wins.
    assert page.details.window == Window(moment(1, 0), moment(20, 23).replace(minute=59, second=59))
    assert page.details.description == "Text"
    bad = parse_campaign_page("{{Kampagnendetails|beginn=bald}}")
    assert bad.notices == (Notice("campaign-bad-date", ("beginn", "bald")),)
    assert detect_campaign_format(DETAILS) is ENGLISH


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Wikipedia:Wiki Science 2026", True),
        ("Wiki Science 2026", True),
        ("wiki_Science  2026", True),
        ("[[Wikipedia:Wiki Science 2026]]", True),
        ("[[Wikipedia:Wiki Science 2026|the campaign]]", True),
        ("wikipedia:wiki Science 2026", True),
        (":Wiki Science 2026", True),
        ("Wiki Science 2027", False),
        ("Wiki science 2026", False),  # only the first letter's case is free
        ("User:Wiki Science 2026", False),
        ("", False),
        ("  ", False),
    ],
)
def test_which_campaign_value_names_the_page(value: str, expected: bool) -> None:
    assert names_campaign(value, "Wikipedia:Wiki Science 2026", "Wiki Science 2026") is expected


def test_counted_participants_are_the_rows_the_bot_filled_in() -> None:
    text = (
        "{{Program details|start=2026-11-01|end=2026-11-30|wikis=a.example.org"
        "|facilitators=Fay, Alice|count_facilitators=yes}}\n{{Participants table}}\n"
        "{{Participant table row|username=Alice|edits=3|articles_edited=1|articles_created=0"
        "|bytes_added=10|uploads=0}}\n"
        "{{Participant table row|username=Zed|edits=|articles_edited=|articles_created="
        "|bytes_added=|uploads=}}\n"
        "{{Participant table row|username=Bob|edits=0|articles_edited=0|articles_created=0"
        "|bytes_added=0|uploads=0}}\n"
        "{{Participant table row|username=New}}\n{{End of participants table}}"
    )
    assert parse_program_page(text).counted == ("Alice", "Bob", "Fay")
    without = text.replace("count_facilitators=yes", "count_facilitators=no")
    assert parse_program_page(without).counted == ("Alice", "Bob")


# -- adding up ----------------------------------------------------------------------------

WIKI = "a.example.org"
MEDIA = "media.example.org"
PAGES = {
    10: PageState(10, 0, "Shared"),
    11: PageState(11, 0, "Bob's"),
    12: PageState(12, 0, "Later"),
    13: PageState(13, 0, "Gone"),
    14: PageState(14, 0, "Outside scope of A", in_scope=False),
}

#: Program A: Alice and Bob, 1-10 November. What its refresh fetched: their revisions in
#: its window (and one it keeps although the user was dropped since: Carol's).
PROGRAM_A = ProgramRecords(
    "Program A",
    ("Alice", "Bob"),
    window(1, 10),
    (
        WikiRecords(
            WIKI,
            (
                rev(1, "Alice", 10, 3, diff=100, new=True),
                rev(2, "Alice", 10, 7, diff=20),
                rev(3, "Bob", 11, 4, diff=30, new=True),
                rev(7, "Alice", 13, 8, diff=5, new=True),
                rev(8, "Alice", 14, 9, diff=7),
                rev(9, "Carol", 11, 5, diff=1000),  # Carol is not A's participant
            ),
            {k: v for k, v in PAGES.items() if k != 12},
            (
                Upload("Alice", "File:Shared.png", moment(8)),
                Upload("Bob", "File:Bob.png", moment(2)),
            ),
        ),
    ),
)

#: Program B: Alice and Carol, 5-20 November: shares Alice, her revision 2 and the
#: article "Shared" with A, and the upload of File:Shared.png.
PROGRAM_B = ProgramRecords(
    "Program B",
    ("Alice", "Carol"),
    window(5, 20),
    (
        WikiRecords(
            WIKI,
            (
                rev(2, "Alice", 10, 7, diff=20),
                rev(4, "Carol", 10, 8, diff=40),
                rev(5, "Alice", 12, 15, diff=50, new=True),
                rev(6, "Alice", 12, 25, diff=60),  # after B's window
                rev(8, "Alice", 14, 9, diff=7),
            ),
            {
                10: PAGES[10],
                12: PAGES[12],
                13: PageState(13, 0, "Gone", deleted=True),
                14: PageState(14, 0, "Outside scope of A"),
            },
            (Upload("Alice", "File:Shared.png", moment(8)),),
        ),
        WikiRecords(MEDIA, (rev(100, "Carol", 500, 6, ns=6, diff=0, new=True),), {}, ()),
    ),
)


def test_totals_count_each_participant_revision_article_and_file_once() -> None:
    outcomes = campaign_outcomes([PROGRAM_B, PROGRAM_A])
    a, b = outcomes.programs
    assert (a.title, b.title) == ("Program A", "Program B")  # listed by title
    assert a.outcomes is not None and b.outcomes is not None
    # Each program's own row is bot.core.metrics on its own records, as on its page.
    assert a.outcomes == compute_outcomes(PROGRAM_A.participants, window(1, 10), PROGRAM_A.records)
    assert a.outcomes.total == Counts(
        edits=4,  # revisions 1, 2, 3, 7; 8 is out of A's scope; Carol's 9 is not A's
        mainspace_edits=4,
        articles_edited=3,  # Shared, Bob's, Gone
        articles_created=3,
        bytes_added=155,
        uploads=2,
        deleted=0,
    )
    assert b.outcomes.total == Counts(
        edits=5,  # revisions 2, 4, 5, 8 and Carol's file page on the media wiki; not 6
        mainspace_edits=4,
        articles_edited=3,  # Shared, Later, Outside scope of A
        articles_created=1,
        bytes_added=117,
        uploads=1,
        deleted=0,
    )
    assert outcomes.participants == ("Alice", "Bob", "Carol")
    assert outcomes.total == Counts(
        edits=8,  # revisions 1, 2, 3, 4, 5, 7, 8, 100: revision 2 (and 8) once
        mainspace_edits=7,
        articles_edited=5,  # Shared, Bob's, Later, Gone, Outside scope of A: Shared once
        articles_created=4,  # Shared (A's revision 1), Bob's, Later, Gone
        bytes_added=100 + 20 + 30 + 40 + 50 + 5 + 7,
        uploads=2,  # File:Shared.png once, File:Bob.png
        deleted=1,  # B's newer refresh saw "Gone" deleted: it stays counted and flagged
    )
    assert set(outcomes.per_wiki) == {WIKI, MEDIA}
    assert outcomes.per_wiki[MEDIA].edits == 1
    assert outcomes.deleted_articles == (DeletedArticle(WIKI, "Gone"),)
    assert outcomes.notices == ()
    # Deduplication really happened: the rows add up to more than the totals.
    assert a.outcomes.total.edits + b.outcomes.total.edits > outcomes.total.edits


def test_a_participant_of_two_programs_with_different_windows() -> None:
    """Alice's revisions inside both windows count once; each window still applies."""
    alice = (rev(1, "Alice", 10, 2), rev(2, "Alice", 10, 6), rev(3, "Alice", 11, 12))
    early = ProgramRecords("Early", ("Alice",), window(1, 7), (WikiRecords(WIKI, alice, PAGES),))
    late = ProgramRecords("Late", ("Alice",), window(5, 20), (WikiRecords(WIKI, alice, PAGES),))
    outcomes = campaign_outcomes([early, late])
    rows = {p.title: p.outcomes for p in outcomes.programs}
    assert rows["Early"] is not None and rows["Late"] is not None
    assert rows["Early"].total.edits == 2 and rows["Late"].total.edits == 2
    assert outcomes.total.edits == 3
    assert outcomes.total.articles_edited == 2
    assert outcomes.participants == ("Alice",)


def test_programs_without_dates_or_refresh_and_outside_the_campaign() -> None:
    undated = ProgramRecords("Undated", ("Dora",), None, ())
    fresh = ProgramRecords("Fresh", ("Eve",), window(5, 30), (), refreshed=False)
    outcomes = campaign_outcomes([undated, fresh, PROGRAM_A], window=window(5, 30))
    assert [p.title for p in outcomes.programs] == ["Fresh", "Program A", "Undated"]
    assert outcomes.programs[2].outcomes is None
    assert outcomes.counted_programs == 2
    assert outcomes.participants == ("Eve", "Alice", "Bob")  # Dora's program is not counted
    assert outcomes.notices == (
        Notice("campaign-program-not-refreshed", ("Fresh",)),
        Notice(
            "campaign-program-outside",
            ("Program A", "2026-11-01T00:00:00Z", "2026-11-10T23:59:59Z"),
        ),
        Notice("campaign-program-no-dates", ("Undated",)),
    )
    nothing = campaign_outcomes([undated])
    assert nothing.total == Counts() and nothing.participants == ()
    empty = campaign_outcomes([])
    assert campaign_sentence(empty, MESSAGES) == MESSAGES.text("campaign-sentence-none")


NAMES = ("Alice", "Bob", "Carol", "Dave")


def _program(title: str, users: list[str], revs: list[tuple[int, int, int, int]]) -> ProgramRecords:
    """(revid, author, pageid, day): the same id is the same revision in every program."""
    revisions = tuple(
        Revision(revid, NAMES[u], page, 0, f"P{page}", moment(day), revid, revid < 5)
        for revid, u, page, day in revs
    )
    pages = {r.pageid: PageState(r.pageid, 0, r.title) for r in revisions}
    return ProgramRecords(
        title, tuple(users), window(1, 30), (WikiRecords(WIKI, revisions, pages),)
    )


revision_ids = st.integers(1, 30)
revisions = st.lists(
    st.tuples(revision_ids, st.integers(0, 3), st.integers(1, 6), st.integers(1, 30)),
    max_size=12,
    unique_by=lambda r: r[0],
)
people = st.lists(st.sampled_from(NAMES), min_size=1, unique=True)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(people, revisions), min_size=1, max_size=4), st.randoms())
def test_totals_are_bounded_by_the_rows_and_independent_of_order(
    programs: list[tuple[list[str], list[tuple[int, int, int, int]]]], rng: Any
) -> None:
    canon = {revid: (u, page, day) for _, revs in programs for revid, u, page, day in revs}
    records = [
        _program(f"P{i}", users, [(r, *canon[r]) for r, *_ in revs])
        for i, (users, revs) in enumerate(programs)
    ]
    outcomes = campaign_outcomes(records)
    shuffled = list(records)
    rng.shuffle(shuffled)
    assert campaign_outcomes(shuffled) == outcomes
    rows = [p.outcomes.total for p in outcomes.programs if p.outcomes is not None]
    for name in ("edits", "articles_edited", "articles_created", "bytes_added"):
        total = getattr(outcomes.total, name)
        assert max(getattr(r, name) for r in rows) <= total <= sum(getattr(r, name) for r in rows)
    assert len(outcomes.participants) == len({u for users, _ in programs for u in users})


# -- writing ------------------------------------------------------------------------------


def outcomes_ab() -> CampaignOutcomes:
    return campaign_outcomes([PROGRAM_A, PROGRAM_B])


def test_the_block() -> None:
    notices = (Notice("campaign-bad-date", ("start", "<b>soon</b>")),)
    block = campaign_block(outcomes_ab(), "2026-11-25T06:00:00Z", MESSAGES, ENGLISH, notices)
    lines = block.split("\n")
    assert lines[0] == (
        "{{Campaign programs|computed=2026-11-25T06:00:00Z|participants=3|sentence="
        "2 {{PLURAL:2|program|programs}} with 3 {{PLURAL:3|participant|participants}}"
        " (each counted once) made 8 {{PLURAL:8|edit|edits}} to 5 {{PLURAL:5|article|articles}}."
        " 4 new {{PLURAL:4|article was|articles were}} created."
        " 2 {{PLURAL:2|file was|files were}} uploaded.}}"
    )
    assert lines[1:4] == [
        "{{Campaign program row|program=Program A|participants=2|edits=4|articles_edited=3"
        "|articles_created=3|bytes_added=155|uploads=2}}",
        "{{Campaign program row|program=Program B|participants=2|edits=5|articles_edited=3"
        "|articles_created=1|bytes_added=117|uploads=1}}",
        "{{Campaign program row|program=total|participants=3|edits=8|articles_edited=5"
        "|articles_created=4|bytes_added=252|uploads=2}}",
    ]
    # The campaign's activity: every program's edits, each once, in a 7-column table.
    chart = [line for line in lines if line.startswith("{{Program activity")]
    assert lines[4 : 4 + len(chart)] == chart and len(chart) >= 2
    assert chart[0].startswith("{{Program activity|period=day|max=")
    assert all(line.endswith("|columns=7}}") for line in chart)
    edits = [re.search(r"\|edits=([0-9]+)", line) for line in chart[1:]]
    assert sum(int(found[1]) for found in edits if found) == 8  # the campaign's total edits
    # Values from the page are made inert.
    notice = lines[4 + len(chart)]
    assert notice.startswith("{{Campaign notice|message=")
    assert "<nowiki>&lt;b>soon&lt;/b></nowiki>" in notice
    assert lines[5 + len(chart)] == "{{End of campaign programs}}"
    assert len(lines) == 6 + len(chart)


def test_a_german_campaign_page_speaks_german() -> None:
    german = Messages("de")
    lines = campaign_block(outcomes_ab(), "2026-11-25T06:00:00Z", german, GERMAN).split("\n")
    assert lines[0] == (
        "{{Kampagnenprogramme|berechnet=2026-11-25T06:00:00Z|teilnehmer=3|zusammenfassung="
        "2 {{PLURAL:2|Programm|Programme}} mit 3 {{PLURAL:3|Teilnehmer|Teilnehmern}}"
        " (jeder einmal gezählt) {{PLURAL:2|machte|machten}} 8"
        " {{PLURAL:8|Bearbeitung|Bearbeitungen}} an 5 {{PLURAL:5|Artikel|Artikeln}}."
        " 4 {{PLURAL:4|neuer Artikel wurde|neue Artikel wurden}} erstellt."
        " 2 {{PLURAL:2|Datei wurde|Dateien wurden}} hochgeladen.}}"
    )
    assert campaign_summary(outcomes_ab(), german) == (
        "Bot: Kampagnenstatistik aktualisiert (Programme: 2, Teilnehmende: 3, Bearbeitungen: 8,"
        " bearbeitete Artikel: 5, hochgeladene Dateien: 2)"
    )
    uncounted = campaign_outcomes([ProgramRecords("Ohne Daten", ("Dora",), None)])
    block = campaign_block(uncounted, "2026-11-25T06:00:00Z", german, GERMAN)
    assert (
        "{{Kampagnenhinweis|meldung=Das Programm <nowiki>Ohne Daten</nowiki> hat keine gültigen"
        " Daten; es wird aufgeführt, aber nicht gezählt.}}"
    ) in block


def test_the_block_in_german_and_an_uncounted_program() -> None:
    outcomes = campaign_outcomes([ProgramRecords("Ohne Daten", ("Dora",), None)])
    block = campaign_block(outcomes, "2026-11-25T06:00:00Z", MESSAGES, GERMAN)
    assert block.split("\n")[1:] == [
        "{{Kampagnenprogrammzeile|programm=Ohne Daten|teilnehmer=|bearbeitungen="
        "|artikel_bearbeitet=|artikel_erstellt=|bytes_hinzugefuegt=|dateien_hochgeladen=}}",
        "{{Kampagnenprogrammzeile|programm=total|teilnehmer=0|bearbeitungen=0"
        "|artikel_bearbeitet=0|artikel_erstellt=0|bytes_hinzugefuegt=0|dateien_hochgeladen=0}}",
        "{{Kampagnenhinweis|meldung=The program <nowiki>Ohne Daten</nowiki> has no valid dates;"
        " it is listed but not counted.}}",
        "{{Ende der Kampagnenprogramme}}",
    ]
    page = "{{Kampagnendetails|name=X}}\nText."
    rendered = render_campaign_page(page, block)
    assert rendered == "{{Kampagnendetails|name=X}}\n\n" + block + "\nText."
    assert current_campaign_param(rendered, "computed") == "2026-11-25T06:00:00Z"
    assert render_campaign_page(rendered, block) == rendered


def test_the_block_goes_after_the_details_and_is_replaced_in_place() -> None:
    block = campaign_block(outcomes_ab(), "2026-11-25T06:00:00Z", MESSAGES)
    page = "Intro.\n" + DETAILS + "\nProse after.\n\n== Section ==\nMore."
    first = render_campaign_page(page, block)
    assert first == "Intro.\n" + DETAILS + "\n\n" + block + "\nProse after.\n\n== Section ==\nMore."
    assert render_campaign_page(first, block) == first  # unchanged: the very same text
    assert current_campaign_param(page, "computed") is None
    assert current_campaign_param(first, "computed") == "2026-11-25T06:00:00Z"
    other = campaign_block(campaign_outcomes([PROGRAM_A]), "2026-11-26T06:00:00Z", MESSAGES)
    second = render_campaign_page(first, other)
    assert second == first.replace(block, other)
    # Moved by an organizer to the end of the page: replaced where it is.
    moved = page + "\n\n" + block + "\n"
    assert render_campaign_page(moved, other) == page + "\n\n" + other + "\n"


def test_a_block_without_its_end_template_does_not_swallow_prose() -> None:
    head, *rows = campaign_block(outcomes_ab(), "2026-11-25T06:00:00Z", MESSAGES).split("\n")
    broken = DETAILS + "\n\n" + "\n".join([head, *rows[:-1]]) + "\nOrganizer prose.\n"
    block = campaign_block(campaign_outcomes([]), "2026-11-26T06:00:00Z", MESSAGES)
    assert render_campaign_page(broken, block) == DETAILS + "\n\n" + block + "\nOrganizer prose.\n"


def test_only_top_level_templates_count() -> None:
    block = campaign_block(campaign_outcomes([]), "2026-11-26T06:00:00Z", MESSAGES)
    quoted = "<!-- {{Campaign programs|computed=x}} -->\n<pre>{{End of campaign programs}}</pre>\n"
    page = DETAILS + "\n" + quoted
    assert render_campaign_page(page, block) == DETAILS + "\n\n" + block + "\n" + quoted
    assert current_campaign_param(page, "computed") is None
    with pytest.raises(NotACampaignError):
        render_campaign_page("No campaign here.", block)


prose_fragments = st.sampled_from(
    [
        "Prose.",
        "\n",
        "\n\n",
        " ",
        "\n== Heading ==\n",
        "[[Link|text]]",
        "''italic''",
        "<!-- {{Campaign programs}} -->",
        "<nowiki>{{End of campaign programs}}</nowiki>",
        "{{Other template|a=b}}",
        "{{Campaign program row|program=Stray}}",  # a stray row outside the block stays
        "\n* list item\n",
        "\n{|\n| cell\n|}\n",
        "é ü ✓",
    ]
)
prose = st.lists(prose_fragments, max_size=8).map("".join)
blocks = st.builds(
    lambda programs, computed: campaign_block(campaign_outcomes(programs), computed, MESSAGES),
    st.lists(st.sampled_from([PROGRAM_A, PROGRAM_B]), max_size=2, unique_by=lambda p: p.title),
    st.sampled_from(["2026-11-25T06:00:00Z", "2026-11-26T06:00:00Z", ""]),
)


@settings(max_examples=200, deadline=None)
@given(prose, prose, prose, blocks, blocks)
def test_render_touches_nothing_outside_the_block(
    before: str, between: str, after: str, first: str, second: str
) -> None:
    page = before + DETAILS + between + after
    once = render_campaign_page(page, first)
    assert once == before + DETAILS + "\n\n" + first + between + after
    assert render_campaign_page(once, first) == once
    assert parse_campaign_page(once).details == parse_campaign_page(page).details
    twice = render_campaign_page(once, second)
    assert twice == before + DETAILS + "\n\n" + second + between + after
    # A block somewhere else on the page is replaced where it stands.
    elsewhere = before + DETAILS + between + "\n" + first + "\n" + after
    assert render_campaign_page(elsewhere, second) == (
        before + DETAILS + between + "\n" + second + "\n" + after
    )


# -- on the real wikis --------------------------------------------------------------------

CAMPAIGN = "Project:Wiki Science"


def program_text(farm: Any, users: list[str], campaign: str) -> str:
    from harness import program_page

    hosts = [farm.content.host, farm.media.host]
    return program_page(users, hosts, organizer="Admin", campaign=campaign)


CAMPAIGN_TEXT = (
    "Intro by the organizers.\n{{Campaign details\n|name=Wiki Science\n"
    "|start=2020-01-01\n|end=2040-12-31\n|description=All the science.\n}}\n"
    "Prose after the box.\n"
)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    from bot.store import Store

    return Store(f"sqlite:///{tmp_path / 'store.sqlite'}")


@pytest.mark.wiki
def test_a_campaign_adds_up_its_programs_once_per_person_and_article(
    wikis: Any, participant: Callable[..., Any], store: Any
) -> None:
    pywikibot = pytest.importorskip("pywikibot")
    from bot.core.program_page import read_outcome_rows
    from bot.jobs.campaigns import find_campaign_programs, refresh_campaign
    from bot.jobs.refresh import Refresher
    from bot.wiki.discovery import campaign_pages
    from harness import tiny_png
    from harness.dbcount import db_counts

    alice, bob, carol, dave = (participant(n) for n in ("Alice", "Bob", "Carol", "Dave"))
    alice.edit("Shared article", "'''Shared''' was started by Alice.")
    bob.append("Shared article", "\nBob adds a sentence.")
    carol.append("Shared article", "\nCarol too.")
    alice.edit("Alice's own", "Alice writes alone.")
    bob.edit("Talk:Shared article", "A question.")
    carol.edit("Carol's own", "Carol writes alone.")
    dave.edit("Dave's own", "Only in the other campaign.")
    participant("Alice", wiki=wikis.media).upload("Shared.png", tiny_png(21), "a file")
    participant("Carol", wiki=wikis.media).upload("Carol.png", tiny_png(22), "another")

    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    full_title = pywikibot.Page(site, CAMPAIGN).title()  # the project namespace's real name
    admin = participant("Admin")
    admin.edit(CAMPAIGN, CAMPAIGN_TEXT)
    # Three ways of naming the campaign; a program of another campaign; a stray example.
    admin.edit("Program A", program_text(wikis, ["Alice", "Bob"], "Wiki Science"))
    admin.edit("Program B", program_text(wikis, ["Alice", "Carol"], "[[Project:Wiki Science]]"))
    admin.edit("Program C", program_text(wikis, ["Alice", "Dave"], "Other campaign"))
    admin.edit("Template:Example", program_text(wikis, ["Eve"], "Wiki Science"))

    refresher = Refresher(store)
    for title in ("Program A", "Program B", "Program C"):
        assert refresher.refresh(pywikibot.Page(site, title)).saved_revid is not None

    programs = find_campaign_programs(site, CAMPAIGN)
    assert [p.title() for p in programs] == ["Program A", "Program B"]
    admin.edit("Template:Campaign example", CAMPAIGN_TEXT)
    assert [p.title() for p in campaign_pages(site)] == [full_title]

    result = refresh_campaign(site, CAMPAIGN, store)
    assert result.saved_revid is not None
    text = admin.get_text(CAMPAIGN)
    assert text == result.new_text
    # Every byte the organizers wrote is still there, the block right after the box.
    old = result.old_text
    box_end = old.index("}}\n") + 2
    assert text.startswith(old[:box_end] + "\n\n{{Campaign programs|computed=")
    assert text.endswith("{{End of campaign programs}}" + old[box_end:])

    outcomes = result.outcomes
    assert [p.title for p in outcomes.programs] == ["Program A", "Program B"]
    assert outcomes.participants == ("Alice", "Bob", "Carol")
    assert result.notices == ()

    # The totals, against the wikis' own tables: Alice, Bob and Carol together, each
    # revision and each distinct page once (both programs have the same window).
    window = parse_program_page(admin.get_text("Program A") or "").details.window
    assert window is not None
    users = ["Alice", "Bob", "Carol"]
    expected = {"edits": 0, "articles_edited": 0, "articles_created": 0, "bytes_added": 0}
    uploads = 0
    for wiki in wikis.wikis:
        counts = db_counts(wiki, users, window.start, window.end)
        for name in expected:
            expected[name] += getattr(counts, name)
        uploads += counts.uploads
    total = outcomes.total
    assert {name: getattr(total, name) for name in expected} == expected
    assert total.uploads == uploads == 2
    assert (total.articles_edited, total.articles_created) == (3, 3)

    # Each program's row is what its own page says; the rows add up to more than the total.
    rows = {p.title: p.outcomes for p in outcomes.programs}
    for title in ("Program A", "Program B"):
        own = read_outcome_rows(admin.get_text(title) or "")["total"]
        row = rows[title]
        assert row is not None
        for name in ("edits", "articles_edited", "articles_created", "bytes_added", "uploads"):
            assert own[name] == str(getattr(row.total, name)), (title, name)
    assert sum(r.total.edits for r in rows.values() if r) > total.edits
    # The page says so too.
    assert f"{{{{Campaign program row|program=total|participants=3|edits={total.edits}|" in text
    assert "program=Program C" not in text
    assert full_title != CAMPAIGN  # Program B's "Project:" alias was resolved

    # Nothing changed: no edit, the computed time kept.
    revid = admin.latest_revid(CAMPAIGN)
    again = refresh_campaign(site, CAMPAIGN, store, clock=lambda: datetime(2030, 1, 1, tzinfo=UTC))
    assert not again.changed and again.saved_revid is None
    assert admin.latest_revid(CAMPAIGN) == revid


@pytest.mark.wiki
def test_campaign_refresh_is_safe(
    wikis: Any, participant: Callable[..., Any], store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulate saves nothing, {{nobots}} and non-campaigns are refused, a conflict re-applies."""
    pywikibot = pytest.importorskip("pywikibot")
    import bot.jobs.campaigns as campaign_io
    import bot.wiki.edit
    from bot.core.errors import ConflictError, EditRefusedError

    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    admin = participant("Admin")
    admin.edit(CAMPAIGN, CAMPAIGN_TEXT)
    admin.edit("Not a campaign", "Prose.")
    with pytest.raises(NotACampaignError):
        campaign_io.refresh_campaign(site, "Not a campaign", store)
    with pytest.raises(NotACampaignError):
        campaign_io.refresh_campaign(site, "Missing page", store)

    simulated = campaign_io.refresh_campaign(site, CAMPAIGN, store, simulate=True)
    assert simulated.changed and simulated.saved_revid is None
    assert admin.get_text(CAMPAIGN) == CAMPAIGN_TEXT.rstrip("\n")

    real_save = bot.wiki.edit.save
    calls = []

    def save_after_an_organizer_edit(page: Any, text: str, summary: str, **options: Any) -> int:
        calls.append(summary)
        if len(calls) == 1:
            admin.append(CAMPAIGN, "\nAn organizer's late sentence.")
            raise ConflictError("someone saved in between")
        return real_save(page, text, summary, **options)

    monkeypatch.setattr(bot.wiki.edit, "save", save_after_an_organizer_edit)
    result = campaign_io.refresh_campaign(site, CAMPAIGN, store)
    assert result.attempts == 2 and result.saved_revid is not None
    text = admin.get_text(CAMPAIGN) or ""
    assert "An organizer's late sentence." in text and "{{End of campaign programs}}" in text
    assert calls[-1].startswith("Bot: updating campaign statistics (0 programs, 0 participants")

    admin.edit(CAMPAIGN, "{{nobots}}\n" + CAMPAIGN_TEXT)
    with pytest.raises(EditRefusedError):
        campaign_io.refresh_campaign(site, CAMPAIGN, store)


@pytest.mark.wiki
def test_campaign_templates_render(wikis: Any) -> None:
    from test_template_translations import install_translated_templates
    from test_templates import assert_no_errors, categories, html_tree, install_templates, parse

    install_templates(wikis)
    block = campaign_block(outcomes_ab(), "2026-11-25T06:00:00Z", MESSAGES)
    block = block.replace("{{End", "{{Campaign notice|message=A note.}}\n{{End")
    text = render_campaign_page(CAMPAIGN_TEXT, block)
    parsed = parse(wikis.content.api_url, text=text, title="Campaign", contentmodel="wikitext")
    assert_no_errors(parsed["text"])
    assert categories(parsed) == {"Campaigns"}
    tree = html_tree(parsed["text"])
    box = tree.find("div", "programs-bot-campaign")
    assert box.attrs["data-start"] == "2020-01-01"
    details = box.find("table", "programs-bot-campaign-details")
    assert details.find("caption").text() == "Wiki Science"
    cells = {row.cells()[0].text(): row.cells()[-1].text() for row in details.rows()}
    assert cells["Dates"] == "1 January 2020 \u2013 31 December 2040"
    assert tree.find(cls="programs-bot-campaign-description").text() == "All the science."
    assert (
        tree.find(cls="programs-bot-campaign-sentence")
        .text()
        .startswith(
            "2 programs with 3 participants (each counted once) made 8 edits to 5 articles."
        )
    )
    assert "for 3 distinct participants" in tree.find(cls="programs-bot-computed").text()
    table = tree.find("table", "programs-bot-campaign-programs")
    assert "sortable" in table.classes
    header, a, b, total, *chart, notice = table.rows()
    assert [c.text() for c in header.cells()] == [
        "Program",
        "Participants",
        "Edits",
        "Articles edited",
        "Articles created",
        "Bytes added",
        "Uploads",
    ]
    assert [c.text() for c in a.cells()] == ["Program A", "2", "4", "3", "3", "155", "2"]
    assert "Program_A" in a.cells()[0].find("a").attrs["href"]
    assert "programs-bot-campaign-program" in b.classes
    assert {"programs-bot-total", "sortbottom"} <= total.classes
    assert total.cells()[0].find("b").text() == "Total"
    assert [c.text() for c in total.cells()][1:] == ["3", "8", "5", "4", "252", "2"]
    (cell,) = notice.cells()
    assert cell.attrs["colspan"] == "7" and "A note." in cell.text()
    # The activity chart fits the 7 columns and stays below the programs when sorted.
    head, *bars = chart
    assert head.cells()[0].attrs["colspan"] == "7" and bars
    assert all(len(bar.cells()) == 2 and bar.cells()[1].attrs["colspan"] == "6" for bar in bars)
    assert all("sortbottom" in row.classes for row in chart)

    # Without dates the box has no dates row; a bad date is shown as written, marked.
    parsed = parse(
        wikis.content.api_url,
        text="{{Campaign details|name=X}}{{Campaign details|start=soon}}",
        title="Campaign",
        contentmodel="wikitext",
    )
    plain, bad = html_tree(parsed["text"]).iter("table", "programs-bot-campaign-details")
    assert [r.cells()[0].text() for r in plain.rows() if r.cells()] == []
    assert [s.text() for s in bad.iter("span", "programs-bot-invalid")] == ["soon"]

    # The German templates: same structure, German words, the English value total.
    install_translated_templates(wikis, "de")
    german = campaign_block(outcomes_ab(), "2026-11-25T06:00:00Z", MESSAGES, GERMAN)
    text = render_campaign_page("{{Kampagnendetails|name=W|beginn=2026-11-01}}", german)
    parsed = parse(wikis.content.api_url, text=text, title="Kampagne", contentmodel="wikitext")
    assert_no_errors(parsed["text"])
    assert categories(parsed) == {"Kampagnen"}
    tree = html_tree(parsed["text"])
    header, _a, _b, total, head, *_ = tree.find("table", "programs-bot-campaign-programs").rows()
    assert header.cells()[0].text() == "Programm"
    assert head.cells()[0].text().startswith("Aktivität pro Tag")
    assert total.cells()[0].find("b").text() == "Gesamt"
    box = tree.find("table", "programs-bot-campaign-details")
    assert "1. November 2026" in box.text() and "kein Enddatum" in box.text()
