"""Private participants: joined through the API, never named on a page, counted in totals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api_support import SECRET_KEY, add_token, wiki_entry
from harness import Farm

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

from bot.core.exports import live_report  # noqa: E402
from bot.core.program_page import parse_program_page, read_outcome_rows  # noqa: E402
from bot.jobs.joins import Worker  # noqa: E402
from bot.jobs.refresh import Refresher  # noqa: E402
from bot.store import Store  # noqa: E402
from gadget_api import create_app  # noqa: E402

TITLE = "Content Wiki:Private program"


def test_a_private_participant_counts_in_totals_only(wikis: Farm, tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    admin = wikis.content.admin_client()
    admin.edit(
        TITLE,
        "{{Program details\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=3)}\n"
        f"|wikis={wikis.content.host}\n|registration=open\n}}}}\n{{{{Participants table}}}}\n"
        "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{End of participants table}}\n",
    )
    wikis.content.client("Alice").edit("Open article", "By Alice.")
    wikis.content.client("Carol").edit("Quiet article", "By Carol, who joined privately.")
    store_url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    app = create_app(
        {
            "secret_key": SECRET_KEY,
            "store_url": store_url,
            "public_url": "http://api.test",
            "wikis": [wiki_entry(wikis.content)],
        }
    )
    store = Store(store_url)
    token = add_token(store, "Carol", wikis.content.host, now=datetime.now(UTC))
    client = app.test_client()
    url = f"/api/v1/programs/{wikis.content.host}/{TITLE}/join"
    bad = client.post(url, json={"private": "yes"}, headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad-parameter"
    joined = client.post(url, json={"private": True}, headers={"Authorization": f"Bearer {token}"})
    assert joined.status_code == 202, joined.get_json()

    pywikibot.Site(wikis.content.name, wikis.content.name)
    before = admin.latest_revid(TITLE)
    assert Worker(store, worker_id="w", refreshes=False).run_once().applied == 1
    assert admin.latest_revid(TITLE) == before  # no row written for a private join
    state = client.get(url, headers={"Authorization": f"Bearer {token}"}).get_json()
    assert state["state"] == "applied"

    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    result = Refresher(store).refresh(pywikibot.Page(site, TITLE))
    text = admin.get_text(TITLE) or ""
    assert "Carol" not in text
    assert [row.username for row in parse_program_page(text).rows] == ["Alice"]
    totals = read_outcome_rows(text)["total"]
    assert totals["edits"] == "2" and totals["articles_created"] == "2"  # Carol's too
    assert result.outcomes is not None
    live = json.loads(live_report(result.outcomes, datetime.now(UTC), ["Carol"]))
    assert set(live["per_participant"]) == {"Alice"} and live["total"]["edits"] == 2

    # A campaign naming the program counts Carol in its totals too, and names her nowhere.
    from bot.core.campaign import campaign_outcomes
    from bot.core.exports import campaign_tables
    from bot.jobs.campaigns import gather_programs

    text = admin.get_text(TITLE) or ""
    admin.edit(TITLE, text.replace("|registration=open\n", "|registration=open\n|campaign=Quiet\n"))
    Refresher(store).refresh(pywikibot.Page(site, TITLE))
    programs = gather_programs(site, "Content Wiki:Quiet", store)
    campaign = campaign_outcomes(programs)
    assert campaign.total.edits == 2 and len(campaign.participants) == 2
    tables = campaign_tables(campaign, programs)
    assert [p["username"] for p in tables["participants"]] == ["Alice"]
    assert "Carol" not in json.dumps(tables)
