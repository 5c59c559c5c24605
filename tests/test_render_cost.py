"""What writing figures into a program page costs: parses of the wikitext, counted.

A render parses the page once, whatever the number of rows and figures written (the bot's
figures are plain text, written without parsing them); a refresh reads the page through
one cached parse and renders it through one more. And the bytes a render writes, for a
page with rows written every way organizers write them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mwparserfromhell.parser import Parser

from bot.core.pageformat import ROW_STATS
from bot.core.program_page import (
    PageUpdate,
    current_outcomes_param,
    current_outcomes_params,
    detect_format,
    parse_program_page,
    read_outcome_rows,
    render_program_page,
)
from bot.core.wikitext import forget_parsed

DETAILS = (
    "{{Program details\n|name=Demo\n|start=2026-11-01\n|end=2026-11-30\n"
    "|wikis=en.wikipedia.org\n}}\n"
)
OLD_BLOCK = (
    "{{Program outcomes|computed=2026-11-20T00:00:00Z|participants=0}}\n"
    "{{Program notice|message=old}}\n{{End of program outcomes}}"
)
NEW_BLOCK = (
    "{{Program outcomes|computed=2026-11-21T00:00:00Z|participants=9}}\n{{End of program outcomes}}"
)
#: The block as it would read with the page's own time (what a refresh compares with).
SAME_TIME_BLOCK = NEW_BLOCK.replace("2026-11-21", "2026-11-20")

#: Rows as organizers write them: one line, spaced, one parameter a line, a comment in a
#: figure, a figure left empty for the bot, a stray parameter.
ROW_FORMS = (
    "{{{{Participant table row|username={name}|joined=2026-11-01|edits=3}}}}",
    "{{{{Participant table row | username = {name} | joined = 2026-11-02 }}}}",
    "{{{{Participant table row\n | username = {name}\n | edits = 1 <!-- by hand -->\n"
    " | uploads =\n}}}}",
    "{{{{Participant table row|username={name}|edits=<!-- the bot fills this -->|mood=happy}}}}",
    "{{{{Participant table row|username={name}|edits= 2 |articles_edited=1}}}}",
)


def program_page(rows: int) -> str:
    lines = [ROW_FORMS[i % len(ROW_FORMS)].format(name=f"User {i}") for i in range(rows)]
    return (
        f"Intro.\n{DETAILS}== Participants ==\n{{{{Participants table}}}}\n"
        + "\n".join(lines)
        + f"\n{{{{End of participants table}}}}\n\nProse.\n\n{OLD_BLOCK}\nAfter.\n"
    )


def all_changed(rows: int) -> PageUpdate:
    """New figures for every statistic of every row, and a new block."""
    stats = {
        position: {name: str(position * 10 + k + 100) for k, name in enumerate(ROW_STATS)}
        for position in range(rows)
    }
    return PageUpdate(stats, NEW_BLOCK, SAME_TIME_BLOCK)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], int]]:
    """The number of times mwparserfromhell parsed any text since the fixture started
    (every parse, mwparserfromhell.parse and the library's own on assignment, goes
    through Parser.parse)."""
    seen = [0]
    parse = Parser.parse

    def counted(self: Parser, *args: Any, **kwargs: Any) -> Any:
        seen[0] += 1
        return parse(self, *args, **kwargs)

    monkeypatch.setattr(Parser, "parse", counted)
    forget_parsed()
    yield lambda: seen[0]
    forget_parsed()


def render_parses(parses: Callable[[], int], rows: int) -> int:
    text = program_page(rows)
    before = parses()
    new = render_program_page(text, all_changed(rows))
    assert new != text
    return parses() - before


def test_a_render_parses_the_page_once_whatever_its_rows(parses: Callable[[], int]) -> None:
    assert render_parses(parses, 10) == render_parses(parses, 1000) == 1


def test_every_figure_is_written_by_that_one_render(parses: Callable[[], int]) -> None:
    rows = 1000
    new = render_program_page(program_page(rows), all_changed(rows))
    written = {row.position: dict(row.stats) for row in parse_program_page(new).rows}
    assert written == all_changed(rows).row_stats
    assert current_outcomes_param(new, "participants") == "9"


def refresh_parses(parses: Callable[[], int], rows: int) -> int:
    """What a refresh does with the page's text: read it, then render it."""
    text = program_page(rows)
    forget_parsed()
    before = parses()
    program = parse_program_page(text)
    fmt = detect_format(text)
    assert current_outcomes_param(text, "computed", fmt) == "2026-11-20T00:00:00Z"
    read_outcome_rows(text, fmt)
    render_program_page(text, all_changed(len(program.rows)), fmt)
    return parses() - before


def test_a_refresh_reads_and_renders_through_one_parse(parses: Callable[[], int]) -> None:
    # The render takes over the tree the readers parsed.
    assert refresh_parses(parses, 10) == refresh_parses(parses, 1000) == 1


def test_the_outcomes_block_is_found_once_for_all_its_parameters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Finding the block walks every row before it: a refresh that keeps the page's extra
    # figures reads them all from one walk.
    import bot.core.program_page as program_page_module

    text = program_page(1000).replace("|participants=0", "|participants=0|pageviews=12")
    walks: list[str] = []
    first_values = program_page_module.first_values

    def counted(code: Any, key: str, fmt: Any) -> Any:
        walks.append(key)
        return first_values(code, key, fmt)

    monkeypatch.setattr(program_page_module, "first_values", counted)
    values = current_outcomes_params(text)
    assert walks == ["Program outcomes"]
    assert values == {"computed": "2026-11-20T00:00:00Z", "participants": "0", "pageviews": "12"}
    assert {name: current_outcomes_param(text, name) for name in values} == values
    assert current_outcomes_params(program_page(3).replace(OLD_BLOCK, "")) is None


# -- the bytes a render writes --------------------------------------------------------------

PAGE = """Intro with '''bold''' and a [[link|link]].
{{Program details
|name=Demo
|start=2026-11-01
|end=2026-11-30
|wikis=en.wikipedia.org
}}
<!-- a note -->
== Participants ==
{{Participants table}}
{{Participant table row|username=Alice|joined=2026-11-01|edits=3}}
{{Participant table row | username = Bob | joined = 2026-11-02 }}
{{Participant table row
 | username = Carol
 | edits = 1 <!-- by hand -->
 | uploads =
}}
{{Participant table row|username=Dave|edits=<!-- the bot fills this -->|mood=happy}}
{{Participant table row|username=Eve|edits= 2 |articles_edited=1}}
{{End of participants table}}

Prose in between.

{{Program outcomes|computed=2026-11-20T00:00:00Z}}
{{Program notice|message=old}}
{{End of program outcomes}}
Closing prose. <!-- a comment never closed hides the rest
{{Participant table row|username=Hidden}}
"""
#: Bob's bytes_added holds markup (a character reference), which is parsed as before.
UPDATE = PageUpdate(
    {
        0: dict(zip(ROW_STATS, ("5", "2", "0", "1200", "1"), strict=True)),
        1: dict(zip(ROW_STATS, ("4", "1", "1", "&#49;", "0"), strict=True)),
        2: {"edits": "4", "uploads": "2", "bytes_added": "15"},
        3: {"edits": "7", "articles_edited": "3"},
        4: {"edits": "", "articles_edited": "1"},
    },
    NEW_BLOCK,
)
#: Written by the render that parsed every value it wrote (mwparserfromhell's
#: Template.add and Parameter.value): the render that does not must write the same bytes.
EXPECTED = """Intro with '''bold''' and a [[link|link]].
{{Program details
|name=Demo
|start=2026-11-01
|end=2026-11-30
|wikis=en.wikipedia.org
}}
<!-- a note -->
== Participants ==
{{Participants table}}
{{Participant table row|username=Alice|joined=2026-11-01|edits=5|articles_edited=2\
|articles_created=0|bytes_added=1200|uploads=1}}
{{Participant table row | username = Bob | joined = 2026-11-02 | edits = 4 \
| articles_edited = 1 | articles_created = 1 | bytes_added = &#49; | uploads = 0 }}
{{Participant table row
 | username = Carol
 | edits = 4 <!-- by hand -->
 | uploads =
2| bytes_added = 15
 }}
{{Participant table row|username=Dave|edits=7<!-- the bot fills this -->|mood=happy\
|articles_edited=3}}
{{Participant table row|username=Eve|edits=  |articles_edited=1}}
{{End of participants table}}

Prose in between.

{{Program outcomes|computed=2026-11-21T00:00:00Z|participants=9}}
{{End of program outcomes}}
Closing prose. <!-- a comment never closed hides the rest
{{Participant table row|username=Hidden}}
"""


def test_the_render_writes_the_same_bytes_as_parsing_every_value() -> None:
    assert render_program_page(PAGE, UPDATE) == EXPECTED
    # Written again, the same figures change nothing.
    assert render_program_page(EXPECTED, UPDATE) == EXPECTED
