"""Program pages exactly as the Programs & Events Dashboard writes them
(WikiEduDashboard's lib/wiki_course_output.rb and config/templates/*.yml): read as they are,
counted on the real local wiki, and refreshed without changing a byte the Dashboard wrote."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.program_page import parse_program_page
from harness import Farm


def dashboard_page(
    start: str = "2024-03-01 00:00:00 UTC",
    end: str = "2024-03-31 23:59:59 UTC",
    rows: tuple[tuple[str, str], ...] = (
        ("Alice", "[[Marie Curie]]"),
        ("Bob", ""),
        ("Carol", ""),
    ),
) -> str:
    """A course page as the P&E Dashboard saves it (after MediaWiki's pre-save transform:
    its bare carriage returns are line feeds, and the end is trimmed)."""
    table = "".join(
        f"{{{{participant table row|{user}|{assigned}|}}}}\n" for user, assigned in rows
    )
    return (
        "{{program details\n"
        " | course_name = Women in Science Edit-a-thon\n"
        " | instructor_username = Admin\n"
        " | instructor_username_2 = Dave\n"
        " | support_staff = \n"
        " | subject = Women in science\n"
        f" | start_date = {start}\n"
        f" | end_date = {end}\n"
        " | institution = Example Museum\n"
        " | expected_students = 25\n"
        " | assignment_page = Project:Outreach_Dashboard/Example_Museum/WiS_(2024)\n"
        " | slug = Example_Museum/WiS_(2024)\n"
        " | campaigns = Miscellanea\n"
        " | outreachdashboard.wmflabs.org = yes\n"
        "}}\n\n"
        "A month-long online edit-a-thon to create and improve articles about women"
        " scientists.\n"
        "{{participants table}}\n" + table + "{{end of participants table}}"
    )


def test_a_dashboard_page_reads_as_the_dashboard_wrote_it() -> None:
    page = parse_program_page(dashboard_page())
    assert page.notices == ()
    details = page.details
    assert details.dashboard
    assert details.name == "Women in Science Edit-a-thon"
    assert details.organizer == "Admin"
    assert details.facilitators == ("Dave",)
    assert details.window is not None
    assert details.window.start == datetime(2024, 3, 1, tzinfo=UTC)
    assert details.window.end == datetime(2024, 3, 31, 23, 59, 59, tzinfo=UTC)
    assert details.wikis == ()  # the page's own wiki, filled in when counting
    assert [row.username for row in page.rows] == ["Alice", "Bob", "Carol"]


def test_the_older_layout_and_wiki_educations_names() -> None:
    text = (
        dashboard_page()
        .replace(" | instructor_username_2 = Dave\n", " | instructor_realname = Ada Admin\n")
        .replace("{{program details", "{{course details")
        .replace("{{participants table}}", "{{students table}}")
        .replace("{{participant table row|", "{{student table row|")
        .replace("{{end of participants table}}", "{{end of students table}}")
        .replace("outreachdashboard.wmflabs.org = yes", "dashboard.wikiedu.org = yes")
    )
    page = parse_program_page(text)
    assert page.notices == ()
    assert page.details.facilitators == ()
    assert [row.username for row in page.rows] == ["Alice", "Bob", "Carol"]


@pytest.mark.parametrize(
    ("details", "table", "row", "end"),
    [
        (
            "Nástěnka/Kurz",
            "Nástěnka/Seznam účastníků/Začátek tabulky",
            "Nástěnka/Seznam účastníků/Řádek tabulky",
            "Nástěnka/Seznam účastníků/Konec tabulky",
        ),
        (
            "detalhes de programa",
            "tabela de participantes",
            "linha da tabela do participante",
            "tabela final da mesa dos participantes",
        ),
        (
            "Detalhes de programa",
            "Tabela de participantes",
            "Linha da tabela do participante",
            "Fim da tabela de participantes",
        ),
    ],
)
def test_the_dashboards_translated_names(details: str, table: str, row: str, end: str) -> None:
    text = (
        dashboard_page()
        .replace("{{program details", "{{" + details)
        .replace("{{participants table}}", "{{" + table + "}}")
        .replace("{{participant table row|", "{{" + row + "|")
        .replace("{{end of participants table}}", "{{" + end + "}}")
    )
    page = parse_program_page(text)
    assert page.notices == ()
    assert [r.username for r in page.rows] == ["Alice", "Bob", "Carol"]


def test_rows_the_bot_cannot_read_get_a_notice() -> None:
    text = dashboard_page(rows=(("Alice", ""), ("", "[[Orphan article]]"))).replace(
        "{{participant table row|Alice||}}", "{{participant table row|Alice||"
    )
    keys = {notice.key for notice in parse_program_page(text).notices}
    assert {"unreadable-row", "row-without-username"} <= keys


# -- on the local wikis ----------------------------------------------------------------------

pywikibot = pytest.importorskip("pywikibot")

from bot.jobs.refresh import Refresher, RefreshResult  # noqa: E402
from bot.store import Store  # noqa: E402
from harness.dbcount import db_counts  # noqa: E402

TITLE = "Project:Outreach Dashboard/Example Museum/WiS (2024)"
_BOT_STATS = re.compile(r"\|(edits|articles_edited|articles_created|bytes_added|uploads)=[0-9]*")


def _without_the_bots_part(text: str) -> str:
    text = re.sub(
        r"\n*\{\{Program outcomes\|.*\{\{End of program outcomes\}\}", "", text, flags=re.S
    )
    return _BOT_STATS.sub("", text)


@pytest.fixture
def refresh(tmp_path: Path, wikis: Farm) -> Callable[..., RefreshResult]:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    site = pywikibot.Site(wikis.content.name, wikis.content.name)

    def run(**options: Any) -> RefreshResult:
        return Refresher(store).refresh(pywikibot.Page(site, TITLE), **options)

    return run


@pytest.mark.wiki
def test_a_dashboard_page_is_refreshed_and_keeps_every_byte_the_dashboard_wrote(
    wikis: Farm, participant: Callable[..., Any], refresh: Callable[..., RefreshResult]
) -> None:
    today = datetime.now(UTC).date()
    start = f"{(today - timedelta(days=1)).isoformat()} 00:00:00 UTC"
    end = f"{(today + timedelta(days=1)).isoformat()} 23:59:59 UTC"
    participant("Alice").edit("Marie Curie", "Marie Curie was a physicist and chemist.", "new")
    participant("Bob").edit("Lise Meitner", "Lise Meitner was a physicist.", "new")
    participant("Bob").edit("Marie Curie", "Marie Curie was a Polish physicist and chemist.", "x")
    participant("Carol", wiki=wikis.media).edit("Media page", "Not on the page's wiki.", "x")
    stored = dashboard_page(start, end)
    # As the Dashboard posts it: bare carriage returns after the details block, one at the end.
    raw = (
        stored.replace("}}\n\nA month", "}}\n\rA month")
        .replace("scientists.\n{{", "scientists.\r{{")
        .replace("}}\n{{", "}}\r{{")
        + "\r"
    )
    admin = participant("Admin")
    admin.edit(TITLE, raw, "Updating course from outreachdashboard.wmflabs.org")
    saved = admin.get_text(TITLE)
    assert saved == stored  # what the wiki keeps of the Dashboard's text

    result = refresh()

    text = admin.get_text(TITLE)
    assert text is not None and result.saved_revid is not None
    assert _without_the_bots_part(text) == stored  # byte for byte
    assert not [n for n in result.notices if n.key != "unknown-user"]
    assert result.outcomes is not None
    assert list(result.outcomes.per_wiki) == [wikis.content.host]  # the page's own wiki
    window = result.program.details.window if result.program else None
    assert window is not None
    rows = {row.username: dict(row.stats) for row in parse_program_page(text).rows}
    for name in ("Alice", "Bob", "Carol"):
        counts = db_counts(wikis.content, [name], window.start, window.end)
        assert rows[name]["edits"] == str(counts.edits), name
        assert rows[name]["articles_created"] == str(counts.articles_created), name
        assert rows[name]["bytes_added"] == str(counts.bytes_added), name
    assert rows["Carol"]["edits"] == "0"  # her edit is on another wiki
    assert "{{participant table row|Alice|[[Marie Curie]]||edits=1|" in text
