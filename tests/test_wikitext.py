"""Reading and writing program pages: notices for bad input, byte-exact round trips."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import NotAProgramError
from bot.core.model import Notice, Scope, Window
from bot.core.program_page import (
    PageUpdate,
    current_outcomes_param,
    parse_program_page,
    render_program_page,
)
from bot.core.wikitext import every_node, read_only

DETAILS = """{{Program details
|name=Demo
|organizer=Alice
|facilitators=Bob, carol_x
|start=2026-11-01
|end=2026-11-30
|wikis=en.wikipedia.org, https://commons.wikimedia.org/wiki/Main_Page
|registration=open
|categories=Category:Women scientists, Physicists
|category_depth=2
|templates=Template:Infobox scientist
|articles=Marie Curie
|count_facilitators=yes
}}"""

TABLE = """{{Participants table}}
{{Participant table row|username=Alice|joined=2026-11-01|edits=3}}
{{Participant table row | username = Bob | joined = 2026-11-02 }}
{{End of participants table}}"""

PAGE = f"Intro prose.\n{DETAILS}\n\n== Participants ==\n{TABLE}\n\nClosing prose.\n"


def notices_of(text: str) -> set[str]:
    return {n.key for n in parse_program_page(text).notices}


def test_reads_details_and_rows() -> None:
    page = parse_program_page(PAGE)
    details = page.details
    assert details.name == "Demo"
    assert details.facilitators == ("Bob", "Carol x")
    assert details.window == Window(
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
    )
    assert details.wikis == ("en.wikipedia.org", "commons.wikimedia.org")
    assert details.scope == Scope(
        categories=("Women scientists", "Physicists"),
        category_depth=2,
        templates=("Infobox scientist",),
        articles=("Marie Curie",),
    )
    assert details.count_facilitators is True
    assert [(r.position, r.username, r.joined) for r in page.rows] == [
        (0, "Alice", "2026-11-01"),
        (1, "Bob", "2026-11-02"),
    ]
    assert page.notices == ()


def test_times_are_read_as_utc() -> None:
    text = PAGE.replace("|start=2026-11-01", "|start=2026-11-01T09:30").replace(
        "|end=2026-11-30", "|end=2026-11-30 18:00:05Z"
    )
    window = parse_program_page(text).details.window
    assert window == Window(
        datetime(2026, 11, 1, 9, 30, tzinfo=UTC), datetime(2026, 11, 30, 18, 0, 5, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("|start=2026-11-01", "|start=2026-13-01", "bad-date"),
        ("|start=2026-11-01", "|start=1 November 2026", "bad-date"),
        ("|start=2026-11-01", "", "missing-date"),
        ("|end=2026-11-30", "|end=2026-10-01", "end-before-start"),
        ("|wikis=en.wikipedia.org, https://commons.wikimedia.org/wiki/Main_Page", "", "no-wikis"),
        ("|name=Demo", "|name=Demo\n|colour=blue", "unknown-parameter"),
        ("|category_depth=2", "|category_depth=many", "bad-category-depth"),
        ("|count_facilitators=yes", "|count_facilitators=perhaps", "bad-yes-no"),
        ("|registration=open", "|registration=maybe", "bad-registration"),
        ("{{End of participants table}}", "", "no-table-end"),
        (
            "|joined=2026-11-01|edits=3",
            "|joined=2026-11-01|edits=3|mood=happy",
            "unknown-parameter",
        ),
        ("username = Bob ", "username = alice ", "duplicate-user"),
        ("username = Bob ", "username = ", "row-without-username"),
    ],
)
def test_bad_input_gives_a_notice(old: str, new: str, expected: str) -> None:
    assert old in PAGE
    assert expected in notices_of(PAGE.replace(old, new))


def test_bad_dates_leave_no_window() -> None:
    assert (
        parse_program_page(PAGE.replace("|end=2026-11-30", "|end=2026-10-01")).details.window
        is None
    )


def test_rows_outside_the_table_are_not_counted() -> None:
    text = PAGE + "\n{{Participant table row|username=Zed}}\n"
    page = parse_program_page(text)
    assert [r.username for r in page.rows] == ["Alice", "Bob"]
    assert Notice("row-outside-table", ("Zed",)) in page.notices


def test_templates_in_comments_and_nowiki_are_not_read() -> None:
    text = PAGE.replace(
        "{{End of participants table}}",
        "<!-- {{Participant table row|username=Hidden}} -->\n"
        "<nowiki>{{Participant table row|username=Literal}}</nowiki>\n"
        "{{End of participants table}}",
    )
    assert [r.username for r in parse_program_page(text).rows] == ["Alice", "Bob"]


def test_nested_rows_are_reported() -> None:
    text = PAGE.replace(
        "{{End of participants table}}",
        "<div>{{Participant table row|username=Nested}}</div>\n{{End of participants table}}",
    )
    page = parse_program_page(text)
    assert "Nested" not in [r.username for r in page.rows]
    assert Notice("nested-row", ("Nested",)) in page.notices


@pytest.mark.parametrize(
    "text",
    [
        "Just prose.",
        "<!-- {{Program details|name=x}} -->",
        "<nowiki>{{Program details|name=x}}</nowiki>",
        "{{Other|{{Program details|name=x}}}}",
    ],
)
def test_a_page_that_is_not_a_program(text: str) -> None:
    with pytest.raises(NotAProgramError):
        parse_program_page(text)


def test_template_names_are_normalized() -> None:
    text = PAGE.replace("{{Participants table}}", "{{template:participants_table}}")
    assert "no-table-start" not in notices_of(text)


BLOCK = "{{Program outcomes|computed=2026-11-25T06:00:00Z}}\n{{End of program outcomes}}"


def test_render_changes_only_bot_fields_and_inserts_the_block() -> None:
    update = PageUpdate({0: {"edits": "5", "uploads": "1"}, 1: {"edits": "0"}}, BLOCK)
    new = render_program_page(PAGE, update)
    assert "{{Participant table row|username=Alice|joined=2026-11-01|edits=5|uploads=1}}" in new
    assert "{{Participant table row | username = Bob | joined = 2026-11-02 | edits = 0 }}" in new
    assert "{{End of participants table}}\n\n" + BLOCK + "\n\nClosing prose.\n" in new
    assert new.startswith("Intro prose.\n" + DETAILS)
    assert current_outcomes_param(new, "computed") == "2026-11-25T06:00:00Z"


def test_render_replaces_an_existing_block_only() -> None:
    first = render_program_page(PAGE, PageUpdate({}, BLOCK))
    other = "{{Program outcomes|computed=2026-11-26T00:00:00Z}}\n{{End of program outcomes}}"
    second = render_program_page(first, PageUpdate({}, other))
    assert second == first.replace(BLOCK, other)


def test_block_without_end_never_swallows_organizer_text() -> None:
    text = PAGE + "\n{{Program outcomes|computed=x}}\n{{Program notice|message=old}}\nMy notes.\n"
    new = render_program_page(text, PageUpdate({}, BLOCK))
    assert new == PAGE + "\n" + BLOCK + "\nMy notes.\n"


def test_unchanged_values_keep_their_bytes() -> None:
    text = PAGE.replace("|edits=3}}", "|edits= 3 <!-- by hand -->}}")
    update = PageUpdate({0: {"edits": "3"}}, BLOCK)
    new = render_program_page(text, update)
    assert "|edits= 3 <!-- by hand -->}}" in new


# Property-based: prose (with wikitext metacharacters) around a valid program keeps
# every byte through a render that writes the values already on the page.
prose = st.text(alphabet=st.sampled_from(list("abc xyz\n=|[]'<>!-*#:;é中ש")), max_size=60).filter(
    lambda s: "{{" not in s and "}}" not in s and "<!--" not in s
)
numbers = st.integers(min_value=0, max_value=10**6).map(str)


@st.composite
def program_pages(draw: st.DrawFn) -> tuple[str, list[str]]:
    names = draw(st.lists(st.sampled_from(["Alice", "Bob", "Carol", "Dave"]), unique=True))
    stats = [draw(numbers) for _ in names]
    rows = "".join(
        f"{{{{Participant table row|username={n}|joined=2026-11-01|edits={e}}}}}\n"
        for n, e in zip(names, stats, strict=True)
    )
    text = (
        draw(prose)
        + "\n"
        + DETAILS
        + draw(prose)
        + "\n{{Participants table}}\n"
        + rows
        + "{{End of participants table}}"
        + draw(prose)
    )
    return text, stats


@settings(max_examples=200, deadline=None)
@given(program_pages())
def test_round_trip_is_byte_exact(case: tuple[str, list[str]]) -> None:
    text, stats = case
    page = parse_program_page(text)
    with_block = render_program_page(text, PageUpdate({}, BLOCK))
    again = render_program_page(
        with_block,
        PageUpdate({r.position: dict(r.stats) for r in page.rows}, BLOCK),
    )
    assert again == with_block
    assert with_block.replace("\n\n" + BLOCK, "", 1) == text
    assert [dict(r.stats)["edits"] for r in page.rows] == stats


@settings(max_examples=200, deadline=None)
@given(program_pages(), st.lists(numbers, min_size=4, max_size=4))
def test_new_numbers_change_only_bot_fields(case: tuple[str, list[str]], new: list[str]) -> None:
    text, _ = case
    page = parse_program_page(text)
    update = PageUpdate(
        {r.position: {"edits": n} for r, n in zip(page.rows, new, strict=False)}, BLOCK
    )
    rendered = render_program_page(text, update)
    reread = parse_program_page(rendered)
    assert [dict(r.stats)["edits"] for r in reread.rows] == new[: len(page.rows)]
    # Putting the old numbers back and dropping the block gives the original bytes.
    restored = render_program_page(
        rendered, PageUpdate({r.position: dict(r.stats) for r in page.rows}, BLOCK)
    )
    assert restored.replace("\n\n" + BLOCK, "", 1) == text


def test_usernames_pasted_as_links_or_with_the_namespace_are_read_as_names() -> None:
    from bot.core.pageformat import page_format

    rows = "".join(
        f"{{{{Participant table row|username={name}}}}}\n"
        for name in ("User:Alice", "[[User:Bob|Bob]]", "[[ user:carol_x ]]", "user: Dave")
    )
    page = parse_program_page(
        f"{DETAILS}\n{{{{Participants table}}}}\n{rows}{{{{End of participants table}}}}"
    )
    assert [row.username for row in page.rows] == ["Alice", "Bob", "Carol x", "Dave"]
    assert not {n.key for n in page.notices} & {"row-without-username", "invalid-user"}
    german = parse_program_page(
        "{{Programmdetails|beginn=2026-11-01|ende=2026-11-30|wikis=de.wikipedia.org}}\n"
        "{{Teilnehmertabelle}}\n{{Teilnehmerzeile|benutzername=[[Benutzer:Erik|Erik]]}}\n"
        "{{Teilnehmerzeile|benutzername=User:Frida}}\n{{Ende der Teilnehmertabelle}}",
        page_format("de"),
    )
    assert [row.username for row in german.rows] == ["Erik", "Frida"]


def test_a_facilitator_with_a_row_of_their_own_gets_a_notice() -> None:
    listed = PAGE.replace("|count_facilitators=yes", "|count_facilitators=no")
    assert Notice("facilitator-listed", ("Bob",)) in parse_program_page(listed).notices
    assert "facilitator-listed" not in notices_of(PAGE)  # counted as facilitators anyway


def test_a_table_never_closed_is_closed_after_its_last_row() -> None:
    text = PAGE.replace("{{End of participants table}}", "Prose after the rows.")
    page = parse_program_page(text)
    assert Notice("no-table-end", ("{{End of participants table}}",)) in page.notices
    new = render_program_page(
        text, PageUpdate({}, "{{Program outcomes}}\n{{End of program outcomes}}")
    )
    last_row = "{{Participant table row | username = Bob | joined = 2026-11-02 }}"
    assert new.split(last_row, 1)[1].startswith(
        "\n{{End of participants table}}\nProse after the rows."
    )
    reread = parse_program_page(new)
    assert [row.username for row in reread.rows] == ["Alice", "Bob"]
    assert "no-table-end" not in {n.key for n in reread.notices}
    assert (
        render_program_page(
            new, PageUpdate({}, "{{Program outcomes}}\n{{End of program outcomes}}")
        )
        == new
    )


# -- writing a figure: as mwparserfromhell writes it, without parsing it ---------------------

spacing = st.sampled_from(["", " ", "  ", "\n", "\n ", " \n", "\t", "\n\n"])


@st.composite
def row_templates(draw: st.DrawFn) -> str:
    """A row with any spacing around names and values, empty and positional values."""
    params = []
    names = draw(
        st.lists(st.sampled_from(["username", "joined", "edits", "mood", "uploads"]), unique=True)
    )
    for name in names:
        value = draw(st.sampled_from(["Alice", "3", "", "1 <!-- x -->", "<!-- y -->"]))
        params.append(draw(spacing) + name + draw(spacing) + "=" + draw(spacing) + value)
        params[-1] += draw(spacing)
    if draw(st.booleans()):
        params.insert(draw(st.integers(0, len(params))), draw(st.sampled_from(["x", " y\n"])))
    return "{{Participant table row" + "".join("|" + p for p in params) + "}}"


@settings(max_examples=300, deadline=None)
@given(
    row_templates(),
    st.sampled_from(["articles_edited", "bytes_added"]),
    st.one_of(numbers, st.sampled_from(["1|2", "a=b", "{{x}}", "-1", "&#49;"])),
)
def test_a_new_figure_is_written_as_mwparserfromhells_template_add(
    row: str, name: str, value: str
) -> None:
    from mwparserfromhell import parse
    from mwparserfromhell.nodes import Template

    from bot.core.pageformat import ENGLISH
    from bot.core.wikitext import set_param

    ours, theirs = (parse(row).nodes[0] for _ in range(2))
    assert isinstance(ours, Template) and isinstance(theirs, Template)
    set_param(ours, ENGLISH.row, name, value, ENGLISH)
    theirs.add(name, value, preserve_spacing=True)
    assert str(ours) == str(theirs)


def test_the_computed_time_changes_only_with_something_else() -> None:
    old = "{{Program outcomes|computed=2026-11-20T00:00:00Z}}\n{{End of program outcomes}}"
    new = old.replace("2026-11-20", "2026-11-21")
    text = render_program_page(PAGE, PageUpdate({0: {"edits": "3"}}, old))
    # The same figures: the page stays as it is, old time and all.
    assert render_program_page(text, PageUpdate({0: {"edits": "3"}}, new, old)) == text
    # A figure changes: the block with the new time is written, in one render.
    changed = render_program_page(text, PageUpdate({0: {"edits": "4"}}, new, old))
    assert changed == text.replace(old, new).replace("|edits=3}}", "|edits=4}}")
    # So does a block that says something new, the figures staying the same.
    other = new.replace("}}\n", "|participants=2}}\n", 1)
    same_time = other.replace("2026-11-21", "2026-11-20")
    assert render_program_page(text, PageUpdate({}, other, same_time)) == text.replace(old, other)


# -- the walk over every node -------------------------------------------------------------

WALKED_BITS = [
    "{{",
    "}}",
    "{{{",
    "}}}",
    "[[",
    "]]",
    "|",
    "=",
    "\n",
    "== H ==",
    "<!-- c -->",
    "<div>",
    "</div>",
    '<span class="x">',
    "</span>",
    "<ref name=a/>",
    "<nowiki>{{x}}</nowiki>",
    "[http://example.org link]",
    "&amp;",
    "{{Participant table row|username=A|edits={{x|1}}}}",
    "{{{Participant table row|username=B}}}",
    "text",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WALKED_BITS), max_size=20).map("".join))
def test_the_walk_visitsevery_node_as_the_recursive_filters_do(text: str) -> None:
    code, _ = read_only(text)
    walked = list(every_node(code))
    filtered = code.filter(recursive=True)
    assert len(walked) == len(filtered)
    assert all(a is b for a, b in zip(walked, filtered, strict=True))
