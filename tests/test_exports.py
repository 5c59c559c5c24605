"""A program's report as tables, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.exports import columns_of, program_tables, safe_cell, to_csv
from bot.core.metrics import compute_outcomes
from harness import Farm, tiny_png
from test_metrics import WIKI_A, WIKI_B, WINDOW


def test_tables_from_records() -> None:
    outcomes = compute_outcomes(["Alice", "Bob", "Carol"], WINDOW, [WIKI_A, WIKI_B])
    tables = program_tables(outcomes, [WIKI_A, WIKI_B], WINDOW)
    total = tables["summary"][-1]
    assert total["wiki"] == "total" and total["edits"] == outcomes.total.edits
    alice = tables["participants"][0]
    assert alice["username"] == "Alice"
    assert alice["a.example.org edits"] == 4 and alice["b.example.org articles created"] == 1
    titles = [(a["wiki"], a["title"]) for a in tables["articles"]]
    # Redirects, other namespaces and out-of-scope pages are no articles.
    assert titles == [
        ("a.example.org", "Page 1"),
        ("a.example.org", "Page 2"),
        ("a.example.org", "Page 4"),
        ("b.example.org", "Other page 1"),
    ]
    deleted = next(a for a in tables["articles"] if a["title"] == "Page 4")
    assert deleted["deleted"] is True and deleted["created"] is True
    page1 = tables["articles"][0]
    assert page1["editors"] == "Alice; Bob" and page1["edits"] == 3
    assert [u["title"] for u in tables["uploads"]] == ["File:A.png", "File:C.png"]


def test_csv_cells_are_safe_for_spreadsheets() -> None:
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell(-5) == "-5" and safe_cell(True) == "yes" and safe_cell(None) == ""
    text = to_csv([{"title": "@SUM", "edits": 2}], ["title", "edits"])
    assert list(csv.reader(io.StringIO(text))) == [["title", "edits"], ["'@SUM", "2"]]
    assert columns_of([{"wiki": "x", "extra": 1}], "uploads")[-1] == "extra"


pywikibot = pytest.importorskip("pywikibot")


@pytest.mark.wiki
def test_the_report_command(wikis: Farm, tmp_path: Path) -> None:
    from harness.dbcount import db_counts

    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=1), today + timedelta(days=1)
    wikis.content.client("Alice").edit("Reported article", "Text.")
    wikis.content.client("Bob").append("Reported article", " More.")
    wikis.media.client("Bob").upload("Reported.png", tiny_png(51))
    title = "Content Wiki:Reported program"
    wikis.content.admin_client().edit(
        title,
        f"{{{{Program details\n|start={start}\n|end={end}\n"
        f"|wikis={wikis.content.host}, {wikis.media.host}\n}}}}\n{{{{Participants table}}}}\n"
        "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{Participant table row|username=Bob|joined=2026-11-01}}\n"
        "{{End of participants table}}\n",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "report",
                title,
                "--db",
                f"sqlite:///{tmp_path / 'r.sqlite'}",
                *args,
            ],
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=120,
            check=False,
        )

    done = run("--out", str(tmp_path / "csv"))
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert files == [
        f"Content_Wiki_Reported_program-{t}.csv"
        for t in ("articles", "participants", "summary", "uploads")
    ]
    summary_text = (tmp_path / "csv" / files[2]).read_text(encoding="utf-8")
    summary = list(csv.DictReader(io.StringIO(summary_text)))
    content = next(r for r in summary if r["wiki"] == wikis.content.host)
    counts = db_counts(
        wikis.content,
        ["Alice", "Bob"],
        datetime.combine(start, datetime.min.time()),
        datetime.combine(end, datetime.max.time()),
    )
    assert content["edits"] == str(counts.edits) == "2"
    total = summary[-1]
    assert total["new_editors"] == "2" and total["retained_7"] == "not yet known"

    as_json = run("--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["title"] == title
    assert [a["title"] for a in document["articles"]] == ["Reported article"]
    assert document["articles"][0]["editors"] == "Alice; Bob"
    assert [u["title"] for u in document["uploads"]] == ["File:Reported.png"]


@pytest.mark.wiki
def test_a_campaign_report(wikis: Farm, tmp_path: Path) -> None:
    from bot.jobs.refresh import Refresher
    from bot.store import Store

    today = datetime.now(UTC).date()
    admin = wikis.content.admin_client()
    for name, user in (("One", "Alice"), ("Two", "Bob")):
        admin.edit(
            f"Content Wiki:{name}",
            f"{{{{Program details\n|start={today - timedelta(days=1)}\n"
            f"|end={today + timedelta(days=1)}\n|wikis={wikis.content.host}\n"
            "|campaign=Drive\n}}\n"
            f"{{{{Participants table}}}}\n{{{{Participant table row|username={user}|joined=x}}}}\n"
            "{{End of participants table}}\n",
        )
    admin.edit("Content Wiki:Drive", "{{Campaign details\n|name=Drive\n}}\n")
    wikis.content.client("Alice").edit("Shared", "A.")
    wikis.content.client("Bob").append("Shared", " B.")
    db = f"sqlite:///{tmp_path / 'c.sqlite'}"
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    for name in ("One", "Two"):
        Refresher(Store(db)).refresh(pywikibot.Page(site, f"Content Wiki:{name}"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "report",
            "Content Wiki:Drive",
            "--format",
            "json",
            "--db",
            db,
        ],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert [r["program"] for r in document["summary"]] == [
        "Content Wiki:One",
        "Content Wiki:Two",
        "total",
    ]
    assert document["summary"][-1]["articles_edited"] == 1  # the shared article once
    assert document["articles"] == [
        {
            "wiki": wikis.content.host,
            "title": "Shared",
            "created": True,
            "editors": "Alice; Bob",
            "deleted": False,
            "pageviews": None,
            "programs": "Content Wiki:One; Content Wiki:Two",
        }
    ]
    assert {p["username"] for p in document["participants"]} == {"Alice", "Bob"}
