"""The grant report (docs/metrics.md#grant-report): its rows from report tables, and on the
real wikis a program and a campaign of two programs sharing a participant and an article,
every figure against the wikis' own tables, from the command line and from the Join API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.exports import program_tables
from bot.core.grant_report import (
    GRANT_METRICS,
    NOT_FOR_CAMPAIGNS,
    NOT_TRACKED,
    NOT_YET_KNOWN,
    grant_json,
    grant_report,
    grant_wikitext,
)
from bot.core.messages import Messages
from bot.core.metrics import compute_outcomes
from harness import Farm, program_page, tiny_png
from harness.wiki import LocalWiki
from test_metrics import WIKI_A, WIKI_B, WINDOW

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = json.loads((ROOT / "i18n" / "bot" / "en.json").read_text(encoding="utf-8"))


def label(key: str) -> str:
    return str(ENGLISH[f"programs-bot-grant-{key}"])


def test_rows_from_a_programs_tables_without_its_full_count() -> None:
    # The fixture: Page 1 (created by Alice, edited by Bob), Page 2 (improved), Page 4
    # (created, deleted since) on a.example.org; Other page 1 (created) on b.example.org;
    # File:A.png and File:C.png uploaded (tests/test_metrics.py).
    outcomes = compute_outcomes(["Alice", "Bob", "Carol"], WINDOW, [WIKI_A, WIKI_B])
    report = grant_report(program_tables(outcomes, [WIKI_A, WIKI_B], WINDOW))
    assert [row.key for row in report.rows] == list(GRANT_METRICS)
    assert report.projects == ("a.example.org", "b.example.org")
    created = report.row("articles_created")
    assert created.per_project == {"a.example.org": 2, "b.example.org": 1}
    assert created.value == outcomes.total.articles_created == 3
    improved = report.row("articles_improved")
    assert improved.per_project == {"a.example.org": 1, "b.example.org": 0}
    assert report.row("content_contributions").value == 3 + 1 + 2
    assert report.row("editors").value == 2  # Carol made no edit
    # Without a full count's extras (an incremental update), new editors are not known.
    assert report.row("new_editors").missing == NOT_YET_KNOWN
    assert report.row("organizers").value is None
    assert report.row("organizers").missing == NOT_TRACKED

    text = grant_wikitext(report, "Project:A <b>", Messages())
    assert text.startswith('{| class="wikitable"\n|+ Grant report: <nowiki>Project:A &lt;b>')
    assert f"| {label('articles_created')} || 3 || 2 || 1\n" in text
    assert f"| {label('organizers')} || ''not tracked'' ||  || \n" in text
    data = grant_json(report, Messages("de"))
    assert data["metrics"][0] == {
        "key": "participants",
        "label": "Teilnehmende",
        "value": 3,
        "missing": None,
        "per_project": None,
    }


# -- on the real wikis --------------------------------------------------------------------

pywikibot = pytest.importorskip("pywikibot")


def program_text(farm: Farm, users: Sequence[str], start: Any, end: Any) -> str:
    hosts = [farm.content.host, farm.media.host]
    return program_page(users, hosts, start=start, end=end, campaign="Drive")


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def editors_in_db(
    wikis: Sequence[LocalWiki], users: Sequence[str], start: datetime, end: datetime
) -> int:
    """Users with a revision or an upload inside the window on any of the wikis."""
    marks = ",".join("?" for _ in users)
    found: set[str] = set()
    for wiki in wikis:
        rows = wiki.sql(
            f"""SELECT DISTINCT a.actor_name FROM revision r
            JOIN actor a ON a.actor_id = r.rev_actor
            WHERE a.actor_name IN ({marks}) AND r.rev_timestamp BETWEEN ? AND ?
            UNION SELECT DISTINCT a.actor_name FROM logging l
            JOIN actor a ON a.actor_id = l.log_actor
            WHERE l.log_type = 'upload' AND a.actor_name IN ({marks})
            AND l.log_timestamp BETWEEN ? AND ?""",
            (*users, _ts(start), _ts(end), *users, _ts(start), _ts(end)),
        )
        found |= {str(name) for (name,) in rows}
    return len(found)


def new_editors_in_db(
    wikis: Sequence[LocalWiki], users: Sequence[str], start: datetime, end: datetime
) -> int:
    """Users whose earliest registration over the wikis is from 14 days before start to end."""
    marks = ",".join("?" for _ in users)
    earliest: dict[str, str] = {}
    for wiki in wikis:
        rows = wiki.sql(
            f"SELECT user_name, user_registration FROM user WHERE user_name IN ({marks})", users
        )
        for name, registered in rows:
            if registered:
                value = registered.decode() if isinstance(registered, bytes) else str(registered)
                earliest[name] = min(earliest.get(name, value), value)
    low, high = _ts(start - timedelta(days=14)), _ts(end)
    return sum(1 for value in earliest.values() if low <= value <= high)


def file_usage_in_db(wikis: Sequence[LocalWiki], files: Sequence[str]) -> int:
    marks = ",".join("?" for _ in files)
    return sum(
        int(
            wiki.sql(
                "SELECT COUNT(DISTINCT il_from) FROM imagelinks JOIN page ON page_id = il_from "
                f"WHERE page_namespace = 0 AND il_to IN ({marks})",
                files,
            )[0][0]
        )
        for wiki in wikis
    )


def expected_rows(
    farm: Farm, users: Sequence[str], start: datetime, end: datetime
) -> dict[str, Any]:
    """Every countable figure of the grant report, from the wikis' own tables."""
    from harness.dbcount import db_counts

    per: dict[str, dict[str, int]] = {}
    edits = bytes_added = 0
    for wiki in farm.wikis:
        counts = db_counts(wiki, users, start, end)
        per[wiki.host] = {
            "articles_created": counts.articles_created,
            "articles_improved": counts.articles_edited - counts.articles_created,
            "files_uploaded": counts.uploads,
        }
        edits += counts.edits
        bytes_added += counts.bytes_added
    expected: dict[str, Any] = {
        "participants": len(users),
        "editors": editors_in_db(farm.wikis, users, start, end),
        "edits": edits,
        "bytes_added": bytes_added,
    }
    for key in ("articles_created", "articles_improved", "files_uploaded"):
        expected[key] = (sum(p[key] for p in per.values()), {w: p[key] for w, p in per.items()})
    contributions = {w: sum(p.values()) for w, p in per.items()}
    expected["content_contributions"] = (sum(contributions.values()), contributions)
    return expected


def wikitext_rows(text: str) -> dict[str, list[str]]:
    """A grant wikitable's rows by label: the total's cell and the per-project ones."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("| "):
            cells = [c.strip() for c in line[2:].split(" || ")]
            rows[cells[0]] = cells[1:]
    return rows


def check(answer: dict[str, Any], expected: dict[str, Any], projects: Sequence[str]) -> None:
    """An API answer's metrics against the independent counts."""
    metrics = {m["key"]: m for m in answer["metrics"]}
    assert list(metrics) == list(GRANT_METRICS)
    for key, want in expected.items():
        if isinstance(want, tuple):
            total, per = want
            assert metrics[key]["value"] == total, key
            assert metrics[key]["per_project"] == {p: per.get(p, 0) for p in projects}, key
        else:
            assert metrics[key]["value"] == want, key


def check_wikitext(text: str, expected: dict[str, Any], projects: Sequence[str]) -> None:
    rows = wikitext_rows(text)
    for key, want in expected.items():
        cells = rows[label(key)]
        if isinstance(want, tuple):
            total, per = want
            assert cells == [str(total), *(str(per.get(p, 0)) for p in projects)], key
        else:
            assert cells[0] == str(want), key


@pytest.mark.wiki
def test_a_program_and_a_campaign_sharing_a_person_and_an_article(
    wikis: Farm, participant: Callable[..., Any], tmp_path: Path
) -> None:
    from api_support import SECRET_KEY, wiki_entry
    from bot.jobs.scheduler import Scheduler
    from bot.store import APPLIED, JOIN, Store
    from gadget_api import create_app

    content, media = wikis.content, wikis.media
    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=1), today + timedelta(days=1)
    start = datetime.combine(first, datetime.min.time())
    end = datetime.combine(last, datetime.max.time()).replace(microsecond=0)
    db = f"sqlite:///{tmp_path / 'grant.sqlite'}"
    store = Store(db)
    admin = content.admin_client()

    # Program One: Alice, Bob, Dave (who never edits) and Eve, who joined privately;
    # Program Two: Alice and Carol. The article "Shared" is edited in both.
    alice, bob, carol, eve = (participant(n) for n in ("Alice", "Bob", "Carol", "Eve"))
    participant("Dave")  # an account, and no edit
    admin.edit("Older article", "Written before by someone else.")
    admin.edit("Content Wiki:One", program_text(wikis, ["Alice", "Bob", "Dave"], first, last))
    admin.edit("Content Wiki:Two", program_text(wikis, ["Alice", "Carol"], first, last))
    admin.edit("Content Wiki:Drive", "{{Campaign details\n|name=Drive\n}}\n")
    now = datetime.now(UTC)
    joined, _ = store.record_join(content.host, "Content Wiki:One", "Eve", JOIN, now, private=True)
    store.finish_joins([joined.id], APPLIED, now)

    alice.edit("Shared", "'''Shared''' was started by Alice.")
    bob.append("Shared", "\nBob adds a sentence.")
    carol.append("Shared", "\nCarol too.")
    bob.append("Older article", "\nBob improves it.")
    carol.edit("Carol's own", "Carol writes alone.")
    eve.edit("Eve's own", "Eve, privately.")
    participant("Alice", wiki=media).upload("Shared.png", tiny_png(31), "a file")
    participant("Carol", wiki=media).upload("Carol.png", tiny_png(32), "another")
    participant("Bob", wiki=media).edit("Gallery", "[[File:Shared.png]] on a page.")

    site = pywikibot.Site(content.name, content.name)
    scheduler = Scheduler(store, site, worker_id="g")
    assert scheduler.discover() == 3
    assert scheduler.cycle().refreshed == 3

    one = ["Alice", "Bob", "Dave", "Eve"]
    everyone = ["Alice", "Bob", "Dave", "Eve", "Carol"]
    expected_one = expected_rows(wikis, one, start, end)
    expected_one["new_editors"] = new_editors_in_db(wikis.wikis, one, start, end)
    expected_one["file_usage"] = file_usage_in_db(wikis.wikis, ["Shared.png"])
    expected_campaign = expected_rows(wikis, everyone, start, end)
    # Not vacuous: Dave did not edit, Bob's file page counts; the shared article and
    # Alice count once in the campaign.
    assert expected_one["editors"] == 3 and expected_one["file_usage"] == 1
    assert expected_campaign["participants"] == 5 and expected_campaign["editors"] == 4
    assert expected_campaign["articles_created"][1][content.host] == 3
    assert expected_campaign["articles_improved"][1][content.host] == 1
    assert expected_campaign["files_uploaded"][0] == 2
    projects = (content.host, media.host)

    # The command line, as docs/operations.md documents it: the program to a file.
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "report", *args, "--format", "grant", "--db", db],
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=180,
            check=False,
        )

    done = run("Content Wiki:One", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "out" / "Content_Wiki_One-grant.wiki").read_text(encoding="utf-8")
    assert text.splitlines()[2] == f"! Metric !! Total !! {content.host} !! {media.host}"
    check_wikitext(text, expected_one, projects)
    assert wikitext_rows(text)[label("organizers")][0] == "''not tracked''"

    # The campaign on standard output: each person and article once.
    done = run("Content Wiki:Drive")
    assert done.returncode == 0, done.stderr
    check_wikitext(done.stdout, expected_campaign, sorted(projects))
    rows = wikitext_rows(done.stdout)
    assert rows[label("new_editors")][0] == "''not counted for a campaign''"

    # The Join API, from the scheduler's stored refresh of each.
    app = create_app(
        {
            "secret_key": SECRET_KEY,
            "store_url": db,
            "public_url": "http://api.test",
            "wikis": [wiki_entry(content)],
        }
    )
    client = app.test_client()
    program_url = f"/api/v1/programs/{content.host}/Content_Wiki:One/report?format=grant"
    answer = client.get(program_url).get_json()
    assert answer["kind"] == "program" and answer["title"] == "Content Wiki:One"
    assert answer["projects"] == list(projects)
    check(answer, expected_one, projects)
    campaign_url = f"/api/v1/campaigns/{content.host}/Content_Wiki:Drive/report?format=grant"
    answer = client.get(campaign_url).get_json()
    assert answer["kind"] == "campaign"
    check(answer, expected_campaign, projects)
    missing = {m["key"]: m["missing"] for m in answer["metrics"] if m["value"] is None}
    assert missing == {
        "new_editors": NOT_FOR_CAMPAIGNS,
        "organizers": NOT_TRACKED,
        "file_usage": NOT_FOR_CAMPAIGNS,
    }
    bad = client.get(campaign_url.replace("grant", "xml"))
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad-parameter"
