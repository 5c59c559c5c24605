"""A program page written entirely with German names is read and written in German."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.pageformat import page_format
from bot.core.program_page import PageUpdate, detect_format, parse_program_page, render_program_page
from bot.core.rows import add_rows
from harness import Farm

DE = page_format("de")


def german_page(host: str, start: str, end: str) -> str:
    return (
        "Einleitung der Organisatoren.\n"
        "{{Programmdetails\n|name=Schreibwettbewerb\n|organisator=Admin\n"
        f"|beginn={start}\n|ende={end}\n|wikis={host}\n|anmeldung=offen\n"
        "|betreuer_zaehlen=nein\n}}\n\n"
        "{{Teilnehmertabelle}}\n"
        "{{Teilnehmerzeile|benutzername=Alice|angemeldet=2026-11-01}}\n"
        "{{Teilnehmerzeile|benutzername=Niemand|angemeldet=2026-11-02}}\n"
        "{{Ende der Teilnehmertabelle}}\n\nSchluss.\n"
    )


def test_the_german_page_is_read_with_its_own_names() -> None:
    text = german_page("de.wikipedia.org", "2026-11-01", "2026-11-30")
    assert detect_format(text).lang == "de"
    page = parse_program_page(text)
    assert page.notices == ()
    assert page.details.name == "Schreibwettbewerb"
    assert page.details.registration == "open"  # "offen"
    assert page.details.count_facilitators is False  # "nein"
    assert [r.username for r in page.rows] == ["Alice", "Niemand"]


def test_figures_and_rows_are_written_with_german_names() -> None:
    text = german_page("de.wikipedia.org", "2026-11-01", "2026-11-30")
    new = render_program_page(text, PageUpdate({0: {"edits": "4", "uploads": "1"}}, "X"))
    assert "{{Teilnehmerzeile|benutzername=Alice|angemeldet=2026-11-01|bearbeitungen=4|" in new
    assert "dateien_hochgeladen=1}}" in new
    joined, added = add_rows(text, [("Bob", "2026-11-03")])
    assert added == ["Bob"]
    assert "{{Teilnehmerzeile|benutzername=Bob|angemeldet=2026-11-03}}\n{{Ende der" in joined


def test_an_unknown_german_parameter_is_named_in_the_notice() -> None:
    text = german_page("x.org", "2026-11-01", "2026-11-30").replace("|name=", "|farbe=blau\n|name=")
    notices = parse_program_page(text).notices
    assert [(n.key, n.params) for n in notices] == [
        ("unknown-parameter", ("farbe", "{{Programmdetails}}"))
    ]


pywikibot = pytest.importorskip("pywikibot")


@pytest.mark.wiki
def test_the_bot_refreshes_a_german_page_in_german(wikis: Farm, tmp_path: Path) -> None:
    from bot.core.program_page import current_outcomes_param, read_outcome_rows
    from bot.jobs.refresh import Refresher
    from bot.store import Store
    from harness.dbcount import db_counts
    from test_templates import parse

    wikis.content.client("Alice").edit("Ein Artikel", "Text.")
    today = datetime.now(UTC).date()
    start, end = str(today - timedelta(days=1)), str(today + timedelta(days=1))
    title = "Content Wiki:Schreibwettbewerb"
    wikis.content.admin_client().edit(title, german_page(wikis.content.host, start, end))
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    result = Refresher(Store(f"sqlite:///{tmp_path / 's.sqlite'}")).refresh(
        pywikibot.Page(site, title)
    )
    assert result.saved_revid is not None
    text = wikis.content.admin_client().get_text(title) or ""
    assert text.startswith("Einleitung der Organisatoren.\n{{Programmdetails\n")
    assert "{{Teilnehmerzeile|benutzername=Alice|angemeldet=2026-11-01|bearbeitungen=1|" in text
    assert "{{Programmergebnisse|berechnet=" in text
    assert "{{Programmergebniszeile|wiki=total|bearbeitungen=1|" in text
    assert "{{Programmhinweis|meldung=" in text  # Niemand has no account
    assert "{{Ende der Programmergebnisse}}" in text
    assert "Participant table row" not in text and "Program outcomes" not in text
    figures = read_outcome_rows(text)[wikis.content.host]
    counts = db_counts(
        wikis.content, ["Alice"], datetime.fromisoformat(start), datetime.fromisoformat(end)
    )
    assert figures["edits"] == str(counts.edits) == "1"
    assert figures["articles_created"] == str(counts.articles_created) == "1"

    # The bot's words are German too: the sentence names the program and the wiki (by its
    # site name), the notice and the edit summary in the page's history are German.
    assert figures["wiki_name"] == "Content Wiki"
    sentence = current_outcomes_param(text, "sentence") or ""
    assert sentence == (
        "1 {{PLURAL:1|Person hat|Personen haben}} an „Schreibwettbewerb“ teilgenommen."
        f" Während der Veranstaltung machte die Gruppe {counts.edits}"
        f" {{{{PLURAL:{counts.edits}|Bearbeitung|Bearbeitungen}}}} an {counts.articles_edited}"
        f" {{{{PLURAL:{counts.articles_edited}|Artikel|Artikeln}}}} in Content Wiki."
        f" Die Gruppe erstellte {counts.articles_created}"
        f" {{{{PLURAL:{counts.articles_created}|neuen Artikel|neue Artikel}}}} in Content Wiki."
    )
    shown = parse(wikis.content.api_url, title=title, text=sentence)["text"]
    assert (
        "1 Person hat an „Schreibwettbewerb“ teilgenommen. Während der Veranstaltung machte die"
        " Gruppe 1 Bearbeitung an 1 Artikel in Content Wiki. Die Gruppe erstellte 1 neuen"
        " Artikel in Content Wiki."
    ) in shown
    assert (
        "{{Programmhinweis|meldung=Benutzer „<nowiki>Niemand</nowiki>“ existiert in keinem"
        " der aufgeführten Wikis; die Zeile wird nicht gezählt.}}"
    ) in text
    history = wikis.content.admin_client().get(
        {"action": "query", "prop": "revisions", "titles": title, "rvprop": "ids|comment"}
    )
    revision = history["query"]["pages"][0]["revisions"][0]
    assert revision["revid"] == result.saved_revid
    assert revision["comment"] == (
        f"Bot: Programmstatistik aktualisiert (Teilnehmende: 1, Bearbeitungen: {counts.edits},"
        f" bearbeitete Artikel: {counts.articles_edited}, hochgeladene Dateien: 0)"
    )


@pytest.mark.wiki
def test_joins_to_a_german_page_have_a_german_summary(wikis: Farm, tmp_path: Path) -> None:
    from bot.jobs.joins import Worker
    from bot.store import JOIN, Store

    today = datetime.now(UTC).date()
    title = "Content Wiki:Schreibwettbewerb"
    admin = wikis.content.admin_client()
    admin.edit(title, german_page(wikis.content.host, str(today), str(today)))
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.record_join(wikis.content.host, title, "Bob", JOIN, datetime.now(UTC))
    pywikibot.Site(wikis.content.name, wikis.content.name)
    assert Worker(store, worker_id="test").run_once().applied == 1
    history = admin.get(
        {"action": "query", "prop": "revisions", "titles": title, "rvprop": "comment"}
    )
    comment = history["query"]["pages"][0]["revisions"][0]["comment"]
    assert comment == "[[User:Bob|Bob]] hinzugefügt (mit dem Teilnehmen-Knopf angemeldet)"
    assert "{{Teilnehmerzeile|benutzername=Bob|" in (admin.get_text(title) or "")
