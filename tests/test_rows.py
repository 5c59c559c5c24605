"""Adding and removing rows for the Join flow changes nothing but those rows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import BadUsernameError
from bot.core.program_page import parse_program_page
from bot.core.rows import add_rows, remove_rows

DETAILS = "{{Program details\n|start=2026-11-01\n|end=2026-11-30\n|wikis=en.wikipedia.org\n}}"
PAGE = (
    "Intro.\n" + DETAILS + "\n== People ==\n{{Participants table}}\n"
    "{{Participant table row|username=Alice|joined=2026-11-01|edits=3}}\n"
    "{{End of participants table}}\nOutro.\n"
)


def names(text: str) -> list[str]:
    return [row.username for row in parse_program_page(text).rows]


def test_rows_go_at_the_end_of_the_table() -> None:
    text, added = add_rows(PAGE, [("bob", "2026-11-02"), ("Carol", "2026-11-03")])
    assert added == ["Bob", "Carol"]
    assert text == PAGE.replace(
        "{{End of participants table}}",
        "{{Participant table row|username=Bob|joined=2026-11-02}}\n"
        "{{Participant table row|username=Carol|joined=2026-11-03}}\n"
        "{{End of participants table}}",
    )


def test_adding_someone_already_listed_changes_nothing() -> None:
    assert add_rows(PAGE, [("Alice", "2026-11-09")]) == (PAGE, [])
    text, added = add_rows(PAGE, [("Bob", "2026-11-02"), ("Bob", "2026-11-02")])
    assert added == ["Bob"] and names(text) == ["Alice", "Bob"]


def test_a_page_without_a_table_gets_one_after_the_details() -> None:
    page = "Intro.\n" + DETAILS + "\nOutro."
    text, _ = add_rows(page, [("Bob", "2026-11-02")])
    assert text == (
        "Intro.\n" + DETAILS + "\n\n{{Participants table}}\n"
        "{{Participant table row|username=Bob|joined=2026-11-02}}\n"
        "{{End of participants table}}\nOutro."
    )
    assert names(text) == ["Bob"]


def test_a_table_without_an_end_gets_the_row_after_its_last_row() -> None:
    page = PAGE.replace("{{End of participants table}}\n", "")
    text, _ = add_rows(page, [("Bob", "2026-11-02")])
    assert names(text) == ["Alice", "Bob"]
    assert text.endswith(
        "|edits=3}}\n{{Participant table row|username=Bob|joined=2026-11-02}}\nOutro.\n"
    )


def test_removing_takes_the_line_away() -> None:
    added, _ = add_rows(PAGE, [("Bob", "2026-11-02")])
    text, removed = remove_rows(added, ["bob", "Nobody"])
    assert (text, removed) == (PAGE, ["Bob"])


@pytest.mark.parametrize("name", ["A|B", "{{evil}}", "X]]", "a\nb", "", "C#d"])
def test_names_that_would_break_the_page_are_refused(name: str) -> None:
    with pytest.raises(BadUsernameError):
        add_rows(PAGE, [(name, "2026-11-02")])


prose = st.text(alphabet=st.sampled_from(list("ab =|'\n[]<>!*ש")), max_size=40).filter(
    lambda s: "{{" not in s and "}}" not in s
)
usernames = st.sampled_from(["Bob", "Carol", "Dave", "Eve", "Zoë", "用户"])


@settings(max_examples=200, deadline=None)
@given(prose, prose, st.lists(usernames, unique=True, max_size=4))
def test_add_then_remove_restores_the_page(before: str, after: str, users: list[str]) -> None:
    page = before + "\n" + PAGE + after
    text, added = add_rows(page, [(u, "2026-11-02") for u in users])
    assert names(text) == ["Alice", *added]
    restored, removed = remove_rows(text, added)
    assert restored == page and sorted(removed) == sorted(added)
