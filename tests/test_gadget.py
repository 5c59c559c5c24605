"""The gadget's pages and messages, without a wiki: bot/core/gadget_pages.py, i18n/gadget,
the script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import gadget_pages as gadget
from bot.core.errors import ConfigError
from bot.core.gadget_pages import (
    DEFINITION_PAGE,
    DESCRIPTION_PAGE,
    PLACEHOLDER,
    SCRIPT_PAGE,
    SECTION_PAGE,
    STYLE_PAGE,
    api_origin,
    definition_line,
    gadget_config,
    gadget_pages,
    merge_definition,
    messages,
    script_json,
)
from bot.core.goals import GOAL_FIGURES
from harness import PROJECT_ROOT

I18N = PROJECT_ROOT / "i18n" / "gadget"
SCRIPT = PROJECT_ROOT / "wikitemplates" / "gadget" / "programs-bot.js"
STYLE = PROJECT_ROOT / "wikitemplates" / "gadget" / "programs-bot.css"
API_SOURCES = PROJECT_ROOT / "gadget_api"
JSMINPLUS = Path("/usr/share/mediawiki/includes/libs/jsminplus.php")
API = "https://programs-bot.toolforge.org"
PREFIX = "programs-bot-gadget-"
#: Error codes the gadget makes itself: no answer from the Join API, a code it does not
#: know, and the wiki-edit mode's codes for what the wiki answered.
LOCAL_ERROR_CODES = {
    "network",
    "unknown",
    "edit-conflict",
    "cannot-edit",
    "logged-out",
    "wiki-unreachable",
    "page-unreadable",
}
#: MediaWiki 1.39's own patterns (MediaWikiGadgetsDefinitionRepo::listFromDefinition and
#: ::newFromDefinition), to check the line as the Gadgets extension reads it.
MW_HEADING = re.compile(r"^==+ *([^*:\s|]+)\s*(?<!=)==+\s*$")
MW_GADGET = re.compile(
    r"^\*+ *([a-zA-Z](?:[-_:.\w ]*[a-zA-Z0-9])?)(\s*\[.*?\])?\s*((\|[^|]*)+)\s*$"
)


def load(lang: str) -> dict[str, str]:
    data = json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data.get("@metadata"), dict), f"{lang}.json has no @metadata"
    return {k: v for k, v in data.items() if not k.startswith("@")}


def translations() -> list[str]:
    return sorted(p.stem for p in I18N.glob("*.json") if p.stem not in ("en", "qqq"))


def config_of(script: str) -> dict[str, Any]:
    """The object the deploy step put in place of the placeholder."""
    start = script.index("/*CONFIG*/") + len("/*CONFIG*/")
    end = script.index("/*END*/", start)
    result: dict[str, Any] = json.loads(script[start:end])
    return result


def api_error_codes() -> set[str]:
    """Every error code the gadget can receive from the Join API: the JSON API's answers,
    and the sign-in popup's errors that it posts to the wiki's page. The popup shows an
    error without a wiki (``_page_error(None, ...)``) but posts it nowhere: there is no
    origin to post to."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in API_SOURCES.glob("*.py"))
    codes = set(re.findall(r'(?:ApiError|_json_error)\(\s*\d+,\s*"([a-z][a-z-]*)"', source))
    codes |= set(re.findall(r'error_body\(\s*"([a-z][a-z-]*)"', source))
    flow = re.findall(r'OAuthFlowError\(\s*\d+,\s*"([a-z][a-z-]*)"', source)
    unposted = re.findall(
        r'_page_error\(\s*None,\s*OAuthFlowError\(\s*\d+,\s*"([a-z][a-z-]*)"', source
    )
    codes |= {code for code in flow if flow.count(code) > unposted.count(code)}
    from gadget_api.app import _HTTP_CODES

    return codes | set(_HTTP_CODES.values())


# -- messages --------------------------------------------------------------------------------


def test_every_english_message_is_documented_and_prefixed() -> None:
    en, qqq = load("en"), load("qqq")
    assert all(key.startswith(PREFIX) for key in en)
    assert set(qqq) == set(en), {"undocumented": set(en) - set(qqq), "stray": set(qqq) - set(en)}
    assert all(text.strip() for text in qqq.values())
    assert all(text.strip() and text == text.strip() for text in en.values())


@pytest.mark.parametrize("lang", translations())
def test_translations_have_no_unknown_keys_and_the_same_parameters(lang: str) -> None:
    en, translated = load("en"), load(lang)
    assert translated, f"{lang}.json is empty"
    assert set(translated) <= set(en), set(translated) - set(en)
    for key, text in translated.items():
        assert set(re.findall(r"\$\d", text)) == set(re.findall(r"\$\d", en[key])), key
        assert text.count("{{") == text.count("}}"), key


def test_at_least_german_is_there() -> None:
    assert "de" in translations()
    assert load("de")[PREFIX + "join"] == "Teilnehmen"


@pytest.mark.parametrize("lang", ["en", *translations()])
def test_numbers_go_through_plural(lang: str) -> None:
    texts = load(lang)
    for key in (PREFIX + "participants", PREFIX + "error-rate-limited"):
        if key in texts:
            assert "{{PLURAL:$1|" in texts[key], (lang, key)


def test_the_api_s_every_error_code_has_a_message() -> None:
    codes = api_error_codes()
    # The API's table of codes and the popup's posted codes, as a floor for the scan above.
    assert {
        "missing-token",
        "invalid-token",
        "wrong-wiki",
        "origin-not-allowed",
        "user-blocked",
        "unknown-wiki",
        "not-a-program",
        "registration-closed",
        "program-ended",
        "not-joined",
        "removed-by-organizer",
        "rate-limited",
        "wiki-unavailable",
        "store-unavailable",
        "bad-json",
        "body-too-large",
        "unknown-field",
        "not-found",
        "oauth-cancelled",
        "oauth-refused",
        "oauth-unavailable",
        "oauth-mismatch",
        "oauth-expired",
    } <= codes
    en = load("en")
    missing = {code for code in codes if f"{PREFIX}error-{code}" not in en}
    assert not missing
    # No message for a code nobody sends: the popup never posts oauth-no-session (no sign-in
    # in its session, so no wiki to post to); unknown-wiki comes from the JSON API only.
    assert "oauth-no-session" not in codes
    error_keys = {key.removeprefix(f"{PREFIX}error-") for key in en if "-error-" in key}
    assert error_keys <= codes | LOCAL_ERROR_CODES | {"internal-error"}
    source = SCRIPT.read_text(encoding="utf-8")
    for code in LOCAL_ERROR_CODES:
        assert f"'{code}'" in source, code


def test_the_popup_posts_nothing_without_a_wiki(tmp_path: Path) -> None:
    """The two sign-in errors the popup shows before it knows the wiki reach no gadget."""
    from api_support import api_config, offline_entry
    from gadget_api import create_app

    popup = create_app(api_config(tmp_path, [offline_entry()])).test_client()
    for path, code in (
        ("/oauth/start?wiki=unknown.example.org", "unknown-wiki"),
        ("/oauth/callback?oauth_verifier=x&oauth_token=y", "oauth-no-session"),
    ):
        page = popup.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code >= 400 and "<script" not in html and code not in html, path


def test_the_script_uses_only_messages_that_exist_and_every_message_is_used() -> None:
    source = SCRIPT.read_text(encoding="utf-8")
    en = load("en")
    literals = set(re.findall(r"'(programs-bot-gadget-[a-z0-9-]*)'", source))
    full = {key for key in literals if not key.endswith("-")}
    prefixes = literals - full
    assert full, "the script names no message"
    assert full <= set(en), full - set(en)
    # The only keys the script builds: error codes, and the names of the goals' figures.
    assert prefixes == {PREFIX + "error-", PREFIX + "figure-"}
    wiki_only = set(gadget.WIKI_MESSAGES)
    built = {k for k in en if k.startswith((PREFIX + "error-", PREFIX + "figure-"))}
    unused = {k for k in en if k not in full and k not in wiki_only and k not in built}
    assert not unused


def test_every_goal_figure_has_a_name() -> None:
    """The script names a goal's figure by ``figure-`` and the figure, ``_`` as ``-``."""
    names = {k.removeprefix(PREFIX + "figure-") for k in load("en") if "-figure-" in k}
    assert names == {figure.replace("_", "-") for figure in GOAL_FIGURES}
    assert "figure.replace( /_/g, '-' )" in SCRIPT.read_text(encoding="utf-8")


def test_messages_fall_back_to_english_key_by_key() -> None:
    en, de = load("en"), load("de")
    merged = messages("de")
    assert set(merged) == set(en)
    for key in en:
        assert merged[key] == de.get(key, en[key])
    assert any(key not in de for key in en), "the test wants an untranslated German key"
    assert messages("fr") == en  # no file: English
    with pytest.raises(ConfigError):
        messages("../en")


# -- the script and the pages ----------------------------------------------------------------


def test_gadget_pages_fill_in_the_configuration() -> None:
    pages = gadget_pages(API + "/", "de")
    assert set(pages) == {SCRIPT_PAGE, STYLE_PAGE, DESCRIPTION_PAGE, SECTION_PAGE}
    script = pages[SCRIPT_PAGE]
    assert PLACEHOLDER not in script and script.count("/*CONFIG*/") == 1
    config = config_of(script)
    assert config == gadget_config(API, "de")
    assert config["mode"] == "join-api" and config["pollSeconds"] == gadget.POLL_SECONDS
    assert config["apiUrl"] == API and config["apiOrigin"] == API and config["lang"] == "de"
    # The wiki's language complete (English where untranslated), the others their own only.
    de_messages = config["messages"]["de"]
    assert de_messages[PREFIX + "join"] == "Teilnehmen"
    assert set(de_messages) == set(load("en")) - set(gadget.WIKI_MESSAGES)
    assert config["messages"]["en"] == {
        k: v for k, v in load("en").items() if k not in gadget.WIKI_MESSAGES
    }
    assert pages[DESCRIPTION_PAGE] == load("de")[PREFIX + "description"]
    assert pages[SECTION_PAGE] == load("de")[PREFIX + "section"]
    assert pages[STYLE_PAGE] == STYLE.read_text(encoding="utf-8").rstrip()
    # Only what follows the placeholder is the source as written.
    source = SCRIPT.read_text(encoding="utf-8")
    assert script.split("/*END*/", 1)[1] == source.split(PLACEHOLDER, 1)[1].rstrip()


def test_the_wiki_edit_mode_without_an_api() -> None:
    """No Join API: the gadget edits the page itself, and carries the page format of every
    language (as i18n/templates writes it) to read and write rows in the page's language."""
    pages = gadget_pages(None, "de")
    config = config_of(pages[SCRIPT_PAGE])
    assert config == gadget_config(None, "de")
    assert config["mode"] == "wiki-edit" and config["lang"] == "de"
    assert not {"apiUrl", "apiOrigin", "pollSeconds"} & set(config)
    assert config["messages"]["de"][PREFIX + "summary-join"] == load("de")[PREFIX + "summary-join"]
    formats = {entry["lang"]: entry for entry in config["formats"]}
    assert config["formats"][0]["lang"] == "en"
    assert formats["en"]["names"] == {name: name for name in formats["en"]["names"]}
    templates = PROJECT_ROOT / "i18n" / "templates"
    for path in templates.glob("*.json"):
        if path.stem in ("en", "qqq"):
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        entry = formats[path.stem]
        assert entry["namespace"] == data["template_namespace"]
        assert entry["values"] == data["values"]
        for key, local in entry["names"].items():
            assert local == data["templates"][key]["name"], key
        for key, params in entry["params"].items():
            assert params == data["templates"][key]["params"], key
    assert formats["de"]["names"]["Participant table row"] == "Teilnehmerzeile"
    assert {"username", "joined"} <= set(config["knownParams"]["Participant table row"])
    assert {"registration", "start", "end"} <= set(config["knownParams"]["Program details"])
    # Both modes' pages differ only in the script's configuration.
    joined = gadget_pages(API, "de")
    assert {t: v for t, v in pages.items() if t != SCRIPT_PAGE} == {
        t: v for t, v in joined.items() if t != SCRIPT_PAGE
    }


@pytest.mark.parametrize("api_url", [API, None])
def test_gadget_pages_are_stored_as_given(api_url: str | None) -> None:
    """MediaWiki trims trailing whitespace and runs the pre-save transform, on JS pages too."""
    for text in gadget_pages(api_url, "en").values():
        assert text == text.rstrip() and "\r" not in text
        assert "~~~" not in text
        assert not re.search(r"\{\{\s*(safe)?subst:", text, re.I)
        assert not re.search(r"\[\[[^\]]*\|\]\]", text)  # the pipe trick


def test_only_some_languages_on_request() -> None:
    config = gadget_config(API, "en", languages=["en"])
    assert set(config["messages"]) == {"en"}
    config = gadget_config(API, "en")
    assert set(config["messages"]) == {"en", *translations()}


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://example.org",
        "example.org",
        "https://",
        "https://example.org/?x=1",
        "https://example.org/#top",
        "https://user:pw@example.org",
        "https://example.org:99999",
        "https://exa mple.org",
    ],
)
def test_bad_api_urls_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError):
        gadget_pages(bad, "en")


def test_api_origin() -> None:
    assert api_origin("https://Tools.Example.org/programs") == "https://tools.example.org"
    assert api_origin("https://example.org:443/x") == "https://example.org"
    assert api_origin("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert api_origin("http://[::1]:8000/") == "http://[::1]:8000"


def test_the_configuration_cannot_break_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    evil = (
        "*/ alert(1) /* </script><script>alert(2)</script> <!-- --> ~~~~ {{subst:CURRENTYEAR}} "
        "[[Help:Contents|]] /*END*/ \u2028\u2029 \\ \" '"
    )
    texts = load("en")
    texts[PREFIX + "join"] = evil
    (tmp_path / "en.json").write_text(json.dumps({"@metadata": {}, **texts}), encoding="utf-8")
    monkeypatch.setattr(gadget, "MESSAGES_DIR", tmp_path)
    script = gadget_pages(API + "/a'b", "en")[SCRIPT_PAGE]
    head = script.split("/*END*/", 1)[0]
    for forbidden in ("</", "<!--", "*/", "~", "{{", "[[", "|", "\u2028", "\u2029"):
        assert forbidden not in head.removeprefix("var programsBotConfig = /*CONFIG*/"), forbidden
    config = config_of(script)
    assert config["messages"]["en"][PREFIX + "join"] == evil
    assert config["apiUrl"] == API + "/a'b"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_script_json_round_trips_and_stays_inert(value: Any) -> None:
    text = script_json(value)
    assert json.loads(text) == value
    for forbidden in ("<", ">", "&", "~", "|", "*/", "\u2028", "\u2029"):
        assert forbidden not in text
    assert not re.search(r"(?<!\\)/", text)  # every slash escaped


@given(st.text())
def test_a_string_never_shows_brackets(value: str) -> None:
    assert not set(script_json(value)) & set("[]{}")


def test_the_script_is_ecmascript_5() -> None:
    """MediaWiki 1.39 validates gadget scripts with JSMinPlus, which knows ES5 only: a
    script it cannot parse is replaced by an error on the wiki. Run that same parser."""
    php = shutil.which("php")
    if php is None or not JSMINPLUS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"php and {JSMINPLUS} required under CI=true", pytrace=False)
        pytest.skip(f"php or {JSMINPLUS} not available")
    code = (
        "require $argv[1]; $p = new JSParser();"
        " try { @$p->parse(stream_get_contents(STDIN), 'programs-bot.js', 1); echo 'ok'; }"
        " catch (Exception $e) { echo $e->getMessage(); }"
    )
    for script in (
        SCRIPT.read_text(encoding="utf-8"),
        gadget_pages(API, "de")[SCRIPT_PAGE],
        gadget_pages(None, "de")[SCRIPT_PAGE],
    ):
        result = subprocess.run(
            [php, "-r", code, str(JSMINPLUS)],
            input=script,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.stdout == "ok", result.stdout + result.stderr


def test_the_script_stops_on_pages_without_a_program() -> None:
    source = SCRIPT.read_text(encoding="utf-8")
    assert source.startswith("var programsBotConfig = " + PLACEHOLDER + ";\n")
    assert "!$( '.programs-bot-program' ).length" in source
    assert "mw.hook( 'wikipage.content' ).add(" in source


# -- MediaWiki:Gadgets-definition --------------------------------------------------------------


def parse_line(line: str) -> tuple[str, list[str], list[str]]:
    """Name, options and pages of a definition line, as the Gadgets extension reads it."""
    match = MW_GADGET.match(line)
    assert match, line
    options = [o.strip() for o in (match.group(2) or "").strip(" []").split("|") if o.strip()]
    pages = [p.strip() for p in match.group(3).split("|") if p.strip()]
    return match.group(1), options, pages


def test_definition_line_as_mediawiki_reads_it() -> None:
    name, options, pages = parse_line(definition_line())
    assert name == "programs-bot"
    assert pages == ["programs-bot.js", "programs-bot.css"]
    assert "ResourceLoader" in options and "default" in options and "actions=view" in options
    dependencies = next(o for o in options if o.startswith("dependencies="))
    assert dependencies.split("=", 1)[1].split(",") == list(gadget.DEPENDENCIES)
    assert {"mediawiki.api", "mediawiki.jqueryMsg", "mediawiki.util"} <= set(gadget.DEPENDENCIES)
    assert "mediawiki.ui.button" not in gadget.DEPENDENCIES  # deprecated in 1.41
    _, opt_in, _ = parse_line(definition_line(default=False))
    assert "default" not in opt_in
    assert [f"MediaWiki:Gadget-{page}" for page in pages] == [SCRIPT_PAGE, STYLE_PAGE]
    assert DEFINITION_PAGE.endswith(":Gadgets-definition")


def resource_modules(tree: Path) -> dict[str, str]:
    """Module name -> its definition, from a MediaWiki tree's resources/Resources.php."""
    source = (tree / "resources" / "Resources.php").read_text(encoding="utf-8")
    found = list(re.finditer(r"^\t'([^']+)' => \[", source, re.M))
    return {
        match[1]: source[match.end() : found[i + 1].start() if i + 1 < len(found) else None]
        for i, match in enumerate(found)
    }


@pytest.mark.parametrize("tree", [Path("/usr/share/mediawiki"), Path("/opt/mediawiki-1.43")])
def test_the_modules_exist_and_are_not_deprecated(tree: Path) -> None:
    """A dependency a wiki lacks stops the gadget from loading: the definition line names
    only modules that 1.39 and 1.43 both have, undeprecated. The buttons' styles are loaded
    by the script: Codex's where the wiki has it (1.43), else MediaWiki UI's (1.39)."""
    if not (tree / "resources" / "Resources.php").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"MediaWiki under {tree} required under CI=true", pytrace=False)
        pytest.skip(f"no MediaWiki under {tree}")
    modules = resource_modules(tree)
    for name in gadget.DEPENDENCIES:
        assert name in modules and "'deprecated'" not in modules[name], name
    if "codex-styles" in modules:
        assert "'deprecated'" not in modules["codex-styles"]
    else:  # the fallback, where the script finds no Codex
        assert "'deprecated'" not in modules["mediawiki.ui.button"]
    source = SCRIPT.read_text(encoding="utf-8")
    assert "mw.loader.getState( 'codex-styles' ) !== null" in source
    assert "mw.loader.load( 'mediawiki.ui.button' )" in source


def test_merge_into_an_empty_definition() -> None:
    merged = merge_definition("")
    assert merged == f"== programs-bot ==\n{definition_line()}"
    heading = MW_HEADING.match(merged.splitlines()[0])
    assert heading and heading.group(1) == "programs-bot"
    assert merge_definition(merged) == merged


EXISTING = (
    "== editing-gadgets ==\n"
    "* HotCat[ResourceLoader|default]|HotCat.js\n"
    "*  refTools [ResourceLoader | dependencies = mediawiki.util ] |refTools.js|refTools.css   \n"
    "<!-- * old[ResourceLoader]|old.js -->\n"
    "\n"
    "== appearance ==\n"
    "* dark-mode[ResourceLoader|type=styles]|dark-mode.css"
)


def test_merge_adds_a_section_and_keeps_every_other_line() -> None:
    merged = merge_definition(EXISTING)
    assert merged.startswith(EXISTING)
    assert merged == EXISTING + "\n\n== programs-bot ==\n" + definition_line()
    assert merge_definition(merged) == merged


def test_merge_replaces_the_line_in_place() -> None:
    old = "* programs-bot [ResourceLoader|default|dependencies=mediawiki.api]|programs-bot.js"
    text = EXISTING.replace("* HotCat", old + "\n* HotCat")
    merged = merge_definition(text)
    assert merged == text.replace(old, definition_line())
    assert merge_definition(merged) == merged


def test_merge_under_an_existing_heading_and_duplicates_removed() -> None:
    text = "== programs-bot ==\n\n== other ==\n* x[ResourceLoader]|x.js\n"
    assert merge_definition(text) == (
        f"== programs-bot ==\n{definition_line()}\n\n== other ==\n* x[ResourceLoader]|x.js\n"
    )
    twice = f"{definition_line()}\n* a|a.js\n* programs-bot|programs-bot.js\n* b|b.js"
    assert merge_definition(twice) == f"{definition_line()}\n* a|a.js\n* b|b.js"


def test_merge_keeps_a_community_s_choice() -> None:
    opt_in = f"== programs-bot ==\n{definition_line(default=False)}"
    assert merge_definition(opt_in) == opt_in
    assert merge_definition(opt_in, default=True) == f"== programs-bot ==\n{definition_line()}"
    # Commented out: the wiki switched the gadget off; deploying leaves it so.
    for off in (
        f"== programs-bot ==\n<!-- {definition_line()} -->\n* a|a.js",
        f"== programs-bot ==\n<!--\n{definition_line()}\n-->\n* a|a.js",
        "* a|a.js <!-- switched off:\n * programs-bot[ResourceLoader]|programs-bot.js -->",
    ):
        assert merge_definition(off) == off
    # A comment elsewhere does not hide a line that is in force.
    text = f"<!-- gadgets of this wiki -->\n{definition_line(default=False)}"
    assert (
        merge_definition(text, default=True)
        == f"<!-- gadgets of this wiki -->\n{definition_line()}"
    )


#: Any line (MediaWiki splits on \r and \n only; \x0c or \u2028 do not end a line there).
lines = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"),
    max_size=40,
).filter(lambda line: "programs-bot" not in line and "<!--" not in line)


@given(st.lists(lines, max_size=8), st.booleans())
def test_merge_keeps_other_lines_byte_for_byte(others: list[str], final_newline: bool) -> None:
    text = "\n".join(others) + ("\n" if final_newline and others else "")
    merged = merge_definition(text)
    kept = [line for line in merged.split("\n") if line != definition_line()]
    assert [line for line in kept if line not in ("", "== programs-bot ==")] == [
        line for line in others if line not in ("", "== programs-bot ==")
    ]
    assert merged.count(definition_line()) == 1
    assert merge_definition(merged) == merged
