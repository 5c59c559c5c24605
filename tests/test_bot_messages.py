"""The bot's messages (i18n/bot) in every language, and the names it gives wikis."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.messages import PREFIX, Messages, inert
from bot.core.metrics import Counts, Outcomes
from bot.core.pageformat import page_format
from bot.core.render import outcome_sentence, outcomes_block
from bot.core.settings import config_from_mapping
from bot.core.wikinames import PROJECTS, WikiName, language_names, spoken, wiki_name

ROOT = Path(__file__).resolve().parents[1]
MESSAGES_DIR = ROOT / "i18n" / "bot"
TRANSLATIONS = sorted(p.stem for p in MESSAGES_DIR.glob("*.json") if p.stem not in {"en", "qqq"})
PARAM = re.compile(r"\$(\d+)")
PLURAL = re.compile(r"\{\{PLURAL:\$(\d+)\|([^{}]*)\}\}")


def load(lang: str) -> dict[str, str]:
    data = json.loads((MESSAGES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    assert data.pop("@metadata")["authors"]
    return data


def test_german_is_a_translation() -> None:
    assert "de" in TRANSLATIONS


def test_every_english_message_is_documented_in_qqq() -> None:
    english, qqq = load("en"), load("qqq")
    assert set(english) == set(qqq)
    assert all(key.startswith(PREFIX) for key in english)
    for key, text in english.items():
        # Every parameter the message takes is described.
        for number in set(PARAM.findall(text)):
            assert f"${number}" in qqq[key], (key, number)


def forms(documentation: str) -> set[str]:
    """The parameters qqq calls two forms of one thing (a translation uses one or both)."""
    pair = re.search(r"\$(\d+) and \$(\d+) are two forms of", documentation)
    return set(pair.groups()) if pair else set()


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_a_translation_has_every_message_with_the_same_parameters(lang: str) -> None:
    english, qqq, translated = load("en"), load("qqq"), load(lang)
    assert set(translated) == set(english)
    for key, text in translated.items():
        params, wanted = set(PARAM.findall(text)), set(PARAM.findall(english[key]))
        alternatives = forms(qqq[key])
        assert params - alternatives == wanted - alternatives, key
        assert params <= set(PARAM.findall(qqq[key])), key
        if alternatives:
            assert params & alternatives, key
        # {{PLURAL}} is balanced: every brace pair closes, each PLURAL has one to three
        # forms of a parameter the message has, and what English counts is counted too.
        assert text.count("{{") == text.count("}}"), key
        plurals = PLURAL.findall(text)
        assert len(plurals) == text.count("{{PLURAL:"), key
        for number, plural_forms in plurals:
            assert 1 <= len(plural_forms.split("|")) <= 3, key
            assert number in wanted, key
        counted = {n for n, _ in PLURAL.findall(english[key])}
        assert counted <= {n for n, _ in plurals}, key


def test_every_message_the_code_asks_for_exists() -> None:
    english = load("en")
    used: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        used |= set(
            re.findall(r"\.text\(\s*\"([a-z-]+)\"\s*[,)]", path.read_text(encoding="utf-8"))
        )
    used |= {f"wiki-{p}" for p in PROJECTS} | {f"wiki-{p}-place" for p in PROJECTS}
    assert {"sentence-joined", "clause-edits-articles", "summary-refresh"} <= used
    assert {PREFIX + key for key in used} <= set(english)


# -- the names of wikis -------------------------------------------------------------------


def names_in(lang: str, host: str, **options: object) -> tuple[str, str]:
    said = spoken(wiki_name(host, **options), Messages(lang))  # type: ignore[arg-type]
    return said.name, said.place


def test_wikimedia_language_editions_are_named_in_the_pages_language() -> None:
    assert names_in("en", "en.wikipedia.org") == ("English Wikipedia", "on English Wikipedia")
    assert names_in("en", "de.wikipedia.org") == ("German Wikipedia", "on German Wikipedia")
    assert names_in("de", "de.wikipedia.org") == (
        "Deutschsprachige Wikipedia",
        "in der deutschsprachigen Wikipedia",
    )
    assert names_in("de", "en.wikipedia.org")[1] == "in der englischsprachigen Wikipedia"
    assert names_in("de", "fr.wiktionary.org") == (
        "Französischsprachiges Wiktionary",
        "im französischsprachigen Wiktionary",
    )
    assert names_in("en", "es.wikisource.org")[0] == "Spanish Wikisource"
    # Subdomains that are not the language's CLDR code.
    assert names_in("en", "als.wikipedia.org")[0] == "Alemannic Wikipedia"
    assert names_in("de", "zh-yue.wikipedia.org")[0] == "Kantonesischsprachige Wikipedia"
    assert names_in("en", "zh-min-nan.wikipedia.org")[0] == "Min Nan Chinese Wikipedia"


def test_wikimedia_wikis_with_a_name_of_their_own() -> None:
    for lang in ("en", "de"):
        assert names_in(lang, "commons.wikimedia.org")[0] == "Wikimedia Commons"
        assert names_in(lang, "www.wikidata.org")[0] == "Wikidata"
        assert names_in(lang, "simple.wikipedia.org")[0] == "Simple English Wikipedia"
    assert names_in("en", "commons.wikimedia.org")[1] == "on Wikimedia Commons"
    assert names_in("de", "www.wikidata.org")[1] == "in Wikidata"


def test_other_wikis_by_their_site_name_and_a_configured_name_first() -> None:
    asked: list[str] = []

    def sitename() -> str:
        asked.append("asked")
        return "Content Wiki"

    assert names_in("en", "127.0.0.1:18081", sitename=sitename) == (
        "Content Wiki",
        "on Content Wiki",
    )
    assert asked == ["asked"]
    # A Wikimedia wiki's name needs no site information; a configured name wins everywhere.
    assert names_in("en", "en.wikipedia.org", sitename=sitename)[0] == "English Wikipedia"
    assert names_in("de", "en.wikipedia.org", configured=" EN-WP ", sitename=sitename) == (
        "EN-WP",
        "in EN-WP",
    )
    assert asked == ["asked"]
    # No site name: the host.
    assert names_in("de", "wiki.example.org") == ("wiki.example.org", "in wiki.example.org")


def test_a_language_without_a_name_is_called_by_its_host() -> None:
    assert "xx" not in language_names("en")
    assert names_in("en", "xx.wikipedia.org") == ("xx.wikipedia.org", "on xx.wikipedia.org")
    assert language_names("fr") == {}  # no names for the language: hosts
    assert wiki_name("EN.Wikipedia.org") == WikiName("en.wikipedia.org", "", "wikipedia", "en")


def test_the_language_names_are_one_word_or_hyphenated_in_german() -> None:
    # German makes "<name>sprachige Wikipedia" of them.
    for code, name in language_names("de").items():
        assert re.fullmatch(r"[^\s()]+", name), (code, name)
    assert set(language_names("de")) <= set(language_names("en")) | {"als"}


def test_names_from_a_wiki_or_a_page_are_made_inert() -> None:
    assert inert("Content Wiki") == "Content Wiki"
    assert inert("127.0.0.1:18081") == "127.0.0.1:18081"
    for hostile in ("[[Evil]]", "{{Evil}}", "a|b", "''x''", "~~~~", "*list", "x <b>", "__TOC__"):
        assert inert(hostile).startswith("<nowiki>"), hostile
    said = spoken(wiki_name("wiki.example.org", sitename=lambda: "{{Evil}}"), Messages("en"))
    assert (said.name, said.place) == ("<nowiki>{{Evil}}</nowiki>", "on <nowiki>{{Evil}}</nowiki>")


# -- the outcome sentence ------------------------------------------------------------------


def counts(**figures: int) -> Counts:
    base = dict.fromkeys(
        (
            "edits",
            "mainspace_edits",
            "articles_edited",
            "articles_created",
            "bytes_added",
            "uploads",
            "deleted",
        ),
        0,
    )
    return Counts(**{**base, **figures})


TWO_WIKIS = Outcomes(
    participants=("Alice", "Bob"),
    per_user={},
    per_user_wiki={},
    per_wiki={
        "de.wikipedia.org": counts(
            edits=12, mainspace_edits=10, articles_edited=3, articles_created=1
        ),
        "commons.wikimedia.org": counts(edits=2, uploads=2),
    },
    total=counts(edits=14, mainspace_edits=10, articles_edited=3, articles_created=1, uploads=2),
    deleted_articles=(),
)
PROGRAM = "Frauen in der Wissenschaft \N{EN DASH} Edit-a-thon"


def test_the_two_wiki_sentence_in_english_and_german() -> None:
    assert outcome_sentence(TWO_WIKIS, Messages("en"), PROGRAM) == (
        f"2 {{{{PLURAL:2|person|people}}}} joined {PROGRAM}."
        " During the event the group made 12 {{PLURAL:12|edit|edits}} to 3 German Wikipedia"
        " {{PLURAL:3|article|articles}} and 2 {{PLURAL:2|edit|edits}} on Wikimedia Commons."
        " The group created 1 new German Wikipedia {{PLURAL:1|article|articles}} and uploaded"
        " 2 {{PLURAL:2|file|files}} to Wikimedia Commons."
    )
    assert outcome_sentence(TWO_WIKIS, Messages("de"), PROGRAM) == (
        f"2 {{{{PLURAL:2|Person hat|Personen haben}}}} an „{PROGRAM}“ teilgenommen."
        " Während der Veranstaltung machte die Gruppe 12 {{PLURAL:12|Bearbeitung|Bearbeitungen}}"
        " an 3 {{PLURAL:3|Artikel|Artikeln}} in der deutschsprachigen Wikipedia und"
        " 2 {{PLURAL:2|Bearbeitung|Bearbeitungen}} in Wikimedia Commons."
        " Die Gruppe erstellte 1 {{PLURAL:1|neuen Artikel|neue Artikel}} in der"
        " deutschsprachigen Wikipedia und lud 2 {{PLURAL:2|Datei|Dateien}} in Wikimedia"
        " Commons hoch."
    )


def test_three_wikis_make_a_list_and_names_come_from_the_count() -> None:
    outcomes = Outcomes(
        participants=("Alice",),
        per_user={},
        per_user_wiki={},
        per_wiki={
            "en.wikipedia.org": counts(edits=1, articles_edited=1),
            "127.0.0.1:18081": counts(edits=2, articles_edited=2),
            "www.wikidata.org": counts(edits=3),
        },
        total=counts(edits=6, articles_edited=3),
        deleted_articles=(),
    )
    names = {"127.0.0.1:18081": wiki_name("127.0.0.1:18081", sitename=lambda: "Content Wiki")}
    sentence = outcome_sentence(outcomes, Messages("en"), "[[Trap]]", names)
    assert sentence.startswith("1 {{PLURAL:1|person|people}} joined <nowiki>[[Trap]]</nowiki>.")
    assert (
        " made 1 {{PLURAL:1|edit|edits}} to 1 English Wikipedia {{PLURAL:1|article|articles}},"
        " 2 {{PLURAL:2|edit|edits}} to 2 Content Wiki {{PLURAL:2|article|articles}} and"
        " 3 {{PLURAL:3|edit|edits}} on Wikidata." in sentence
    )
    assert "created" not in sentence and "uploaded" not in sentence
    german = outcome_sentence(outcomes, Messages("de"), "X", names)
    assert "in der englischsprachigen Wikipedia, 2 " in german
    assert "in Content Wiki und 3 {{PLURAL:3|Bearbeitung|Bearbeitungen}} in Wikidata." in german


def test_the_rows_keep_the_host_and_show_the_name() -> None:
    block = outcomes_block(
        TWO_WIKIS, [], "2026-11-25T06:00:00Z", Messages("de"), page_format("de"), program=PROGRAM
    )
    lines = block.splitlines()
    assert lines[1].startswith(
        "{{Programmergebniszeile|wiki=de.wikipedia.org|wikiname=Deutschsprachige Wikipedia|"
        "bearbeitungen=12|"
    )
    assert lines[2].startswith(
        "{{Programmergebniszeile|wiki=commons.wikimedia.org|wikiname=Wikimedia Commons|"
    )
    assert lines[3].startswith("{{Programmergebniszeile|wiki=total|bearbeitungen=14|")
    from bot.core.program_page import read_outcome_rows

    rows = read_outcome_rows(block, page_format("de"))
    assert rows["de.wikipedia.org"]["wiki_name"] == "Deutschsprachige Wikipedia"
    assert rows["de.wikipedia.org"]["edits"] == "12"


# -- the setting ---------------------------------------------------------------------------


def test_the_name_setting() -> None:
    config = config_from_mapping({"wikis": {"Wiki.Example.org": {"name": " Our Wiki "}}})
    assert config.wiki("wiki.example.org").name == "Our Wiki"
    assert config.wiki("other.example.org").name is None
    for bad in ("", "  ", 3):
        with pytest.raises(ConfigError, match="name must be a non-empty string"):
            config_from_mapping({"wikis": {"w.example.org": {"name": bad}}})


def test_messages_fall_back_to_english_key_by_key() -> None:
    assert Messages("de").text("list", "a", "b") == "a und b"
    assert Messages("fr").text("list", "a", "b") == "a and b"
    assert Counter(load("de").values())  # not empty
