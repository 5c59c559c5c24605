"""The wiki templates of the page format (wikitemplates/): documentation and real rendering.

The pure tests read the template files: each carries valid TemplateData documenting exactly
the parameters of the page format, and says which parameters the bot fills in.

The ``wiki`` tests save every template and the example program page onto the content wiki
of the ``wikis`` fixture (MediaWiki 1.39 with ParserFunctions and TemplateData), render with
``action=parse`` and check the HTML MediaWiki really produced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = ROOT / "wikitemplates" / "templates"
EXAMPLE_PAGE = ROOT / "wikitemplates" / "example-program.wikitext"
README = ROOT / "docs" / "page-format.md"

ROW_STATS = ("edits", "articles_edited", "articles_created", "bytes_added", "uploads")
OUTCOME_FIELDS = (
    "edits",
    "mainspace_edits",
    "articles_edited",
    "articles_created",
    "bytes_added",
    "uploads",
    "deleted",
)
EXTRA_FIELDS = (
    "new_editors",
    "retained_7",
    "retained_30",
    "file_usage",
    "pageviews",
    "pageviews_created",
    "pageviews_improved",
)
CONTENT_FIELDS = (
    "references_added",
    "wikidata_items_created",
    "wikidata_statements",
    "wikidata_labels",
    "wikidata_descriptions",
    "wikidata_aliases",
    "wikidata_sitelinks",
    "wikidata_merges",
)
DETAILS_PARAMS = (
    "name",
    "organizer",
    "facilitators",
    "start",
    "end",
    "wikis",
    "registration",
    "campaign",
    "categories",
    "category_depth",
    "templates",
    "articles",
    "count_facilitators",
    "event_registration",
    "hashtags",
    "goals",
)

#: Template (page title without "Template:") -> (organizer-owned params, bot-owned params).
FORMAT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Program details": (DETAILS_PARAMS, ()),
    "Participants table": ((), ()),
    "Participant table row": (("username", "joined"), ROW_STATS),
    "End of participants table": ((), ()),
    "Program outcomes": (
        (),
        ("computed", "participants", "sentence", *CONTENT_FIELDS, *EXTRA_FIELDS),
    ),
    "Program outcomes row": ((), ("wiki", "wiki_name", *OUTCOME_FIELDS)),
    "Program deleted article": ((), ("wiki", "title")),
    "Program source participant": ((), ("source", "username", *ROW_STATS)),
    "Program goal": ((), ("goal", "target", "reached")),
    "Program activity": ((), ("period", "max", "columns")),
    "Program activity row": ((), ("start", "edits", "articles", "max", "columns")),
    "Program notice": ((), ("message",)),
    "End of program outcomes": ((), ()),
}

CAMPAIGN_FIGURES = (
    "participants",
    "edits",
    "articles_edited",
    "articles_created",
    "bytes_added",
    "uploads",
)

#: The campaign page: its details and the bot-owned programs block (bot/campaign.py).
CAMPAIGN_TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Campaign details": (("name", "start", "end", "description"), ()),
    "Campaign programs": ((), ("computed", "participants", "sentence")),
    "Campaign program row": ((), ("program", *CAMPAIGN_FIGURES)),
    "Campaign notice": ((), ("message",)),
    "End of campaign programs": ((), ()),
}

#: Templates outside the program page: user pages, article talk pages, course timelines,
#: campaign pages.
OTHER_TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Participant editor": (("program", "role"), ()),
    "Program instructor": (("program", "role"), ()),
    "Program assignment": (("program", "user", "term"), ()),
    "Start of program timeline": ((), ()),
    "Start of program week": (("number", "title", "start"), ()),
    "End of program week": ((), ()),
    "Program metric definitions": ((), ()),
    **CAMPAIGN_TEMPLATES,
}

#: Every English template file in wikitemplates/templates/.
TEMPLATES = {**FORMAT, **OTHER_TEMPLATES}

# What the TemplateData extension (1.39) accepts; see TemplateDataValidator.php.
TEMPLATEDATA_TYPES = {
    "content",
    "line",
    "number",
    "boolean",
    "string",
    "date",
    "unbalanced-wikitext",
    "unknown",
    "url",
    "wiki-page-name",
    "wiki-user-name",
    "wiki-file-name",
    "wiki-template-name",
}
TEMPLATEDATA_ROOT_KEYS = {"description", "params", "paramOrder", "sets", "maps", "format"}
TEMPLATEDATA_PARAM_KEYS = {
    "label",
    "required",
    "suggested",
    "description",
    "example",
    "deprecated",
    "aliases",
    "autovalue",
    "default",
    "inherits",
    "type",
    "suggestedvalues",
}

TEMPLATEDATA_RE = re.compile(r"<templatedata>(.*?)</templatedata>", re.S)
NOINCLUDE_RE = re.compile(r"<noinclude>.*?</noinclude>", re.S)


def template_files() -> dict[str, Path]:
    return {path.stem: path for path in sorted(TEMPLATES_DIR.glob("*.wikitext"))}


def templatedata(name: str) -> dict[str, Any]:
    text = template_files()[name].read_text(encoding="utf-8")
    blocks = TEMPLATEDATA_RE.findall(text)
    assert len(blocks) == 1, f"{name}: expected one <templatedata> block, found {len(blocks)}"
    data = json.loads(blocks[0])
    assert isinstance(data, dict)
    return data


def transcluded_part(name: str) -> str:
    """What a page including the template gets (the <noinclude> parts removed)."""
    text = template_files()[name].read_text(encoding="utf-8")
    return NOINCLUDE_RE.sub("", text)


# -- pure tests: the files ---------------------------------------------------------------


def test_one_file_per_template_of_the_format() -> None:
    assert set(template_files()) == set(TEMPLATES)


def test_template_names_and_params_match_the_bots_page_format() -> None:
    """The bot's parser (bot/pageformat.py) and these templates describe the same format."""
    pageformat = pytest.importorskip("bot.core.pageformat")
    english = pageformat.ENGLISH
    names = {
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
    assert names == set(FORMAT)
    assert set(pageformat.DETAILS_PARAMS) == set(DETAILS_PARAMS)
    assert set(pageformat.ROW_PARAMS) == {"username", "joined", *ROW_STATS}
    assert tuple(pageformat.OUTCOME_FIELDS) == OUTCOME_FIELDS
    assert tuple(pageformat.CONTENT_FIELDS) == CONTENT_FIELDS


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_templatedata_is_valid_and_documents_every_parameter(name: str) -> None:
    data = templatedata(name)
    assert set(data) <= TEMPLATEDATA_ROOT_KEYS
    assert isinstance(data.get("description"), str) and data["description"]
    assert data.get("format") in {"inline", "block"}
    params = data["params"]
    assert isinstance(params, dict)
    organizer_owned, bot_owned = TEMPLATES[name]
    assert set(params) == {*organizer_owned, *bot_owned}
    for param_name, param in params.items():
        where = f"{name}.{param_name}"
        assert set(param) <= TEMPLATEDATA_PARAM_KEYS, where
        assert isinstance(param.get("label"), str) and param["label"], where
        assert isinstance(param.get("description"), str) and param["description"], where
        assert param.get("type") in TEMPLATEDATA_TYPES, where
        for flag in ("required", "suggested"):
            assert isinstance(param.get(flag, False), bool), where
        for value in param.get("suggestedvalues", []):
            assert isinstance(value, str), where
        said_bot = "filled in by the bot" in param["description"].lower()
        assert said_bot == (param_name in bot_owned), f"{where}: ownership not described"
    if "paramOrder" in data:
        assert sorted(data["paramOrder"]) == sorted(params)
    if name == "Program details":
        assert [p for p, v in params.items() if v.get("required")] == [
            "organizer",
            "start",
            "end",
            "wikis",
        ]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_templates_need_no_lua_and_take_only_format_params(name: str) -> None:
    body = transcluded_part(name)
    assert "#invoke" not in body
    organizer_owned, bot_owned = TEMPLATES[name]
    used = set(re.findall(r"\{\{\{([^{}|]+)[|}]", body))
    assert used <= {*organizer_owned, *bot_owned}, used
    # Everything shown comes from the page only when it is transcluded.
    assert body.startswith("<includeonly>") and body.rstrip().endswith("</includeonly>")


def test_readme_documents_every_template_and_parameter() -> None:
    readme = README.read_text(encoding="utf-8")
    for name, (organizer_owned, bot_owned) in TEMPLATES.items():
        assert f"{{{{{name}" in readme, name
        for param in (*organizer_owned, *bot_owned):
            assert f"`{param}`" in readme, f"{name}: {param}"


def test_example_page_reads_cleanly_with_the_bots_parser() -> None:
    pytest.importorskip("mwparserfromhell")
    program_page = pytest.importorskip("bot.core.program_page")
    page = program_page.parse_program_page(EXAMPLE_PAGE.read_text(encoding="utf-8"))
    assert page.notices == ()
    assert [row.username for row in page.rows] == ["Alice", "Bob"]
    assert page.details.wikis == ("en.wikipedia.org", "commons.wikimedia.org")


# -- the rendered HTML ---------------------------------------------------------------------

VOID_TAGS = {"br", "hr", "img", "input", "link", "meta", "wbr", "col", "source"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Element | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self, tag: str | None = None, cls: str | None = None) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                    yield child
                yield from child.iter(tag, cls)

    def find(self, tag: str | None = None, cls: str | None = None) -> Element:
        found = list(self.iter(tag, cls))
        assert len(found) == 1, f"expected one <{tag} class={cls}>, found {len(found)}"
        return found[0]

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join("".join(parts).split())

    def rows(self) -> list[Element]:
        """The table's own <tr> elements (not those of nested tables)."""
        return [tr for tr in self.iter("tr") if tr.ancestor("table") is self]

    def cells(self) -> list[Element]:
        return [c for c in self.children if isinstance(c, Element) and c.tag in ("td", "th")]

    def ancestor(self, tag: str) -> Element | None:
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID_TAGS:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def html_tree(html: str) -> Element:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def parse(api_url: str, **params: str) -> dict[str, Any]:
    """``action=parse`` (anonymously, which needs no login) of a page or of a text."""
    data = {
        "action": "parse",
        "prop": "text|categories",
        "disablelimitreport": "1",
        "format": "json",
        "formatversion": "2",
        **params,
    }
    response = requests.post(api_url, data=data, timeout=60)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    assert "error" not in body, body
    result: dict[str, Any] = body["parse"]
    return result


def categories(parsed: dict[str, Any]) -> set[str]:
    return {c["category"] for c in parsed["categories"]}


def assert_no_errors(html: str, *, all_templates_exist: bool = True) -> None:
    assert 'class="error' not in html
    for phrase in ("Lua error", "Script error", "Parser error", "Invalid time", "Expression error"):
        assert phrase.lower() not in html.lower(), phrase
    if all_templates_exist:  # a missing template shows as a red link
        assert not re.search(r'<a [^>]*class="new"[^>]*title="Template:', html)


def install_templates(wikis: Any) -> Any:
    client = wikis.content.admin_client()
    for name, path in template_files().items():
        client.edit(f"Template:{name}", path.read_text(encoding="utf-8"), summary="test")
    return client


EXAMPLE_TITLE = "Women in Science edit-a-thon"
DASH = "\u2013"  # the en dash between dates, and shown for a row without a user name


@pytest.mark.wiki
def test_templates_save_with_templatedata_and_are_not_categorized(wikis: Any) -> None:
    client = install_templates(wikis)
    api = wikis.content.api_url
    for name in TEMPLATES:
        assert client.get_text(f"Template:{name}") is not None
        parsed = parse(api, page=f"Template:{name}")
        assert categories(parsed) == set(), name
        # (Links between the documentation pages may be cached red: saved in turn.)
        assert_no_errors(parsed["text"], all_templates_exist=False)
    # The TemplateData extension stored each block (it answers per page).
    titles = "|".join(f"Template:{name}" for name in TEMPLATES)
    body = requests.get(
        api,
        params={"action": "templatedata", "titles": titles, "format": "json", "formatversion": "2"},
        timeout=60,
    ).json()
    stored = {page["title"]: page for page in body["pages"].values()}
    assert set(stored) == {f"Template:{name}" for name in TEMPLATES}
    for name, (organizer_owned, bot_owned) in TEMPLATES.items():
        assert set(stored[f"Template:{name}"]["params"]) == {*organizer_owned, *bot_owned}


@pytest.mark.wiki
def test_templatedata_extension_rejects_invalid_json(wikis: Any) -> None:
    """The control for the test above: with the extension loaded, bad JSON cannot be saved."""
    client = wikis.content.admin_client()
    broken = '<noinclude><templatedata>{"params": {"a": {,}}}</templatedata></noinclude>'
    with pytest.raises(Exception, match="templatedata-invalid"):
        client.edit("Template:Broken documentation", broken)
    assert client.get_text("Template:Broken documentation") is None


@pytest.mark.wiki
def test_example_program_page_renders(wikis: Any) -> None:
    client = install_templates(wikis)
    client.edit(EXAMPLE_TITLE, EXAMPLE_PAGE.read_text(encoding="utf-8"), summary="test")
    parsed = parse(wikis.content.api_url, page=EXAMPLE_TITLE)
    html = parsed["text"]
    assert_no_errors(html)
    assert categories(parsed) == {"Programs"}
    tree = html_tree(html)

    # Program details: the gadget's wrapper and the infobox.
    wrapper = tree.find("div", "programs-bot-program")
    assert wrapper.attrs["data-start"] == "2026-11-01"
    assert wrapper.attrs["data-end"] == "2026-11-30"
    assert wrapper.attrs["data-registration"] == "open"
    assert wrapper.attrs["data-wikis"] == "en.wikipedia.org, commons.wikimedia.org"
    details = wrapper.find("table", "programs-bot-details")
    assert details.find("caption").text() == "Women in Science edit-a-thon"
    info = {row.cells()[0].text(): row.cells()[-1] for row in details.rows()}
    assert info["Dates"].text() == f"1 November 2026 {DASH} 30 November 2026"
    assert "User:Alice" in info["Organizer"].find("a").attrs["href"]
    assert info["Facilitators"].text().startswith("Carol, Dave")
    assert info["Wikis"].text() == "en.wikipedia.org, commons.wikimedia.org"
    assert info["Registration"].text().startswith("Open")
    assert info["Campaign"].text() == "Wiki Science 2026"
    assert info["Categories"].text().startswith("Women scientists, Physicists")
    assert "1 level" in info["Categories"].text()
    assert info["Pages using"].text() == "Infobox scientist"
    assert info["Articles"].text() == "Marie Curie, Lise Meitner"

    # Participants: a header row plus one row per participant.
    participants = tree.find("table", "programs-bot-participants")
    assert "sortable" in participants.classes and "wikitable" in participants.classes
    header, *rows = participants.rows()
    assert [c.text() for c in header.cells()] == [
        "Participant",
        "Joined",
        "Edits",
        "Articles edited",
        "Articles created",
        "Bytes added",
        "Uploads",
    ]
    assert all(c.tag == "th" and c.attrs.get("title") for c in header.cells()[1:])
    assert len(rows) == 2
    alice, bob = rows
    links = {a.text(): a.attrs["href"] for a in alice.iter("a")}
    assert "User:Alice" in links["Alice"]
    assert "Special:Contributions/Alice" in links["contribs"]
    assert [c.text() for c in alice.cells()][1:] == ["2026-11-01", "12", "3", "1", "4,500", "2"]
    assert all("text-align:right" in c.attrs.get("style", "") for c in alice.cells()[2:])
    assert "User:Bob" in next(bob.iter("a")).attrs["href"]
    assert [c.text() for c in bob.cells()][1:] == ["2026-11-02", "", "", "", "", ""]
    # A row the bot has not counted (no figures) says so; dates stay on one line.
    assert "programs-bot-uncounted" in bob.classes and "programs-bot-uncounted" not in alice.classes
    assert bob.find(cls="programs-bot-uncounted-note").text() == "not counted"
    assert bob.cells()[0].text().endswith("(contribs) not counted")
    assert not list(alice.iter(cls="programs-bot-uncounted-note"))
    assert all("white-space:nowrap" in row.cells()[1].attrs.get("style", "") for row in rows)

    # Outcomes: sentence, computation time, per-wiki rows, total, deleted article, notice.
    assert tree.find(cls="programs-bot-outcomes-title").text() == "Outcomes"
    assert tree.find(cls="programs-bot-outcomes-sentence").text() == (
        "3 people joined Women in Science edit-a-thon. During the event the group made 12"
        " edits to 3 English Wikipedia articles and 2 edits on Wikimedia Commons. The group"
        " created 1 new English Wikipedia article and uploaded 2 files to Wikimedia Commons."
    )
    assert tree.find(cls="programs-bot-content").text() == "References added: 7."
    assert (
        "Computed at 25 November 2026, 06:00 (UTC)" in tree.find(cls="programs-bot-computed").text()
    )
    outcomes = tree.find("table", "programs-bot-outcomes")
    header, *rows = outcomes.rows()
    assert [c.text() for c in header.cells()] == [
        "Wiki",
        "Edits",
        "Mainspace edits",
        "Articles edited",
        "Articles created",
        "Bytes added",
        "Uploads",
        "Deleted articles",
    ]
    assert len(rows) == 11
    en, commons, total, goal, _, erin, deleted, activity, first_day, second_day, notice = rows
    # A goal: the figure, a bar filled to the share reached, and the numbers.
    assert "programs-bot-goal" in goal.classes
    assert goal.cells()[0].text() == "Goal: articles created1 of 5 (20%)"
    styles = [span.attrs.get("style", "") for span in goal.cells()[0].iter("span")]
    bar = [style for style in styles if "3366cc" in style]
    assert len(bar) == 1 and "width:20%" in bar[0]
    # A wiki is shown by its name, its host in the tooltip.
    assert en.cells()[0].find("span").attrs["title"] == "en.wikipedia.org"
    assert [c.text() for c in en.cells()] == [
        "English Wikipedia",
        "12",
        "10",
        "3",
        "1",
        "4,500",
        "0",
        "1",
    ]
    assert commons.cells()[0].text() == "Wikimedia Commons"
    assert "programs-bot-total" in total.classes
    assert "font-weight:bold" in total.attrs.get("style", "").replace(" ", "")
    assert total.cells()[0].find("b").text() == "Total"
    assert [c.text() for c in total.cells()][1:] == ["14", "10", "3", "1", "4,500", "2", "1"]
    # A participant without a row (from the Event Registration), with their figures.
    assert "programs-bot-source-participant" in erin.classes
    assert erin.cells()[0].text() == "Erin (Event Registration)"
    assert "User:Erin" in erin.cells()[0].find("a").attrs["href"]
    # The activity chart: a head with the legend, then a bar per day scaled to the busiest.
    assert "programs-bot-activity" in activity.classes
    assert activity.cells()[0].text().startswith("Activity per day")
    assert "programs-bot-activity-row" in first_day.classes
    assert first_day.cells()[0].text() == "1 Nov 2026"
    assert first_day.cells()[1].text() == "12 edits3 articles"  # two lines: two bars

    def widths(row: Element) -> list[str]:
        styles = [span.attrs.get("style", "") for span in row.cells()[1].iter("span")]
        found = [re.search(r"(?:^|;)\s*width:\s*([^;]+)", style) for style in styles]
        return [match[1] for match in found if match]

    assert widths(first_day) == ["80%", "20%"]
    assert widths(second_day) == ["13.3%", "0%"]
    assert "programs-bot-deleted" in deleted.classes
    (cell,) = deleted.cells()
    assert cell.attrs["colspan"] == "8"
    assert cell.text() == "Deleted since counted: Some deleted page (en.wikipedia.org)"
    assert "programs-bot-notice" in notice.classes
    (cell,) = notice.cells()
    assert cell.attrs["colspan"] == "8"
    assert "background:#fef6e7" in cell.attrs.get("style", "").replace(" ", "")
    assert 'User "Zed" does not exist on any listed wiki' in cell.text()


@pytest.mark.wiki
def test_bad_values_show_raw_without_errors(wikis: Any) -> None:
    install_templates(wikis)
    text = EXAMPLE_PAGE.read_text(encoding="utf-8")
    text = text.replace("|start=2026-11-01\n", "|start=next monday\n")
    text = text.replace("|end=2026-11-30\n", "|end=2026-02-30T10:00Z\n")
    text = text.replace("|registration=open\n", "|registration=\n")
    text = text.replace(
        "{{End of participants table}}",
        "{{Participant table row|username=|joined=|edits=|articles_edited=|"
        "articles_created=|bytes_added=|uploads=}}\n{{End of participants table}}",
    )
    parsed = parse(wikis.content.api_url, text=text, title="Bad dates", contentmodel="wikitext")
    html = parsed["text"]
    assert_no_errors(html)
    assert categories(parsed) == {"Programs"}
    tree = html_tree(html)
    wrapper = tree.find("div", "programs-bot-program")
    assert wrapper.attrs["data-start"] == "next monday"
    assert wrapper.attrs["data-end"] == "2026-02-30T10:00Z"
    assert wrapper.attrs["data-registration"] == "open"  # the bot's default
    details = wrapper.find("table", "programs-bot-details")
    info = {row.cells()[0].text(): row.cells()[-1] for row in details.rows()}
    invalid = [span.text() for span in info["Dates"].iter("span", "programs-bot-invalid")]
    assert invalid == ["next monday", "2026-02-30T10:00Z"]
    assert "November" not in info["Dates"].text() and "March" not in info["Dates"].text()
    assert info["Registration"].text().startswith("Open")

    # A row without a user name: a dash, no link to a user page.
    participants = tree.find("table", "programs-bot-participants")
    _header, *rows = participants.rows()
    assert len(rows) == 3
    empty = rows[-1]
    assert empty.cells()[0].text() == DASH
    assert list(empty.iter("a")) == []


@pytest.mark.wiki
def test_a_goal_shows_100_percent_only_when_reached_and_new_figures_read(wikis: Any) -> None:
    install_templates(wikis)
    text = (
        "{|\n{{Program goal|goal=references_added|target=200|reached=199}}\n"
        "{{Program goal|goal=wikidata_items_created|target=3|reached=3}}\n|}"
    )
    parsed = parse(wikis.content.api_url, text=text, title="Goals", contentmodel="wikitext")
    assert_no_errors(parsed["text"])
    rows = [row.cells()[0].text() for row in html_tree(parsed["text"]).find("table").rows()]
    assert rows == [
        "Goal: references added199 of 200 (99%)",
        "Goal: Wikidata items created3 of 3 (100%)",
    ]


@pytest.mark.wiki
def test_dates_with_times_and_lists(wikis: Any) -> None:
    install_templates(wikis)
    text = (
        "{{Program details|name=Timed|organizer=Dave|facilitators=Eve|"
        "start=2026-11-01T09:00|end=2026-11-30 18:30:15Z|wikis=127.0.0.1:8080|"
        "registration=Closed|count_facilitators=yes}}"
    )
    parsed = parse(wikis.content.api_url, text=text, title="Timed", contentmodel="wikitext")
    assert_no_errors(parsed["text"])
    details = html_tree(parsed["text"]).find("table", "programs-bot-details")
    info = {row.cells()[0].text(): row.cells()[-1] for row in details.rows()}
    assert info["Dates"].text() == (
        f"1 November 2026, 09:00 (UTC) {DASH} 30 November 2026, 18:30:15 (UTC)"
    )
    assert "User:Eve" in info["Facilitators"].find("a").attrs["href"]
    assert "Counted as participants" in info["Facilitators"].text()
    assert info["Registration"].text().startswith("Closed")
    assert "Categories" not in info and "Articles" not in info


DATE_SAMPLES = (
    "2026-11-01",
    "2026-11-01Z",
    "2026-11-01 UTC",
    "2026-11-01T09:00",
    "2026-11-01 09:00",
    "2026-11-01t09:00z",
    "2026-11-01T09:00:30Z",
    "2026-11-01 09:00 +00:00",
    "2026-11-01T09:00+02:00",
    "2026-11-01T25:00",
    "2026-02-30",
    "2026-11-1",
    "1 November 2026",
    "next monday",
    "now",
)


@pytest.mark.wiki
def test_template_accepts_the_same_dates_as_the_bot(wikis: Any) -> None:
    """A date the box shows as valid is one the bot reads (bot/dates.py), and vice versa."""
    dates = pytest.importorskip("bot.core.dates")
    install_templates(wikis)
    text = "\n".join(
        f"{{{{Program details|start={value}|end=2026-12-31}}}}" for value in DATE_SAMPLES
    )
    parsed = parse(wikis.content.api_url, text=text, title="Dates", contentmodel="wikitext")
    assert_no_errors(parsed["text"])
    boxes = list(html_tree(parsed["text"]).iter("table", "programs-bot-details"))
    assert len(boxes) == len(DATE_SAMPLES)
    shown_valid = {}
    for value, box in zip(DATE_SAMPLES, boxes, strict=True):
        info = {row.cells()[0].text(): row.cells()[-1] for row in box.rows()}
        shown_valid[value] = not list(info["Dates"].iter("span", "programs-bot-invalid"))
    bot_valid = {
        value: dates.parse_moment(value, end_of_day=False) is not None for value in DATE_SAMPLES
    }
    assert shown_valid == bot_valid
