"""Wikidata figures from Wikibase's edit summaries: the summaries as Wikibase writes them
(the autocomments of its API modules, messages wikibase-entity-summary-* in Wikibase's
lib/i18n/en.json), saved as real revisions on the local wiki, and the figures of a refresh
against the summaries read straight from the wiki's revision and comment tables."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.wikibase import WIKIDATA_FIGURES, action_figures, summary_action

#: (summary, figure it adds to, by how much): what the metric definitions say, written out
#: here on its own (not taken from the bot) so that the test checks the bot's table.
SUMMARIES = (
    ("/* wbeditentity-create-item:0| */", {"wikidata_items_created": 1}),
    ("/* wbeditentity-create:0| */ older Wikibase", {"wikidata_items_created": 1}),
    ("/* wbsetlabel-add:1|en */ Douglas Adams", {"wikidata_labels": 1}),
    ("/* wbsetdescription-add:1|de */ britischer Schriftsteller", {"wikidata_descriptions": 1}),
    ("/* wbsetaliases-add:3|en */ DNA, Doug, D. Adams", {"wikidata_aliases": 3}),
    ("/* wbsetsitelink-add:1|enwiki */ Douglas Adams", {"wikidata_sitelinks": 1}),
    ("/* wbsetsitelink-add-both:2|dewiki */ Douglas Adams, Q17437796", {"wikidata_sitelinks": 1}),
    ("/* wblinktitles-connect:2| */ enwiki:A, dewiki:B", {"wikidata_sitelinks": 1}),
    (
        "/* wblinktitles-create:2| */ enwiki:C, dewiki:D",
        {"wikidata_items_created": 1, "wikidata_sitelinks": 2},
    ),
    ("/* wbcreateclaim-create:1| */ [[Property:P31]]: [[Q5]]", {"wikidata_statements": 1}),
    ("/* wbsetclaim-create:2||1 */ [[Property:P569]]: 11 March 1952", {"wikidata_statements": 1}),
    ("/* wbmergeitems-from:0||Q123 */", {"wikidata_merges": 1}),
    # Not counted: the other side of a merge, updates, changes and removals, and plain text.
    ("/* wbmergeitems-to:0||Q456 */", {}),
    ("/* wbeditentity-update:0| */", {}),
    ("/* wbsetlabel-set:1|en */ New label", {}),
    ("/* wbsetaliases-remove:1|en */ Doug", {}),
    ("/* wbremoveclaims-remove:1| */ [[Property:P31]]: [[Q5]]", {}),
    ("/* History */ wbsetlabel-add:1|en", {}),
    # Reverts: the reverting edit adds nothing, and the edit it reverted keeps counting.
    ("Undid revision 123 by [[Special:Contributions/Bob|Bob]] ([[User talk:Bob|talk]])", {}),
    ("Reverted edits by [[Special:Contributions/Bob|Bob]] to last revision by Alice", {}),
    ("wbsetlabel-add", {}),
)


def test_each_summary_adds_what_the_definition_says() -> None:
    for summary, adds in SUMMARIES:
        assert dict(action_figures(summary_action(summary))) == adds, summary
    assert set(WIKIDATA_FIGURES) >= {f for _, adds in SUMMARIES for f in adds}


pywikibot = pytest.importorskip("pywikibot")

from bot.jobs.refresh import Refresher  # noqa: E402
from bot.store import Store  # noqa: E402
from harness import Farm, LocalWiki, program_page  # noqa: E402

TITLE = "Project:Wikidata program"
PEOPLE = ("Alice", "Bob")
_AUTOCOMMENT = re.compile(r"^/\* ([a-z-]+):(\d+)")


def db_figures(wiki: LocalWiki, users: tuple[str, ...], since: str) -> dict[str, dict[str, int]]:
    """Per participant, the figures from the summaries in the wiki's tables."""
    temp = wiki.sql("SELECT 1 FROM sqlite_master WHERE name = 'revision_comment_temp'")
    comment = (
        "JOIN revision_comment_temp t ON t.revcomment_rev = r.rev_id"
        " JOIN comment c ON c.comment_id = t.revcomment_comment_id"
        if temp
        else "JOIN comment c ON c.comment_id = r.rev_comment_id"
    )
    marks = ",".join("?" for _ in users)
    rows = wiki.sql(
        "SELECT a.actor_name, c.comment_text FROM revision r"
        " JOIN actor a ON a.actor_id = r.rev_actor " + comment + f" WHERE a.actor_name IN ({marks})"
        " AND r.rev_timestamp >= ?",
        (*users, since),
    )
    # Deleted pages' revisions, with their summaries, are in the archive.
    rows += wiki.sql(
        "SELECT a.actor_name, c.comment_text FROM archive ar"
        " JOIN actor a ON a.actor_id = ar.ar_actor"
        " JOIN comment c ON c.comment_id = ar.ar_comment_id"
        f" WHERE a.actor_name IN ({marks}) AND ar.ar_timestamp >= ?",
        (*users, since),
    )
    by_summary = {summary: adds for summary, adds in SUMMARIES}
    figures = {user: dict.fromkeys(WIKIDATA_FIGURES, 0) for user in users}
    for user, summary in rows:
        for figure, n in by_summary.get(str(summary), {}).items():
            figures[user][figure] += n
    return figures


@pytest.mark.wiki
def test_wikidata_figures_match_the_summaries_in_the_tables(
    wikis: Farm, participant: Callable[..., Any], tmp_path: Path
) -> None:
    wiki = wikis.content
    alice, bob, carol = participant("Alice"), participant("Bob"), participant("Carol")
    since = (datetime.now(UTC) - timedelta(seconds=5)).strftime("%Y%m%d%H%M%S")
    for number, (summary, _) in enumerate(SUMMARIES):
        who = alice if number % 2 == 0 else bob
        who.edit(f"Q{1000 + number}", f"Item {number}", summary)
    carol.edit("Q999", "Not a participant", SUMMARIES[0][0])  # not listed: not counted
    admin = participant("Admin")
    page = program_page(
        PEOPLE, [wiki.host], name="Wikidata", organizer="Admin", goals="wikidata_aliases: 4"
    )
    admin.edit(TITLE, page, "program")
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    site = pywikibot.Site(wiki.name, wiki.name)
    result = Refresher(store).refresh(pywikibot.Page(site, TITLE))

    expected = db_figures(wiki, PEOPLE, since)
    for user in PEOPLE:
        counts = result.outcomes.per_user[user]
        assert {f: getattr(counts, f) for f in WIKIDATA_FIGURES} == expected[user], user
    total = {f: sum(expected[u][f] for u in PEOPLE) for f in WIKIDATA_FIGURES}
    assert {f: getattr(result.outcomes.total, f) for f in WIKIDATA_FIGURES} == total
    assert total["wikidata_items_created"] == 3 and total["wikidata_sitelinks"] == 5
    text = admin.get_text(TITLE) or ""
    for figure, n in total.items():
        assert f"|{figure}={n}|" in text
    assert "{{Program goal|goal=wikidata_aliases|target=4|reached=3}}" in text

    # An item deleted after it was counted keeps counting (as deleted articles do).
    wiki.admin_client().delete("Q1000", "test")
    again = Refresher(store).refresh(pywikibot.Page(site, TITLE), full=True)
    assert {f: getattr(again.outcomes.total, f) for f in WIKIDATA_FIGURES} == total
    assert again.outcomes.total.deleted == 1
    assert db_figures(wiki, PEOPLE, since) == expected

    # New summaries since: an incremental refresh comes to what a full recount does.
    bob.edit("Q2000", "More", "/* wbsetlabel-add:1|fr */ Douglas Adams")
    alice.edit("Q2001", "More", "/* wbsetaliases-add:2|fr */ DA, Adams")
    incremental = Refresher(store).refresh(pywikibot.Page(site, TITLE), full=False)
    full = Refresher(store).refresh(pywikibot.Page(site, TITLE), full=True)
    assert incremental.outcomes.total == full.outcomes.total
    assert full.outcomes.total.wikidata_labels == total["wikidata_labels"] + 1
    assert full.outcomes.total.wikidata_aliases == total["wikidata_aliases"] + 2


@pytest.mark.wiki
def test_no_wikidata_figures_on_a_program_without_any(
    wikis: Farm, participant: Callable[..., Any], tmp_path: Path
) -> None:
    participant("Alice").edit("Plain article", "Text.<ref>r</ref>", "/* History */ plain")
    today = datetime.now(UTC).date()
    admin = participant("Admin")
    admin.edit(
        TITLE,
        "{{Program details\n|name=Plain\n|organizer=Admin\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={wikis.content.host}\n}}}}\n"
        "{{Participants table}}\n{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{End of participants table}}\n",
        "program",
    )
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    Refresher(Store(f"sqlite:///{tmp_path / 's.sqlite'}")).refresh(pywikibot.Page(site, TITLE))
    text = admin.get_text(TITLE) or ""
    assert "|references_added=1|" in text
    assert "wikidata_" not in text

    # A goal for a Wikidata figure: the figures are written, at zero too, for the goal's row
    # and for the gadget reading the page.
    admin.edit(
        TITLE,
        text.replace(
            "}}\n{{Participants table}}",
            "|goals=wikidata items created: 2\n}}\n{{Participants table}}",
            1,
        ),
        "goal",
    )
    Refresher(Store(f"sqlite:///{tmp_path / 's.sqlite'}")).refresh(pywikibot.Page(site, TITLE))
    text = admin.get_text(TITLE) or ""
    assert "|wikidata_items_created=0|" in text
    assert "{{Program goal|goal=wikidata_items_created|target=2|reached=0}}" in text
