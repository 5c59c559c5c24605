"""Translated templates (wikitemplates/templates/<lang>/) and their names (i18n/templates/).

The pure tests check that every language's mapping, template files, parameters and
TemplateData agree with each other and with the bot's page format, and that a translated
template keeps the CSS classes and ``data-`` attributes of the English one (the gadget
reads them).

The ``wiki`` tests save the German templates on the (English) content wiki under their
German ``Template:`` titles (``Vorlage:`` is only an alias on a German wiki), render the
German example page and the user-page, talk-page and timeline templates in both languages
with ``action=parse``, and check the HTML MediaWiki produced. One test also installs a
German-language wiki, where ``Vorlage:``, the local namespace and special page names and the
German number and date formats apply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from test_templates import (
    NOINCLUDE_RE,
    OTHER_TEMPLATES,
    TEMPLATEDATA_PARAM_KEYS,
    TEMPLATEDATA_RE,
    TEMPLATEDATA_ROOT_KEYS,
    TEMPLATEDATA_TYPES,
    TEMPLATES,
    Element,
    assert_no_errors,
    categories,
    html_tree,
    install_templates,
    parse,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = ROOT / "wikitemplates" / "templates"
I18N_DIR = ROOT / "i18n" / "templates"
GERMAN_EXAMPLE = ROOT / "wikitemplates" / "example-program.de.wikitext"
README = ROOT / "docs" / "page-format.md"

#: Every language with a mapping (qqq.json documents the mapping; it is not a language).
TRANSLATED = tuple(sorted(p.stem for p in I18N_DIR.glob("*.json") if p.stem not in {"en", "qqq"}))
LANGS = ("en", *TRANSLATED)
VALUES = ("open", "closed", "yes", "no", "total")
#: What a TemplateData description of a bot-owned parameter says, per language.
BOT_OWNED_PHRASE = {"en": "filled in by the bot", "de": "vom bot ausgefüllt"}

PARAM_RE = re.compile(r"\{\{\{([^{}|]+)[|}]")
CLASS_RE = re.compile(r'class="([^"]*)"')
DATA_ATTR_RE = re.compile(r"\b(data-[a-z-]+)=")


def mapping(lang: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def template_dir(lang: str) -> Path:
    return TEMPLATES_DIR if lang == "en" else TEMPLATES_DIR / lang


def files(lang: str) -> dict[str, Path]:
    """Page title (without the namespace) -> file, for one language."""
    return {path.stem: path for path in sorted(template_dir(lang).glob("*.wikitext"))}


def local_name(lang: str, template: str) -> str:
    name: str = mapping(lang)["templates"][template]["name"]
    return name


def local_params(lang: str, template: str) -> dict[str, str]:
    params: dict[str, str] = mapping(lang)["templates"][template]["params"]
    return params


def text_of(lang: str, template: str) -> str:
    return files(lang)[local_name(lang, template)].read_text(encoding="utf-8")


def transcluded(lang: str, template: str) -> str:
    return NOINCLUDE_RE.sub("", text_of(lang, template))


def templatedata(lang: str, template: str) -> dict[str, Any]:
    blocks = TEMPLATEDATA_RE.findall(text_of(lang, template))
    assert len(blocks) == 1, f"{lang}/{template}: {len(blocks)} <templatedata> blocks"
    data: dict[str, Any] = json.loads(blocks[0])
    return data


# -- pure tests: the mappings --------------------------------------------------------------


@pytest.mark.parametrize("lang", [*LANGS, "qqq"])
def test_mapping_has_the_agreed_shape(lang: str) -> None:
    data = mapping(lang)
    assert set(data) == {
        "@metadata",
        "template_namespace",
        "category_namespace",
        "user_namespace",
        "values",
        "templates",
    }
    assert data["@metadata"]["authors"]
    assert set(data["values"]) == set(VALUES)
    assert set(data["templates"]) == set(TEMPLATES)
    for template, entry in data["templates"].items():
        assert set(entry) == {"name", "params"}, template
        organizer_owned, bot_owned = TEMPLATES[template]
        assert set(entry["params"]) == {*organizer_owned, *bot_owned}, template
        for value in (entry["name"], *entry["params"].values()):
            assert isinstance(value, str) and value.strip() == value and value, template


def test_english_maps_every_name_to_itself() -> None:
    english = mapping("en")
    assert english["template_namespace"] == "Template"
    assert english["category_namespace"] == "Category"
    assert english["user_namespace"] == "User"
    assert english["values"] == {value: value for value in VALUES}
    for template, entry in english["templates"].items():
        assert entry["name"] == template
        assert entry["params"] == {param: param for param in entry["params"]}


def test_english_mapping_matches_the_bots_page_format() -> None:
    pageformat = pytest.importorskip("bot.core.pageformat")
    params = {t: set(e["params"]) for t, e in mapping("en")["templates"].items()}
    assert params["Program details"] == set(pageformat.DETAILS_PARAMS)
    assert params["Participant table row"] == {"username", "joined", *pageformat.ROW_STATS}
    assert params["Program outcomes row"] == {"wiki", "wiki_name", *pageformat.OUTCOME_FIELDS}
    assert params["Participant table row"] == set(pageformat.ROW_PARAMS)
    english = pageformat.ENGLISH
    format_names = {
        english.details,
        english.table_start,
        english.row,
        english.table_end,
        english.outcomes,
        english.outcomes_row,
        english.deleted_article,
        english.source_participant,
        english.goal,
        english.activity,
        english.activity_row,
        english.notice,
        english.outcomes_end,
    }
    assert format_names == set(TEMPLATES) - set(OTHER_TEMPLATES)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translation_is_usable_on_a_wiki(lang: str) -> None:
    data = mapping(lang)
    names = [entry["name"] for entry in data["templates"].values()]
    assert len(set(names)) == len(names), "two templates with one name"
    for template, entry in data["templates"].items():
        # A page title: no characters MediaWiki forbids in titles, no namespace prefix.
        assert not re.search(r"[#<>\[\]|{}_:]", entry["name"]), template
        params = list(entry["params"].values())
        assert len(set(params)) == len(params), f"{template}: two parameters with one name"
        for param in params:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", param), f"{template}.{param}"
    # The bot writes these; the templates compare with them.
    assert data["values"]["total"] == "total"
    written = [data["values"][v].lower() for v in VALUES]
    assert len(set(written)) == len(written)


# -- pure tests: the template files ----------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_one_file_per_template_named_as_the_mapping_says(lang: str) -> None:
    expected = {local_name(lang, template) for template in TEMPLATES}
    assert set(files(lang)) == expected


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_templates_take_exactly_the_mapped_parameters(lang: str, template: str) -> None:
    body = transcluded(lang, template)
    assert body.startswith("<includeonly>") and body.rstrip().endswith("</includeonly>")
    assert "#invoke" not in body
    params = local_params(lang, template)
    used = set(PARAM_RE.findall(body))
    assert used == set(params.values()), f"{lang}/{template}: {used}"
    for param in params.values():
        assert "{{{" + param in body
    if lang != "en":
        kept = {canonical for canonical, local in params.items() if canonical == local}
        english_left = used & (set(params) - kept)
        assert not english_left, f"{lang}/{template}: English parameters {english_left}"


@pytest.mark.parametrize("lang", TRANSLATED)
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_translation_keeps_the_structure_for_gadgets_and_styles(lang: str, template: str) -> None:
    """Same CSS classes, ``data-`` attributes and table lines as the English template."""
    english, local = transcluded("en", template), transcluded(lang, template)

    def classes(text: str) -> set[str]:
        return {cls for value in CLASS_RE.findall(text) for cls in value.split()}

    def table_lines(text: str) -> list[str]:
        return [m.group(0) for m in re.finditer(r"(?m)^(\{\||\|\}|\|-|\|\+|!|\|)", text)]

    assert classes(local) == classes(english)
    assert set(DATA_ATTR_RE.findall(local)) == set(DATA_ATTR_RE.findall(english))
    assert table_lines(local) == table_lines(english)
    assert local.count("{{formatnum:") == english.count("{{formatnum:")
    # Bot-written values are compared untranslated.
    assert ("|total|" in local) == ("|total|" in english)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_templatedata_is_valid_and_matches_the_mapping(lang: str, template: str) -> None:
    data = templatedata(lang, template)
    assert set(data) <= TEMPLATEDATA_ROOT_KEYS
    assert isinstance(data.get("description"), str) and data["description"]
    assert data.get("format") in {"inline", "block"}
    params = data["params"]
    mapped = local_params(lang, template)
    assert set(params) == set(mapped.values())
    if "paramOrder" in data:
        assert sorted(data["paramOrder"]) == sorted(params)
    english = templatedata("en", template)["params"]
    _organizer_owned, bot_owned = TEMPLATES[template]
    for canonical, name in mapped.items():
        param, where = params[name], f"{lang}/{template}.{name}"
        assert set(param) <= TEMPLATEDATA_PARAM_KEYS, where
        assert isinstance(param.get("label"), str) and param["label"], where
        assert isinstance(param.get("description"), str) and param["description"], where
        assert param.get("type") in TEMPLATEDATA_TYPES, where
        # Same type and the same required/suggested flags in every language.
        for key in ("type", "required", "suggested"):
            assert param.get(key) == english[canonical].get(key), f"{where}: {key}"
        if lang in BOT_OWNED_PHRASE:
            said_bot = BOT_OWNED_PHRASE[lang] in param["description"].lower()
            assert said_bot == (canonical in bot_owned), f"{where}: ownership not described"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_suggested_values_are_the_translated_ones(lang: str) -> None:
    values = mapping(lang)["values"]
    details = templatedata(lang, "Program details")["params"]
    names = local_params(lang, "Program details")
    registration = details[names["registration"]]
    assert registration["suggestedvalues"] == [values["open"], values["closed"]]
    assert registration["default"] == values["open"]
    count = details[names["count_facilitators"]]
    assert count["suggestedvalues"] == [values["yes"], values["no"]]
    # The template understands the translated and the English values.
    body = transcluded(lang, "Program details")
    for value in (*VALUES[:4], *(values[v] for v in VALUES[:4])):
        assert f"|{value}|" in body or f"|{value}=" in body, value


def test_readme_documents_the_translations() -> None:
    readme = README.read_text(encoding="utf-8")
    for template in OTHER_TEMPLATES:
        assert f"{{{{{template}" in readme, template
    for lang in TRANSLATED:
        for template in TEMPLATES:
            assert local_name(lang, template) in readme, f"{lang}: {template}"
    assert "i18n/templates/" in readme


def test_german_example_uses_only_german_names() -> None:
    text = GERMAN_EXAMPLE.read_text(encoding="utf-8")
    german = mapping("de")["templates"]
    used_templates = set(re.findall(r"\{\{([^{}|#:]+?)\s*[|}]", text)) - {"PLURAL"}
    assert used_templates == {german[t]["name"] for t in TEMPLATES if t not in OTHER_TEMPLATES}
    english_names = set(TEMPLATES) - {entry["name"] for entry in german.values()}
    assert not any(f"{{{{{name}" in text for name in english_names)
    german_params = {p for entry in german.values() for p in entry["params"].values()}
    used_params = set(re.findall(r"\|\s*([a-z_]+)\s*=", text))
    assert used_params <= german_params, used_params - german_params
    assert "|anmeldung=geschlossen" in text  # a translated value, rendered as "closed" below


def test_german_example_reads_cleanly_with_the_bots_parser() -> None:
    pytest.importorskip("mwparserfromhell")
    program_page = pytest.importorskip("bot.core.program_page")
    text = GERMAN_EXAMPLE.read_text(encoding="utf-8")
    page = program_page.parse_program_page(text)
    assert page.notices == ()
    assert [row.username for row in page.rows] == ["Alice", "Bob"]
    assert page.details.wikis == ("de.wikipedia.org", "commons.wikimedia.org")
    assert page.details.registration == "closed"


# -- the rendered HTML -----------------------------------------------------------------------

DASH = "\u2013"


def install_translated_templates(wikis: Any, lang: str) -> Any:
    """Save one language's templates as ``Template:<local name>`` on the content wiki."""
    client = wikis.content.admin_client()
    for name, path in files(lang).items():
        client.edit(f"Template:{name}", path.read_text(encoding="utf-8"), summary="test")
    return client


def render(wikis: Any, text: str, title: str) -> tuple[Element, dict[str, Any]]:
    parsed = parse(wikis.content.api_url, text=text, title=title, contentmodel="wikitext")
    assert_no_errors(parsed["text"])
    return html_tree(parsed["text"]), parsed


def in_week(element: Element) -> bool:
    node = element.parent
    while node is not None:
        if "programs-bot-week" in node.classes:
            return True
        node = node.parent
    return False


def info_rows(wrapper: Element) -> dict[str, Element]:
    details = wrapper.find("table", "programs-bot-details")
    return {row.cells()[0].text(): row.cells()[-1] for row in details.rows()}


@pytest.mark.wiki
def test_german_templates_save_with_templatedata(wikis: Any) -> None:
    client = install_translated_templates(wikis, "de")
    api = wikis.content.api_url
    german = mapping("de")["templates"]
    for entry in german.values():
        title = f"Template:{entry['name']}"
        assert client.get_text(title) is not None
        parsed = parse(api, page=title)
        assert categories(parsed) == set(), title
        assert_no_errors(parsed["text"], all_templates_exist=False)
    titles = "|".join(f"Template:{entry['name']}" for entry in german.values())
    body = requests.get(
        api,
        params={"action": "templatedata", "titles": titles, "format": "json", "formatversion": "2"},
        timeout=60,
    ).json()
    stored = {page["title"]: set(page["params"]) for page in body["pages"].values()}
    assert stored == {
        f"Template:{entry['name']}": set(entry["params"].values()) for entry in german.values()
    }


@pytest.mark.wiki
def test_german_example_page_renders(wikis: Any) -> None:
    client = install_translated_templates(wikis, "de")
    title = "Frauen in der Wissenschaft"
    client.edit(title, GERMAN_EXAMPLE.read_text(encoding="utf-8"), summary="test")
    parsed = client.get(
        {
            "action": "parse",
            "page": title,
            "prop": "text|categories",
            "disablelimitreport": "1",
            "formatversion": "2",
        }
    )["parse"]
    html = parsed["text"]
    assert_no_errors(html)
    assert categories(parsed) == {"Programme"}
    tree = html_tree(html)

    # Programmdetails: the gadget's wrapper with the untranslated values, the German box.
    wrapper = tree.find("div", "programs-bot-program")
    assert wrapper.attrs["data-start"] == "2026-11-01"
    assert wrapper.attrs["data-end"] == "2026-11-30"
    assert wrapper.attrs["data-registration"] == "closed"  # written anmeldung=geschlossen
    assert wrapper.attrs["data-wikis"] == "de.wikipedia.org, commons.wikimedia.org"
    assert wrapper.find("caption").text() == f"Frauen in der Wissenschaft {DASH} Edit-a-thon"
    info = info_rows(wrapper)
    assert info["Zeitraum"].text() == f"1. November 2026 {DASH} 30. November 2026"
    assert "User:Alice" in info["Organisator"].find("a").attrs["href"]
    assert info["Betreuer"].text().startswith("Carol, Dave")
    assert "Nicht als Teilnehmer gezählt" in info["Betreuer"].text()
    assert info["Wikis"].text() == "de.wikipedia.org, commons.wikimedia.org"
    assert info["Anmeldung"].text() == f"Geschlossen {DASH} keine neuen Anmeldungen"
    assert info["Kampagne"].text() == "Wiki Science 2026"
    assert info["Kategorien"].text().startswith("Wissenschaftlerin, Physiker")
    assert "1 Ebene tief" in info["Kategorien"].text()
    assert info["Seiten mit Vorlage"].text() == "Infobox Wissenschaftler"
    assert info["Artikel"].text() == "Marie Curie, Lise Meitner"
    assert not list(wrapper.iter(cls="programs-bot-invalid"))

    # Teilnehmertabelle: German headers, one row per participant, numbers formatted.
    participants = tree.find("table", "programs-bot-participants")
    assert participants.find("caption").text() == "Teilnehmer"
    header, *rows = participants.rows()
    assert [c.text() for c in header.cells()] == [
        "Teilnehmer",
        "Angemeldet",
        "Bearbeitungen",
        "Artikel bearbeitet",
        "Artikel erstellt",
        "Bytes hinzugefügt",
        "Hochgeladene Dateien",
    ]
    assert all(c.tag == "th" and c.attrs.get("title") for c in header.cells()[1:])
    assert [row.attrs["data-username"] for row in rows] == ["Alice", "Bob"]
    alice, bob = rows
    links = {a.text(): a.attrs["href"] for a in alice.iter("a")}
    assert "User:Alice" in links["Alice"]
    assert "Special:Contributions/Alice" in links["Beiträge"]
    # formatnum follows the wiki's content language: English here, 4.500 on a German wiki.
    assert [c.text() for c in alice.cells()][1:] == ["2026-11-01", "12", "3", "1", "4,500", "2"]
    assert [c.text() for c in bob.cells()][1:] == ["2026-11-02", "", "", "", "", ""]

    # Programmergebnisse.
    assert tree.find(cls="programs-bot-outcomes-title").text() == "Ergebnisse"
    assert tree.find(cls="programs-bot-outcomes-sentence").text() == (
        "3 Personen haben an „Frauen in der Wissenschaft \u2013 Edit-a-thon“ teilgenommen. Während"
        " der Veranstaltung machte die Gruppe 12 Bearbeitungen an 3 Artikeln in der"
        " deutschsprachigen Wikipedia und 2 Bearbeitungen in Wikimedia Commons. Die Gruppe"
        " erstellte 1 neuen Artikel in der deutschsprachigen Wikipedia und lud 2 Dateien in"
        " Wikimedia Commons hoch."
    )
    computed = tree.find(cls="programs-bot-computed").text()
    assert "Berechnet am 25. November 2026, 06:00 (UTC) für 3 gezählte Teilnehmer." in computed
    outcomes = tree.find("table", "programs-bot-outcomes")
    header, *rows = outcomes.rows()
    assert [c.text() for c in header.cells()] == [
        "Wiki",
        "Bearbeitungen",
        "Bearbeitungen im Artikelnamensraum",
        "Artikel bearbeitet",
        "Artikel erstellt",
        "Bytes hinzugefügt",
        "Hochgeladene Dateien",
        "Gelöschte Artikel",
    ]
    assert len(rows) == 11
    de, commons, total, goal, _, erin, deleted, activity, first_day, _, notice = rows
    assert goal.cells()[0].text() == "Ziel: erstellte Artikel1 von 5 (20%)"
    assert erin.cells()[0].text() == "Erin (Veranstaltungsanmeldung)"
    assert activity.cells()[0].text().startswith("Aktivität pro Tag")
    assert first_day.cells()[0].text() == "1. Nov. 2026"
    assert first_day.cells()[1].text() == "12 Bearbeitungen3 Artikel"
    assert de.cells()[0].find("span").attrs["title"] == "de.wikipedia.org"
    assert [c.text() for c in de.cells()] == [
        "Deutschsprachige Wikipedia",
        "12",
        "10",
        "3",
        "1",
        "4,500",
        "0",
        "1",
    ]
    assert "programs-bot-wiki" in de.classes and "programs-bot-wiki" in commons.classes
    assert [c.text() for c in commons.cells()][6] == "2"
    assert "programs-bot-total" in total.classes
    assert total.cells()[0].find("b").text() == "Gesamt"
    assert [c.text() for c in total.cells()][1:] == ["14", "10", "3", "1", "4,500", "2", "1"]
    assert "programs-bot-deleted" in deleted.classes
    (cell,) = deleted.cells()
    assert cell.attrs["colspan"] == "8"
    assert cell.text() == "Seit der Zählung gelöscht: Eine gelöschte Seite (de.wikipedia.org)"
    assert "programs-bot-notice" in notice.classes
    (cell,) = notice.cells()
    assert cell.attrs["colspan"] == "8"
    assert cell.find("b").text() == "Hinweis:"
    assert "Benutzer „Zed“ existiert in keinem der aufgeführten Wikis" in cell.text()


@pytest.mark.wiki
def test_german_values_and_english_ones_are_understood(wikis: Any) -> None:
    """``offen``/``geschlossen``/``ja``/``nein`` and the English values; others invalid."""
    install_translated_templates(wikis, "de")
    cases = [
        # (anmeldung, betreuer_zaehlen, data-registration, Anmeldung row, Betreuer note)
        ("offen", "ja", "open", "Offen", "Als Teilnehmer gezählt"),
        ("Geschlossen", "Nein", "closed", "Geschlossen", "Nicht als Teilnehmer gezählt"),
        ("", "", "open", "Offen", "Nicht als Teilnehmer gezählt"),
        ("closed", "yes", "closed", "Geschlossen", "Als Teilnehmer gezählt"),
        ("Open", "no", "open", "Offen", "Nicht als Teilnehmer gezählt"),
        ("vielleicht", "manchmal", "vielleicht", "vielleicht", "betreuer_zaehlen=manchmal"),
    ]
    text = "\n".join(
        "{{Programmdetails|organisator=Dave|betreuer=Eve|beginn=2026-11-01T09:00"
        f"|ende=2026-11-30 18:30:15Z|wikis=127.0.0.1:8080|anmeldung={registration}"
        f"|betreuer_zaehlen={count}}}}}"
        for registration, count, *_ in cases
    )
    tree, parsed = render(wikis, text, "Werte")
    assert categories(parsed) == {"Programme"}
    wrappers = list(tree.iter("div", "programs-bot-program"))
    assert len(wrappers) == len(cases)
    for (registration, _count, data, shown, note), wrapper in zip(cases, wrappers, strict=True):
        assert wrapper.attrs["data-registration"] == data, registration
        info = info_rows(wrapper)
        assert info["Anmeldung"].text().startswith(shown), registration
        assert note in info["Betreuer"].text()
        assert "User:Eve" in info["Betreuer"].find("a").attrs["href"]
        assert info["Zeitraum"].text() == (
            f"1. November 2026, 09:00 (UTC) {DASH} 30. November 2026, 18:30:15 (UTC)"
        )
    invalid = [s.text() for s in wrappers[-1].iter("span", "programs-bot-invalid")]
    assert invalid == ["betreuer_zaehlen=manchmal", "vielleicht"]


#: Per language: what the user-page, talk-page and timeline templates show.
EXPECTED: dict[str, dict[str, str]] = {
    "en": {
        "participant": "This user is taking part in {program} as student.",
        "instructor": "This user is an instructor of {program} (teaching assistant).",
        "assignment": "This article is being worked on in {program} by Alice (term: Fall 2026).",
        "assignment_list": "This article is being worked on in {program} by Alice, Bob.",
        "participants_category": "Program participants",
        "instructors_category": "Program instructors",
        "articles_category": "Articles in programs",
        "timeline": "Timeline",
        "week1": "Week 1: Introduction to Wikipedia",
        "week1_dates": f"2 November 2026 {DASH} 8 November 2026",
        "week2": "Week 2: Choosing an article",
        "no_program": "(no program given)",
    },
    "de": {
        "participant": "Dieser Benutzer nimmt an {program} teil (Rolle: student).",
        "instructor": "Dieser Benutzer leitet {program} (teaching assistant).",
        "assignment": (
            "An diesem Artikel wird von Alice im Programm {program} gearbeitet"
            " (Semester: Fall 2026)."
        ),
        "assignment_list": (
            "An diesem Artikel wird von Alice, Bob im Programm {program} gearbeitet."
        ),
        "participants_category": "Programmteilnehmer",
        "instructors_category": "Programmleiter",
        "articles_category": "Artikel in Programmen",
        "timeline": "Zeitplan",
        "week1": "Woche 1: Introduction to Wikipedia",
        "week1_dates": f"2. November 2026 {DASH} 8. November 2026",
        "week2": "Woche 2: Choosing an article",
        "no_program": "(kein Programm angegeben)",
    },
}
RENDERED = tuple(EXPECTED)
PROGRAM = "Women in Science edit-a-thon"
PROGRAM_HREF = "Women_in_Science_edit-a-thon"


def call(lang: str, template: str, **params: str) -> str:
    """A template call with the language's template and parameter names."""
    names = local_params(lang, template)
    args = "".join(f"|{names[k]}={v}" for k, v in params.items())
    return f"{{{{{local_name(lang, template)}{args}}}}}"


def install(wikis: Any, lang: str) -> None:
    if lang == "en":
        install_templates(wikis)
    else:
        install_translated_templates(wikis, lang)


@pytest.mark.wiki
@pytest.mark.parametrize("lang", RENDERED)
def test_user_page_boxes(wikis: Any, participant: Any, lang: str) -> None:
    install(wikis, lang)
    expected = EXPECTED[lang]
    text = (
        call(lang, "Participant editor", program=PROGRAM, role="student")
        + "\n"
        + call(lang, "Program instructor", program=PROGRAM, role="teaching assistant")
    )
    tree, parsed = render(wikis, text, "User:Alice")
    assert categories(parsed) == {
        expected["participants_category"].replace(" ", "_"),
        expected["instructors_category"].replace(" ", "_"),
    }
    participant_box = tree.find("div", "programs-bot-participant-box")
    instructor_box = tree.find("div", "programs-bot-instructor-box")
    for box, key in ((participant_box, "participant"), (instructor_box, "instructor")):
        assert "programs-bot-userbox" in box.classes
        assert box.attrs["data-program"] == PROGRAM
        assert box.text() == expected[key].format(program=PROGRAM)
        assert PROGRAM_HREF in box.find("a").attrs["href"]

    if lang == "de":  # the sentence follows the user's gender preference
        participant("Alice").post({"action": "options", "change": "gender=female"})
        tree, _parsed = render(wikis, text, "User:Alice/Programme")
        box = tree.find("div", "programs-bot-participant-box")
        assert box.text().startswith("Diese Benutzerin nimmt an")

    # Outside the User namespace: the same boxes, no category.
    tree, parsed = render(wikis, text, "Some article")
    assert categories(parsed) == set()
    assert len(list(tree.iter(cls="programs-bot-userbox"))) == 2

    # Without a program: marked, no link.
    tree, _parsed = render(wikis, call(lang, "Participant editor"), "User:Bob")
    box = tree.find("div", "programs-bot-participant-box")
    assert list(box.iter("a")) == []
    assert len(list(box.iter("span", "programs-bot-invalid"))) == 1
    assert expected["no_program"] in box.text()


@pytest.mark.wiki
@pytest.mark.parametrize("lang", RENDERED)
def test_assignment_notice_on_a_talk_page(wikis: Any, lang: str) -> None:
    install(wikis, lang)
    expected = EXPECTED[lang]
    text = (
        call(lang, "Program assignment", program=PROGRAM, user="Alice", term="Fall 2026")
        + "\n"
        + call(lang, "Program assignment", program=PROGRAM, user="Alice, Bob")
    )
    tree, parsed = render(wikis, text, "Talk:Marie Curie")
    assert categories(parsed) == {expected["articles_category"].replace(" ", "_")}
    single, several = tree.iter("div", "programs-bot-assignment")
    assert single.text() == expected["assignment"].format(program=PROGRAM)
    assert single.attrs["data-program"] == PROGRAM
    assert single.attrs["data-users"] == "Alice"
    assert single.attrs["data-term"] == "Fall 2026"
    links = {a.text(): a.attrs["href"] for a in single.iter("a")}
    assert "User:Alice" in links["Alice"]
    assert several.text() == expected["assignment_list"].format(program=PROGRAM)
    (link,) = several.iter("a")  # a list of users is not linked
    assert PROGRAM_HREF in link.attrs["href"]

    for title in ("Marie Curie", "User talk:Alice"):
        _tree, parsed = render(wikis, text, title)
        assert categories(parsed) == set(), title


@pytest.mark.wiki
@pytest.mark.parametrize("lang", RENDERED)
def test_timeline_with_two_weeks(wikis: Any, lang: str) -> None:
    install(wikis, lang)
    expected = EXPECTED[lang]
    text = "\n".join(
        [
            "Before the timeline.",
            call(lang, "Start of program timeline"),
            call(
                lang,
                "Start of program week",
                number="1",
                title="Introduction to Wikipedia",
                start="2026-11-02",
            ),
            "* Create an account.",
            "* Read the five pillars.",
            call(lang, "End of program week"),
            call(lang, "Start of program week", number="2", title="Choosing an article"),
            "Pick an article from the list.",
            "",
            "Add it to your user page.",
            call(lang, "End of program week"),
            call(lang, "Start of program week", number="3", title="Drafting", start="next week"),
            call(lang, "End of program week"),
            "After the timeline.",
        ]
    )
    tree, parsed = render(wikis, text, "Course")
    assert categories(parsed) == set()
    assert tree.find(cls="programs-bot-timeline").text() == expected["timeline"]
    weeks = list(tree.iter("div", "programs-bot-week"))
    assert len(weeks) == 3
    assert not any(in_week(week) for week in weeks)  # boxes follow each other
    first, second, third = weeks
    assert first.attrs["id"] == "week-1" and first.attrs["data-week"] == "1"
    assert first.attrs["data-start"] == "2026-11-02"
    assert first.find(cls="programs-bot-week-title").text() == expected["week1"]
    assert first.find(cls="programs-bot-week-dates").text() == expected["week1_dates"]
    body = first.find(cls="programs-bot-week-body")
    assert [li.text() for li in body.iter("li")] == ["Create an account.", "Read the five pillars."]
    assert second.find(cls="programs-bot-week-title").text() == expected["week2"]
    assert list(second.iter(cls="programs-bot-week-dates")) == []
    paragraphs = [p.text() for p in second.find(cls="programs-bot-week-body").iter("p")]
    assert paragraphs == ["Pick an article from the list.", "Add it to your user page."]
    dates = third.find(cls="programs-bot-week-dates")
    assert [s.text() for s in dates.iter("span", "programs-bot-invalid")] == ["next week"]
    # Free text outside the weeks stays outside.
    outside = [p for p in tree.iter("p") if "After the timeline." in p.text()]
    assert len(outside) == 1 and not in_week(outside[0])


@pytest.fixture(scope="module")
def german_wiki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A MediaWiki installed in German (about a second), with the German templates."""
    from harness import ADMIN_USERNAME, create_wiki, free_port, mediawiki_missing

    if mediawiki_missing() is not None:
        pytest.skip("local MediaWiki not available")  # the wiki marker fails first under CI
    root = tmp_path_factory.mktemp("dewiki")
    wiki = create_wiki(root, "dewiki", free_port(), site_name="Testwiki", lang="de")
    with wiki:
        client = wiki.client(ADMIN_USERNAME)
        for name, path in files("de").items():
            client.edit(f"Vorlage:{name}", path.read_text(encoding="utf-8"), summary="test")
        yield client
        client.close()


@pytest.mark.wiki
def test_german_templates_on_a_german_wiki(german_wiki: Any) -> None:
    client = german_wiki
    page = GERMAN_EXAMPLE.read_text(encoding="utf-8")
    page = page.replace("{{Programmhinweis|", "{{Vorlage:Programmhinweis|")
    page += (
        "\n{{Beginn des Programmzeitplans}}"
        "\n{{Beginn der Programmwoche|nummer=1|titel=Einführung|beginn=2026-03-02}}"
        "\nText\n{{Ende der Programmwoche}}"
    )
    client.edit("Frauen in der Wissenschaft", page, summary="test")
    parsed = client.get(
        {
            "action": "parse",
            "page": "Frauen in der Wissenschaft",
            "prop": "text|categories",
            "disablelimitreport": "1",
        }
    )["parse"]
    html = parsed["text"]
    assert_no_errors(html)
    assert not re.search(r'<a [^>]*class="new"[^>]*title="Vorlage:', html)
    assert categories(parsed) == {"Programme"}
    tree = html_tree(html)
    wrapper = tree.find("div", "programs-bot-program")
    assert wrapper.attrs["data-registration"] == "closed"
    info = info_rows(wrapper)
    assert "Benutzer:Alice" in info["Organisator"].find("a").attrs["href"]
    participants = tree.find("table", "programs-bot-participants")
    _header, alice, _bob = participants.rows()
    links = {a.text(): a.attrs["href"] for a in alice.iter("a")}
    assert "Spezial:Beitr%C3%A4ge/Alice" in links["Beiträge"]
    assert [c.text() for c in alice.cells()][5] == "4.500"  # German digit grouping
    outcomes = tree.find("table", "programs-bot-outcomes")
    assert "programs-bot-notice" in outcomes.rows()[-1].classes
    week = tree.find("div", "programs-bot-week")
    dates = week.find(cls="programs-bot-week-dates").text()
    assert dates == f"2. März 2026 {DASH} 8. März 2026"  # German month names

    box, parsed = render_on(client, "{{Programmteilnehmer|programm=Frauen}}", "Benutzer:Alice")
    assert categories(parsed) == {"Programmteilnehmer"}
    assert box.text() == "Dieser Benutzer nimmt an Frauen teil."
    _box, parsed = render_on(
        client, "{{Artikel im Programm|programm=Frauen}}", "Diskussion:Marie Curie"
    )
    assert categories(parsed) == {"Artikel_in_Programmen"}


def render_on(client: Any, text: str, title: str) -> tuple[Element, dict[str, Any]]:
    parsed = client.get(
        {
            "action": "parse",
            "text": text,
            "title": title,
            "contentmodel": "wikitext",
            "prop": "text|categories",
        }
    )["parse"]
    assert_no_errors(parsed["text"])
    return html_tree(parsed["text"]), parsed
