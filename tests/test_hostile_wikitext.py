"""Hostile wikitext (issue 7, part 3): generated program pages and crafted usernames.

Pure properties, with hypothesis: reading any page either works or raises the documented
NotAProgramError; rendering new figures changes no byte outside what the bot owns (the
statistics fields of rows and the outcomes block), checked by an independent mask rather
than by the code under test; every row template that shows on the page is either read or
reported; a table of 10,000 rows; odd Unicode keeps its bytes; usernames crafted to inject
wikitext (``=``, ``''``, ``~~~~``, ``__NOTOC__``, entities, ...) are written inertly and read
back as themselves. The wiki tests save generated pages and crafted accounts on the real
local MediaWiki and check what the bot's edits did there, in the revisions the wiki stored.

Every test adds what it tried and the harm it measured to the reliability tally.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.errors import BadUsernameError, NotAProgramError
from bot.core.markers import add_marker, marker_text, remove_marker
from bot.core.model import Notice, ProgramPage
from bot.core.program_page import PageUpdate, parse_program_page, render_program_page
from bot.core.rows import add_rows, remove_rows, row_text
from bot.core.wikitext import inert_text, plain_text
from reliability import TALLY, scaled

pytestmark = pytest.mark.reliability

MARKER = "Participant editor"
STATS = ("edits", "articles_edited", "articles_created", "bytes_added", "uploads")
ROW_NOTICES = frozenset(
    {"row-outside-table", "row-without-username", "duplicate-user", "nested-row", "unreadable-row"}
)
SETTINGS = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}

# -- measuring: what was tried and the harm found, for the reliability tally --------------


@dataclass
class Measure:
    """Counts of one test. Harm is counted for the first failing example only: hypothesis
    then shrinks it, and each shrinking step would count the same harm again."""

    kind: str = "wikitext"
    tried: int = 0
    overwritten: int = 0
    garbage: int = 0
    failed: bool = False

    def harm(self, *, overwritten: int = 0, garbage: int = 0) -> None:
        if not self.failed:
            self.overwritten += overwritten
            self.garbage += garbage
        self.failed = self.failed or bool(overwritten or garbage)


@pytest.fixture
def measure() -> Iterator[Measure]:
    counts = Measure()
    yield counts
    TALLY.add("hostile inputs tried", counts.tried, kind=counts.kind)
    TALLY.add("overwritten organizer edits", counts.overwritten)
    TALLY.add("garbage or partial pages", counts.garbage)


# -- the independent oracle: what the bot may change, found by a plain scan ---------------

#: A statistics parameter of any template, as far as a plain scan sees it: the generators
#: below write statistics values without braces or pipes, so this finds them all.
OWNED_PARAM = re.compile(
    r"\|[ \t\n]*(?:" + "|".join(STATS) + r")[ \t\n]*=[^|{}]*",
)
COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
#: What MediaWiki does not show as wikitext: comments (an unclosed one to the end),
#: <nowiki> and <pre> with their closing tags.
HIDDEN = re.compile(
    r"<!--.*?(?:-->|\Z)|<(nowiki|pre)(?:\s[^>]*)?>.*?</\1\s*>",
    re.DOTALL | re.IGNORECASE,
)
#: A row template call as written (two braces or more), whether it parses or not.
ROW_CALL = re.compile(r"\{\{+\s*(?:Template\s*:\s*)?Participant[ _]+table[ _]+row\s*(?=[|}\n]|\Z)")


def masked(text: str) -> str:
    """The page without any statistics parameter: what must not change."""
    return OWNED_PARAM.sub("", text)


def comments(text: str) -> Counter[str]:
    return Counter(COMMENT.findall(text))


def shown_row_calls(text: str) -> int:
    return len(ROW_CALL.findall(HIDDEN.sub("", text)))


def without_block(
    old: str, new: str, old_block: str | None, new_block: str
) -> list[tuple[str, str]]:
    """(old, new) pairs that must be equal once masked, one per way the block may go: the
    old block replaced in place, or the new one inserted (with its blank line) anywhere,
    the old one kept or taken away (moved, away from a tag that is never closed)."""
    cut = "\x00block\x00"
    inserted = new.replace("\n\n" + new_block, "", 1)
    pairs = [(old, inserted)]
    if old_block is not None:
        pairs.append((old.replace(old_block, cut, 1), new.replace(new_block, cut, 1)))
        pairs.append((old.replace(old_block, "", 1), inserted))
    return pairs


#: What the bot adds to close a participants table that is never closed.
TABLE_CLOSED = "\n{{End of participants table}}"


def unclosed(new: str, old: str) -> list[str]:
    """``new``, and when it has one end of the table more than ``old``, ``new`` without
    each of its ends in turn: the one the bot added to close the table is among them."""
    found = [new]
    if new.count(TABLE_CLOSED) == old.count(TABLE_CLOSED) + 1:
        at = -1
        while (at := new.find(TABLE_CLOSED, at + 1)) >= 0:
            found.append(new[:at] + new[at + len(TABLE_CLOSED) :])
    return found


def owned_only(old: str, new: str, old_block: str | None, new_block: str) -> bool:
    """Whether ``new`` differs from ``old`` only in statistics parameters and the block
    (and, for a table that was never closed, one end of the table added)."""
    if new.count(new_block) != 1:
        return False
    return any(
        masked(a) == masked(b) and comments(a) == comments(b)
        for candidate in unclosed(new, old)
        for a, b in without_block(old, candidate, old_block, new_block)
    )


# -- generators ----------------------------------------------------------------------------

ODD_UNICODE = [
    "مرحبا",
    "שלום",
    "\u200f",  # right-to-left mark
    "\u200e",
    "\u202e",  # right-to-left override
    "\u2067",
    "e\u0301",  # not NFC
    "A\u030a",
    "\u212b",  # angstrom sign: NFC makes it Å
    "\u1e9b\u0323",
    "\u200d",  # zero-width joiner
    "\u200c",
    "👩\u200d🔬",
    "🏳️\u200d🌈",
    "\ufeff",
    "\u00a0",
    "\u3000",
    "\ufb01",
    "\x0b",
    "\x1f",
    "\x7f",
    "\x85",
    "\u2028",
    "\U0001d400",
    "i\u0307",
    "ß",
    "\u01c5",
]
MARKUP = [
    "{{",
    "}}",
    "{",
    "}",
    "{{{",
    "}}}",
    "[[",
    "]]",
    "[",
    "]",
    "|",
    "||",
    "=",
    "==",
    "''",
    "'''",
    "'''''",
    "~~~",
    "~~~~",
    "~~~~~",
    "__NOTOC__",
    "----",
    "\n",
    "\n*",
    "\n#",
    "\n:",
    "\n;",
    "\n{|",
    "\n|-",
    "\n|}",
    "\n!",
    "<!--",
    "-->",
    "<!-- a note -->",
    "<nowiki>",
    "</nowiki>",
    "<nowiki/>",
    "<pre>",
    "</pre>",
    "<div>",
    "</div>",
    "<ref>",
    "</ref>",
    '<span title="{{Other}}">',
    "&amp;",
    "&lt;",
    "&#61;",
    "&#x7e;",
    "&bogus;",
    "&#99999999999;",
    "&",
    "== Heading ==",
    "{{!}}",
    "{{Other}}",
    "{{Other|x=",
    "{{Other|",
    "[[Link|",
    "[[File:X.png|thumb|{{Other}}]]",
    "[http://example.org x]",
]
PROGRAM_BITS = [
    "{{Participant table row|username=Broken",
    "{{Participant table row|username=One brace}",
    "{{{Participant table row|username=Three}}}",
    "{{Participant table row|username=Whole}}",
    "{{Participant table row}}",
    "{{Participants table}}",
    "{{Participants table|caption=x}}",
    "{{End of participants table}}",
    "{{End of participants table",
    "{{Participants table",
    "{{Program details",
    "{{Program details|start=2026-01-01}}",
    "<!-- {{Participant table row|username=Commented}} -->",
    "<nowiki>{{Participant table row|username=Nowiki}}</nowiki>",
    "<pre>{{Participant table row|username=Pre}}</pre>",
    "<div>{{Participant table row|username=In div}}</div>",
    "{{Other|{{Participant table row|username=In template}}}}",
]
PLAIN = "abcxyz ABC 0123 .,;:!?-()é中"

plain_bits = st.text(alphabet=PLAIN, max_size=8)
unicode_bits = st.sampled_from(ODD_UNICODE)
prose = st.lists(
    st.one_of(plain_bits, unicode_bits, st.sampled_from(MARKUP), st.sampled_from(PROGRAM_BITS)),
    max_size=6,
).map("".join)
#: Text for places that must stay one value (no braces, pipes or line breaks).
value_text = st.lists(
    st.one_of(plain_bits, unicode_bits, st.sampled_from(["''", "~~~~", "&amp;", "=", "[[x]]"])),
    max_size=4,
).map(lambda s: re.sub(r"[{}|\n<>]", "", "".join(s)))

ORGANIZER_NAMES = [
    "Alice",
    "bob_x",
    "Zoë",
    "مستخدم",
    "שרה כהן",
    "e\u0301mile",
    "A=B",
    "O''Brien",
    "Tom &amp; Jerry",
    "<nowiki>Sig~~~~</nowiki>",
    "  spaced   name ",
    "",
    "\u200fRtl mark",
    "👩\u200d🔬 Scientist",
]
organizer_names = st.one_of(st.sampled_from(ORGANIZER_NAMES), value_text)
stat_values = st.one_of(
    st.integers(0, 10**6).map(str),
    st.sampled_from(["", " 7 ", "3 <!-- by hand -->", "<!-- the bot fills this -->", "x"]),
)
numbers = st.one_of(st.integers(0, 10**7).map(str), st.just(""))


@st.composite
def rows(draw: st.DrawFn, names: st.SearchStrategy[str] = organizer_names) -> str:
    """A real row, as organizers write them: any order, any spacing, stray parameters."""
    sep = draw(st.sampled_from(["|", " | ", "\n|", "\n| "]))
    eq = draw(st.sampled_from(["=", " = "]))
    params = [("username", draw(names))]
    if draw(st.booleans()):
        params.append(("joined", draw(st.sampled_from(["2026-11-01", "", "soon", "1 <!--x-->"]))))
    for stat in draw(st.lists(st.sampled_from(STATS), unique=True, max_size=5)):
        params.append((stat, draw(stat_values)))
    if draw(st.integers(0, 9)) == 0:
        params.append(("mood", "happy"))
    order = draw(st.permutations(params))
    end = draw(st.sampled_from(["}}", "\n}}", " }}"]))
    return "{{Participant table row" + "".join(sep + k + eq + v for k, v in order) + end


DETAILS_EXTRAS = [
    "",
    "\n|category_depth=\u00b2",
    "\n|category_depth=" + "9" * 5000,
    "\n|colour=blue",
    "\n|count_facilitators=perhaps",
    "\n|registration=maybe",
    "\n|organizer=O''Brien &amp; co",
    "\n|facilitators=A&#44;B, <nowiki>C</nowiki>",
]


@st.composite
def details(draw: st.DrawFn) -> str:
    start = draw(
        st.sampled_from(
            [
                "2026-11-01",
                "2026-13-01",
                "",
                "\u0662\u0660\u0662\u0666-\u0661\u0661-\u0660\u0661",
                "1 Nov",
            ]
        )
    )
    return (
        "{{Program details\n|name="
        + draw(value_text)
        + f"\n|start={start}\n|end=2026-11-30\n|wikis=en.wikipedia.org"
        + draw(st.sampled_from(DETAILS_EXTRAS))
        + "\n}}"
    )


OLD_BLOCKS = [
    "{{Program outcomes|computed=2020-01-01T00:00:00Z}}\n"
    "{{Program notice|message=old}}\n{{End of program outcomes}}",
    "{{Program outcomes|computed=2020-01-01T00:00:00Z}}\n{{Program outcomes row|wiki=total}}",
]
NEW_BLOCK = (
    "{{Program outcomes|computed=2030-01-01T00:00:00Z|sentence=''new''}}\n"
    "{{Program notice|message=<nowiki>~~~~ {{x}}</nowiki>}}\n{{End of program outcomes}}"
)


@dataclass(frozen=True)
class Page:
    text: str
    block: str | None


@st.composite
def pages(
    draw: st.DrawFn,
    names: st.SearchStrategy[str] = organizer_names,
    details_text: st.SearchStrategy[str] | None = None,
    junk: st.SearchStrategy[str] = prose,
) -> Page:
    """A program page with hostile text all around and inside its table."""
    parts = [draw(junk), draw(details() if details_text is None else details_text), draw(junk)]
    if draw(st.integers(0, 9)):
        parts.append("{{Participants table}}")
    parts += draw(st.lists(st.one_of(rows(names), junk), max_size=8))
    if draw(st.integers(0, 9)):
        parts.append("{{End of participants table}}")
    parts.append(draw(junk))
    block = draw(st.one_of(st.none(), st.sampled_from(OLD_BLOCKS)))
    if block is not None:
        parts.append(block)
    parts.append(draw(junk))
    glue = draw(st.sampled_from(["\n", "\n\n", ""]))
    return Page(glue.join(parts), block)


def read(text: str) -> ProgramPage | None:
    """The page as read; None when it is refused as documented (no program on it)."""
    try:
        return parse_program_page(text)
    except NotAProgramError:
        return None


# -- 1. reading never crashes ---------------------------------------------------------------

soup = st.lists(
    st.one_of(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20),
        st.sampled_from(MARKUP + PROGRAM_BITS + ODD_UNICODE),
        rows(),
        details(),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=scaled(400, 4000), **SETTINGS)
@given(st.one_of(soup, pages().map(lambda p: p.text)))
def test_any_text_is_read_or_refused_as_documented(measure: Measure, text: str) -> None:
    measure.tried += 1
    try:
        page = read(text)
        if page is None:
            return
        update = PageUpdate({r.position: dict.fromkeys(STATS, "1") for r in page.rows}, NEW_BLOCK)
        new = render_program_page(text, update)
        stable = render_program_page(new, update) == new
        reread = read(new)
    except Exception:  # anything but the documented NotAProgramError is a crash
        measure.harm(garbage=1)
        raise
    garbage = int(not stable) + int(reread is None)
    measure.harm(garbage=garbage)
    assert garbage == 0, f"{text!r}\n->\n{new!r}\n{stable} {reread}"


# -- 2. rendering changes only what the bot owns -----------------------------------------------


@settings(max_examples=scaled(300, 3000), **SETTINGS)
@given(pages(), st.data())
def test_rendering_changes_only_the_bots_bytes(
    measure: Measure, page: Page, data: st.DataObject
) -> None:
    measure.tried += 1
    program = read(page.text)
    if program is None:
        return
    figures = {row.position: {name: data.draw(numbers) for name in STATS} for row in program.rows}
    new = render_program_page(page.text, PageUpdate(figures, NEW_BLOCK))

    overwritten = int(not owned_only(page.text, new, page.block, NEW_BLOCK))
    reread = read(new)
    written = {} if reread is None else {r.position: dict(r.stats) for r in reread.rows}
    garbage = (
        int(reread is None)
        + int(render_program_page(new, PageUpdate(figures, NEW_BLOCK)) != new)
        + int(written != figures)
        + int(
            reread is not None
            and [r.username for r in reread.rows] != [r.username for r in program.rows]
        )
    )
    measure.harm(overwritten=overwritten, garbage=garbage)
    assert (overwritten, garbage) == (0, 0), f"{page.text!r}\n->\n{new!r}\n{figures} {written}"


# -- 3. every row on the page is read or reported ----------------------------------------------


def row_outcomes(page: ProgramPage) -> int:
    return len(page.rows) + sum(1 for n in page.notices if n.key in ROW_NOTICES)


@settings(max_examples=scaled(300, 3000), **SETTINGS)
@given(pages())
def test_every_row_that_shows_is_read_or_reported(measure: Measure, page: Page) -> None:
    measure.tried += 1
    program = read(page.text)
    if program is None:
        return
    shown = shown_row_calls(page.text)
    silently_dropped = max(0, shown - row_outcomes(program))
    measure.harm(garbage=silently_dropped)
    assert row_outcomes(program) == shown, f"{page.text!r}\n{program.rows}\n{program.notices}"


DETAILS = "{{Program details\n|start=2026-11-01\n|end=2026-11-30\n|wikis=en.wikipedia.org\n}}\n"
TABLE = (
    "{{Participants table}}\n{{Participant table row|username=Alice|edits=1}}\n%s\n"
    "{{End of participants table}}\n"
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (TABLE % "{{Participant table row|username=Broken", Notice("unreadable-row", ("Broken",))),
        (TABLE % "{{Participant table row|username=Brace}", Notice("unreadable-row", ("Brace",))),
        (TABLE % "{{{Participant table row|username=Tri}}}", Notice("unreadable-row", ("Tri",))),
        (
            TABLE % "{{Participant table row|username=Swallow|edits=1\nMy notes.\n}}",
            Notice("unreadable-row", ("Swallow",)),
        ),
        (
            TABLE % "{{Participant table row|username=X|mood=ok}}",
            Notice("unknown-parameter", ("mood", "{{Participant table row}}")),
        ),
        (
            TABLE.replace("{{End of participants table}}\n", ""),
            Notice("no-table-end", ("{{End of participants table}}",)),
        ),
        (TABLE % "{{Participants table}}", Notice("several-details", ("{{Participants table}}",))),
        (
            "{{Participants table|caption=x}}\n{{End of participants table}}",
            Notice("unknown-parameter", ("caption", "{{Participants table}}")),
        ),
        (
            TABLE % "<div>{{Participant table row|username=Deep}}</div>",
            Notice("nested-row", ("Deep",)),
        ),
        ("[[A|{{Participant table row|username=Link]]", Notice("unreadable-row", ("Link",))),
        ("|category_depth=\u00b2", Notice("bad-category-depth", ("\u00b2", "5"))),
    ],
)
def test_what_cannot_be_read_is_reported(body: str, expected: Notice) -> None:
    text = DETAILS.replace("\n}}", body + "\n}}") if body.startswith("|") else DETAILS + body
    assert expected in parse_program_page(text).notices


def test_an_unclosed_comment_hides_the_rest_of_the_page_as_in_mediawiki() -> None:
    text = DETAILS + TABLE % "<!-- old rows:\n{{Participant table row|username=Hidden}}"
    page = parse_program_page(text)
    assert [r.username for r in page.rows] == ["Alice"]
    assert Notice("no-table-end", ("{{End of participants table}}",)) in page.notices
    new = render_program_page(text, PageUpdate({0: {"edits": "5"}}, NEW_BLOCK))
    # The block goes before the comment, where it shows; the comment is left alone, and
    # a second refresh finds the block instead of adding another.
    assert new.endswith("\n\n" + NEW_BLOCK + "<!-- old rows:" + text.split("<!-- old rows:")[1])
    assert render_program_page(new, PageUpdate({0: {"edits": "5"}}, NEW_BLOCK)) == new
    with pytest.raises(NotAProgramError, match="never closed"):
        parse_program_page("<!-- " + DETAILS)
    with pytest.raises(NotAProgramError, match="not closed"):
        parse_program_page("{{Program details|start=2026-11-01\n")


def test_a_statistic_keeps_the_organizers_comment() -> None:
    text = DETAILS + TABLE % ""
    text = text.replace("|edits=1}}", "|edits= 1 <!-- counted by hand -->}}")
    new = render_program_page(text, PageUpdate({0: {"edits": "7"}}, NEW_BLOCK))
    assert "|edits= 7 <!-- counted by hand -->}}" in new


@pytest.mark.parametrize(
    "where",
    ["{{End of participants table}}\n", "{{Participant table row|username=Alice|edits=1}}\n"],
)
def test_the_block_never_follows_a_tag_that_is_never_closed(where: str) -> None:
    # The block's own </nowiki> (in its notices) would close an organizer's <nowiki> left
    # open before it, and everything in between would become plain text.
    text = (DETAILS + TABLE % "").replace(where, where + "Notes <nowiki> left open\n")
    update = PageUpdate({0: {"edits": "5"}}, NEW_BLOCK)
    new = render_program_page(text, update)
    assert new.replace("\n\n" + NEW_BLOCK, "", 1) == text.replace("|edits=1}}", "|edits=5}}")
    assert new.index(NEW_BLOCK) < new.index("<nowiki> left open")
    assert render_program_page(new, update) == new
    assert [r.username for r in parse_program_page(new).rows] == ["Alice"]


def test_an_unclosed_includeonly_hides_the_rest_as_in_mediawiki() -> None:
    text = DETAILS + TABLE % "<includeonly>\n{{Participant table row|username=Hidden}}"
    assert [r.username for r in parse_program_page(text).rows] == ["Alice"]


def test_markers_on_user_pages_are_inert_too() -> None:
    program = "Project:Meetup ~~~~ ''x'' a=b"
    marker = marker_text(MARKER, program)
    assert "~~~" not in marker and "''" not in marker and "a=b" not in marker
    page = add_marker("My page.", MARKER, program)
    assert page is not None and add_marker(page, MARKER, program) is None
    assert remove_marker(page, MARKER, program) == "My page."


# -- 4. a table of 10,000 rows -------------------------------------------------------------------


def big_page(n: int) -> str:
    hostile = ["O''Brien", "A=B", "مستخدم", "e\u0301mile", "Tom &amp; Jerry"]
    lines = []
    for i in range(n):
        name = f"{hostile[i % len(hostile)]} {i}"
        lines.append(f"{{{{Participant table row|username={name}|joined=2026-11-01|edits={i}}}}}")
        if i % 1000 == 999:
            lines.append("<!-- a note every thousand rows --> ''prose'' ~~~~ [[Link|")
    return (
        "Intro ''prose''.\n"
        + DETAILS
        + "\n{{Participants table}}\n"
        + "\n".join(lines)
        + "\n{{End of participants table}}\n\nOutro.\n"
    )


def test_a_table_of_10000_rows(measure: Measure) -> None:
    text = big_page(10_000)
    started = time.perf_counter()
    program = parse_program_page(text)
    parsed = time.perf_counter()
    figures = {r.position: {"edits": str(r.position * 2), "uploads": "1"} for r in program.rows}
    new = render_program_page(text, PageUpdate(figures, NEW_BLOCK))
    rendered = time.perf_counter()
    print(
        f"\n10,000 rows ({len(text) / 1e6:.2f} MB): parse {parsed - started:.2f} s, "
        f"render {rendered - parsed:.2f} s"
    )
    measure.tried += 1
    reread = parse_program_page(new)
    overwritten = int(not owned_only(text, new, None, NEW_BLOCK))
    garbage = int(len(reread.rows) != 10_000) + int(
        [dict(r.stats)["edits"] for r in reread.rows]
        != [figures[p]["edits"] for p in range(10_000)]
    )
    measure.harm(overwritten=overwritten, garbage=garbage)
    assert (overwritten, garbage) == (0, 0)
    assert reread.rows[4].username == "Tom & Jerry 4"


# -- 5. odd Unicode keeps its bytes; names read as MediaWiki stores them -----------------------

unicode_prose = st.lists(st.one_of(unicode_bits, plain_bits), max_size=8).map("".join)
unicode_names = st.lists(st.one_of(unicode_bits, plain_bits), min_size=1, max_size=5).map(
    lambda s: re.sub(r"[{}|\n<>#\[\]]", "", "".join(s))
)


def mediawiki_name(name: str) -> str:
    """How MediaWiki stores a username (the test's own version of the rule): NFC, without
    directional marks, spaces and underscores collapsed, first letter upper case."""
    name = unicodedata.normalize("NFC", name)
    name = re.sub("[\u200e\u200f\u202a-\u202e]", "", name)
    name = re.sub("[ _\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+", " ", name)
    name = " ".join(name.split()).strip()
    return unicodedata.normalize("NFC", name[:1].upper() + name[1:])


@settings(max_examples=scaled(200, 2000), **SETTINGS)
@given(pages(names=unicode_names, junk=unicode_prose), st.data())
def test_odd_unicode_keeps_its_bytes(measure: Measure, page: Page, data: st.DataObject) -> None:
    measure.tried += 1
    program = read(page.text)
    assert program is not None
    figures = {r.position: {"edits": data.draw(numbers)} for r in program.rows}
    new = render_program_page(page.text, PageUpdate(figures, NEW_BLOCK))
    # Not NFC, right-to-left marks and joiners stay exactly as the organizer wrote them.
    overwritten = int(not owned_only(page.text, new, page.block, NEW_BLOCK))
    garbage = sum(1 for r in program.rows if r.username != unicodedata.normalize("NFC", r.username))
    measure.harm(overwritten=overwritten, garbage=garbage)
    assert (overwritten, garbage) == (0, 0)


# -- 6. crafted usernames: written inertly, read back as themselves ---------------------------

CRAFTED = [
    "A~~~~B",
    "~~~",
    "~~~~~",
    "X=Y",
    "1=Alice",
    "O''Brien",
    "'''Bold'''",
    "''''",
    "__NOTOC__",
    "Tom &amp; Jerry",
    "&lt;b&gt;",
    "&#61;",
    "AT&T",
    "Semi;colon",
    "----",
    "*Star",
    ":Colon",
    ";Semi",
    "!Bang",
    '"Quoted"',
    "مرحبا بالعالم",
    "שלום עולם",
    "\u200fMarked",
    "e\u0301mile",
    "Zero\u200dWidth",
    "👩\u200d🔬",
    "ISBN 0306406152",
    "L" * 300,
    "a_b__c",
    "ǅemal",
    "ßtraße",
]
FORBIDDEN_NAMES = ["A|B", "{{evil}}", "X]]", "[[X", "a\nb", "", "   ", "C#d", "<b>", "Bell\x07"]
crafted = st.one_of(
    st.sampled_from(CRAFTED),
    st.lists(
        st.one_of(
            st.sampled_from(
                ["~", "~~~~", "=", "'", "''", "&", "&amp;", "&#x41;", "_", "*", ":", ";"]
            ),
            st.sampled_from(["-", '"', "!", " "]),
            unicode_bits,
            plain_bits,
        ),
        min_size=1,
        max_size=8,
    ).map("".join),
)
WELL_FORMED = (
    "Intro ''text''.\n" + DETAILS + "{{Participants table}}\n"
    "{{Participant table row|username=Alice|joined=2026-11-01|edits=3}}\n"
    "{{End of participants table}}\nOutro ~~~~.\n"
)


def is_writable(name: str) -> bool:
    bad = set("{}|[]<>#\n\r")
    return bool(mediawiki_name(name)) and not (
        bad & set(name) or any(unicodedata.category(c) in ("Cc", "Cs") for c in name)
    )


def injection_free(row: str) -> list[str]:
    """What is wrong with a row written for a crafted name (the empty list: nothing)."""
    value = row.split("|username=", 1)[1].split("|joined=", 1)[0]
    problems = []
    for pattern, why in [
        (r"~~~", "a signature"),
        (r"=", "a named argument"),
        (r"''", "bold or italics"),
        (r"__", "a magic word"),
        (r'"', "a quote that ends an attribute"),
        (r"^[*#:;!-]", "line-start markup"),
        (r"[{}|\[\]<>\n]", "structure"),
    ]:
        if re.search(pattern, value):
            problems.append(why)
    return problems


def pure_insertion(old: str, new: str) -> str | None:
    """The text inserted into ``old`` to make ``new``, if that is all that happened."""
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < len(old) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    if prefix + suffix != len(old):
        return None
    return new[prefix : len(new) - suffix]


def check_crafted(name: str, page: str = WELL_FORMED) -> tuple[int, int]:
    """(overwritten, garbage) for adding, reading and removing a row for ``name``."""
    if mediawiki_name(name) == "Alice":  # already listed: nothing to add
        return 0, 0
    if not is_writable(name):
        with pytest.raises(BadUsernameError):
            add_rows(page, [(name, "2026-11-02")])
        return 0, 0
    new, added = add_rows(page, [(name, "2026-11-02")])
    expected = mediawiki_name(name)
    inserted = pure_insertion(page, new)
    overwritten = int(inserted is None)
    rows_read = [r.username for r in parse_program_page(new).rows]
    garbage = (
        int(added != [expected])
        + int(rows_read != ["Alice", expected])
        + len(injection_free(row_text(name, "2026-11-02")))
        + int(remove_rows(new, [name]) != (page, [expected]))
    )
    return overwritten, garbage


@pytest.mark.parametrize("name", CRAFTED + FORBIDDEN_NAMES)
def test_crafted_usernames(measure: Measure, name: str) -> None:
    measure.kind = "usernames"
    measure.tried += 1
    overwritten, garbage = check_crafted(name)
    measure.harm(overwritten=overwritten, garbage=garbage)
    assert (overwritten, garbage) == (0, 0), (
        row_text(name, "2026-11-02") if is_writable(name) else name
    )


@settings(max_examples=scaled(300, 3000), **SETTINGS)
@given(crafted, st.sampled_from(["", "\n", "x{", "<!-- c -->", "''", "\n*"]))
def test_crafted_usernames_generated(measure: Measure, name: str, before_end: str) -> None:
    measure.kind = "usernames"
    measure.tried += 1
    page = WELL_FORMED.replace("{{End of", before_end + "{{End of")
    overwritten, garbage = check_crafted(name, page)
    measure.harm(overwritten=overwritten, garbage=garbage)
    assert (overwritten, garbage) == (0, 0)


@settings(max_examples=scaled(200, 2000), **SETTINGS)
@given(pages(), crafted)
def test_joins_on_hostile_pages_only_add_a_row_that_reads_back(
    measure: Measure, page: Page, name: str
) -> None:
    measure.tried += 1
    if not is_writable(name):
        return
    try:
        new, added = add_rows(page.text, [(name, "2026-11-02")])
    except NotAProgramError:
        return
    inserted = pure_insertion(page.text, new)
    overwritten = int(inserted is None or (not added and new != page.text))
    garbage = 0
    if added and read(page.text) is not None:
        reread = read(new)
        garbage += int(reread is None or added[0] not in [r.username for r in reread.rows])
    # Leaving takes the row away again (a table the join made for it stays).
    left, removed = remove_rows(new, added)
    overwritten += int(pure_insertion(page.text, left) is None)
    garbage += int(removed != added)
    measure.harm(overwritten=overwritten, garbage=garbage)
    assert (overwritten, garbage) == (0, 0), f"{page.text!r}\n->\n{new!r}"


@settings(max_examples=scaled(300, 3000), **SETTINGS)
@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=30))
def test_inert_text_reads_back_as_itself(measure: Measure, value: str) -> None:
    measure.kind = "usernames"
    measure.tried += 1
    written = inert_text(value)
    garbage = int(plain_text(written) != value) + int(
        bool(re.search(r"~~~|''|__|[={}|\[\]<>\"]|^[*#:;!-]", written))
    )
    measure.harm(garbage=garbage)
    assert garbage == 0, written


# -- wiki: generated pages and crafted accounts on the real MediaWiki ----------------------------

wiki = pytest.mark.wiki
TEMPLATES = Path(__file__).resolve().parents[1] / "wikitemplates" / "templates"
TITLE = "Project:Hostile program"


def wiki_details(host: str) -> str:
    today = datetime.now(UTC).date()
    return (
        "{{Program details\n|name=Hostile ''program''\n|organizer=Admin\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={host}\n}}}}"
    )


def drawn_pages(host: str, count: int, seed: int) -> list[str]:
    """``count`` generated pages, the same ones every run (a fixed seed)."""
    found: list[str] = []
    names = st.one_of(st.sampled_from(["Alice", "Bob", "Carol", "Nobody here"]), organizer_names)

    @settings(max_examples=count * 10, derandomize=True, database=None, **SETTINGS)
    @given(pages(names=names, details_text=st.just(wiki_details(host))))
    def collect(page: Page) -> None:
        if page.block is None and len(page.text) > 200:  # the first examples are tiny
            found.append(page.text)

    collect()
    random.Random(seed).shuffle(found)
    return found[:count]


BOT_BLOCK = re.compile(
    r"(?:\n\n)?\{\{Program outcomes\|computed=\d{4}-\d\d-\d\dT.*?\{\{End of program outcomes\}\}",
    re.DOTALL,
)


def bot_edit_harm(before: str, after: str) -> tuple[int, int]:
    """(overwritten, garbage) of one bot edit, from the two revisions the wiki stored."""
    blocks = BOT_BLOCK.findall(after)
    if len(blocks) != 1:
        return 0, 1
    rest = after.replace(blocks[0], "", 1)
    overwritten = int(
        not any(
            masked(before) == masked(candidate) and comments(before) == comments(candidate)
            for candidate in unclosed(rest, before)
        )
    )
    reread = read(after)
    garbage = int(reread is None)
    if reread is not None:
        old = read(before)
        garbage += int(
            old is None or [r.username for r in old.rows] != [r.username for r in reread.rows]
        )
    return overwritten, garbage


@pytest.fixture
def refresher(wikis: Any, tmp_path: Path) -> Callable[[str], Any]:
    pywikibot = pytest.importorskip("pywikibot")
    from bot.jobs.refresh import Refresher
    from bot.store import Store

    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    site = pywikibot.Site(wikis.content.name, wikis.content.name)

    def run(title: str) -> Any:
        return Refresher(store).refresh(pywikibot.Page(site, title))

    return run


def revision_texts(wikis: Any, title: str) -> list[str]:
    """Every revision's text, oldest first, as the wiki stored it."""
    body = wikis.content.admin_client().get(
        {
            "action": "query",
            "prop": "revisions",
            "titles": title,
            "rvprop": "content",
            "rvslots": "main",
            "rvlimit": "50",
            "rvdir": "newer",
        }
    )
    return [r["slots"]["main"]["content"] for r in body["query"]["pages"][0]["revisions"]]


@wiki
def test_generated_pages_refreshed_on_the_wiki(
    wikis: Any, measure: Measure, refresher: Callable[[str], Any]
) -> None:
    admin = wikis.content.admin_client()
    participant = wikis.content.client("Alice")
    participant.edit("Hostile article", "Text.")
    texts = drawn_pages(wikis.content.host, scaled(10, 100), seed=7)
    for number, text in enumerate(texts):
        title = f"{TITLE} {number}"
        admin.edit(title, text)
        measure.tried += 1
        try:
            result = refresher(title)
        except NotAProgramError:  # documented: the page's details are not readable
            stored = revision_texts(wikis, title)
            garbage = int(len(stored) != 1) + int(read(stored[0]) is not None)
            measure.harm(garbage=garbage)
            assert garbage == 0, title
            continue
        stored = revision_texts(wikis, title)
        if result.saved_revid is None:
            # Nothing to write can only mean the page already had the bot's block.
            measure.harm(garbage=int(len(stored) != 1))
            continue
        before, after = stored[-2], stored[-1]
        overwritten, garbage = bot_edit_harm(before, after)
        # What the bot could not read is on the page: one notice row per notice.
        garbage += int(after.count("{{Program notice|message=") != len(result.notices))
        expected = {n.key for n in parse_program_page(before).notices}
        garbage += int(not expected <= {n.key for n in result.notices})
        measure.harm(overwritten=overwritten, garbage=garbage)
        assert (overwritten, garbage) == (0, 0), (title, before, after)


#: Accounts MediaWiki 1.39 lets exist although their names are wikitext: "=",
#: apostrophes, "&" and ";", leading list and rule characters, quotes, RTL text, combining
#: marks (saved as NFC), a name of 235 bytes. (No title holds "~~~": title-invalid-magic-tilde.)
WIKI_NAMES = [
    "Two~~Tildes",
    "Tilde~ ~~Spaced",
    "Eq=Name",
    "1=Alice",
    "O''Brien'''Bold",
    "Tom & Jerry;x",
    "----Dash",
    "*Star",
    ";Semi",
    "!Bang",
    '"Quoted" name',
    "مرحبا بالعالم",
    "שלום עולם",
    "Ame\u0301lie",
    "Emoji 🎉",
    "L" * 235,
]


class RenderedRows(HTMLParser):
    """From rendered HTML: each participant row's data-username, and the text of its link
    to the user page (with the title it links to)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._link: list[str] | None = None
        self._title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and "programs-bot-participant" in (found.get("class") or ""):
            self.names.append(found.get("data-username") or "")
        title = found.get("title") or ""
        # The first link to a user page in each participant row is the participant's.
        if tag == "a" and title.startswith("User:") and len(self.links) < len(self.names):
            self._link, self._title = [], title.removesuffix(" (page does not exist)")

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            self.links.append(("".join(self._link), self._title.removeprefix("User:")))
            self._link = None


def install_templates(wikis: Any) -> None:
    client = wikis.content.admin_client()
    for path in sorted(TEMPLATES.glob("*.wikitext")):
        client.edit(f"Template:{path.stem}", path.read_text(encoding="utf-8"))


@wiki
def test_crafted_accounts_join_on_the_wiki(
    wikis: Any, measure: Measure, tmp_path: Path, refresher: Callable[[str], Any]
) -> None:
    pywikibot = pytest.importorskip("pywikibot")
    from bot.jobs.joins import Worker
    from bot.store import JOIN, Store

    measure.kind = "usernames"
    names = [unicodedata.normalize("NFC", n) for n in WIKI_NAMES]
    wikis.content.create_users(names)
    install_templates(wikis)
    title = TITLE + " joins"
    text = "Intro.\n" + wiki_details(wikis.content.host) + "\n\n{{Participants table}}\n"
    wikis.content.admin_client().edit(title, text + "{{End of participants table}}\n\nOutro.")
    store = Store(f"sqlite:///{tmp_path / 'joins.sqlite'}")
    pywikibot.Site(wikis.content.name, wikis.content.name)
    now = datetime.now(UTC)
    for name in names:
        store.record_join(wikis.content.host, title, name, JOIN, now)
    Worker(store, worker_id="hostile").run_once()
    measure.tried += len(names)

    saved = wikis.content.admin_client().get_text(title) or ""
    read_back = [r.username for r in parse_program_page(saved).rows]
    wrong = sum(1 for a, b in zip(read_back, names, strict=False) if a != b) + abs(
        len(read_back) - len(names)
    )
    # Nothing was expanded on save: no signature, no link to the bot, no raw ~~~.
    injected = int("~~~" in saved) + int("ProgramsBot" in saved)
    # MediaWiki's own rendering shows each name exactly.
    body = requests.post(
        wikis.content.api_url,
        data={
            "action": "parse",
            "page": title,
            "prop": "text",
            "format": "json",
            "formatversion": "2",
        },
        timeout=60,
    ).json()
    rendered = RenderedRows()
    rendered.feed(body["parse"]["text"])
    shown = list(zip(rendered.names, rendered.links, strict=False))
    shown_wrong = sum(
        1
        for (a, (text, to)), b in zip(shown, names, strict=False)
        if b != a or b != text or b != to
    )
    shown_wrong += abs(len(shown) - len(names))
    # And the bot's refresh finds every one of them as an account of the wiki.
    result = refresher(title)
    unknown = [n for n in result.notices if n.key in ("unknown-user", "invalid-user")]
    garbage = wrong + injected + shown_wrong + len(unknown)
    measure.harm(garbage=garbage)
    assert (wrong, injected, shown_wrong, unknown) == (0, 0, 0, []), (saved, shown)


@wiki
def test_a_10000_row_page_on_the_wiki(
    wikis: Any, measure: Measure, refresher: Callable[[str], Any]
) -> None:
    text = big_page(10_000).replace(DETAILS, wiki_details(wikis.content.host) + "\n")
    admin = wikis.content.admin_client()
    started = time.perf_counter()
    admin.edit(TITLE + " big", text)
    saved_in = time.perf_counter() - started
    print(f"\nthe wiki saved the 10,000-row page ({len(text) / 1e6:.2f} MB) in {saved_in:.1f} s")
    started = time.perf_counter()
    result = refresher(TITLE + " big")
    print(f"the bot refreshed it in {time.perf_counter() - started:.1f} s")
    measure.tried += 1
    before, after = revision_texts(wikis, TITLE + " big")[-2:]
    overwritten, garbage = bot_edit_harm(before, after)
    garbage += int(result.saved_revid is None)
    measure.harm(overwritten=overwritten, garbage=garbage)
    assert (overwritten, garbage) == (0, 0)
