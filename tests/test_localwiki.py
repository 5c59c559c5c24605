"""Tests of the local-wiki harness itself, against real MediaWiki wikis (no mocks).

They run on whichever code tree the harness is pointed at (1.39 by default, 1.43 with
``LOCALWIKI_MEDIAWIKI_DIR=/opt/mediawiki-1.43``; CI runs both).
"""

from __future__ import annotations

import ast
import json
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from harness import (
    ApiError,
    Farm,
    LocalWiki,
    ParticipantClient,
    tiny_png,
)
from harness.mediawiki import SUPPORTED_BRANCHES, mediawiki_version
from harness.oauth_provider import identity_claims
from harness.pywikibot_config import user_password_text

Participant = Callable[..., ParticipantClient]


def api(session: requests.Session, wiki: LocalWiki, **params: str) -> dict[str, Any]:
    """GET or (with ``_post``) POST api.php; fail the test on an API error."""
    post = params.pop("_post", "")
    data = {"format": "json", "formatversion": "2", **params}
    if post:
        resp = session.post(wiki.api_url, data=data, timeout=30)
    else:
        resp = session.get(wiki.api_url, params=data, timeout=30)
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    assert "error" not in body, body
    return body


def bot_session(wiki: LocalWiki) -> requests.Session:
    """Log in with the BotPassword through plain action=login, as Pywikibot does."""
    session = requests.Session()
    token = api(session, wiki, action="query", meta="tokens", type="login")
    result = api(
        session,
        wiki,
        _post="1",
        action="login",
        lgname=wiki.bot_login_name,
        lgpassword=wiki.bot_password,
        lgtoken=token["query"]["tokens"]["logintoken"],
    )
    assert result["login"]["result"] == "Success", result
    return session


def revision_count(wiki: LocalWiki, user: str | None = None) -> int:
    if user is None:
        rows = wiki.sql("select count(*) from revision")
    else:
        rows = wiki.sql(
            "select count(*) from revision join actor on rev_actor = actor_id where actor_name = ?",
            (user,),
        )
    count: int = rows[0][0]
    return count


def categories_of(wiki: LocalWiki, title: str) -> set[str]:
    rows = wiki.sql(
        "select cl_to from categorylinks join page on cl_from = page_id"
        " where page_namespace = 0 and page_title = ?",
        (title.replace(" ", "_"),),
    )
    return {row[0] for row in rows}


# -- no wiki needed ---------------------------------------------------------------------------


def test_tiny_png_is_valid_and_distinct() -> None:
    images = [tiny_png(seed) for seed in range(50)]
    assert len(set(images)) == 50
    data = images[7]
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, kinds = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, payload = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + payload)
        kinds.append(kind)
        if kind == b"IDAT":
            assert len(zlib.decompress(payload)) == 2 * (1 + 2 * 3)
        pos += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"


def test_password_lines_parse_like_pywikibot(tmp_path: Any) -> None:
    wiki = LocalWiki(tmp_path, "demo", 1234, site_name="Demo", bot_password="a" * 32)
    line = user_password_text([wiki]).splitlines()[-1]
    # Pywikibot 11.9 drops the word BotPassword and parses the rest as a literal.
    entry = ast.literal_eval(line.replace("BotPassword", ""))
    assert entry == ("demo", "demo", "ProgramsBot", ("programs", "a" * 32))
    assert line.count(", ") <= 4 and len(line) <= 250  # Pywikibot's sanity limits


# -- real wikis --------------------------------------------------------------------------------


@pytest.mark.wiki
def test_farm_answers_with_its_site_names(wikis: Farm) -> None:
    with requests.Session() as http:
        for wiki, site_name in ((wikis.content, "Content Wiki"), (wikis.media, "Media Commons")):
            general = api(http, wiki, action="query", meta="siteinfo")["query"]["general"]
            assert general["sitename"] == site_name
            assert general["server"] == wiki.url
            # The wiki runs the code tree the harness was pointed at, an LTS it supports.
            assert general["generator"] == f"MediaWiki {mediawiki_version()}"
    assert mediawiki_version().rsplit(".", 1)[0] in SUPPORTED_BRANCHES
    assert wikis.content.dbname != wikis.media.dbname  # cookie names must differ


@pytest.mark.wiki
def test_bot_password_login_has_high_limits(wikis: Farm) -> None:
    for wiki in wikis.wikis:
        with bot_session(wiki) as http:
            info = api(http, wiki, action="query", meta="userinfo", uiprop="rights|groups")
            info = info["query"]["userinfo"]
            assert info["name"] == "ProgramsBot"
            assert "bot" in info["groups"]
            assert {"apihighlimits", "bot", "edit", "upload"} <= set(info["rights"])


@pytest.mark.wiki
def test_participant_edit_is_counted(wikis: Farm, participant: Participant) -> None:
    wiki = wikis.content
    alice = participant("Alice")
    before = revision_count(wiki, "Alice")
    revid = alice.edit("Harness edit probe", "Some text.", "probe")
    revid2 = alice.append("Harness edit probe", "\nMore.")
    assert alice.latest_revid("Harness edit probe") == revid2 > revid
    assert alice.get_text("Harness edit probe") == "Some text.\nMore."
    assert revision_count(wiki, "Alice") == before + 2
    contribs = alice.get({"action": "query", "list": "usercontribs", "ucuser": "Alice"})
    assert {c["revid"] for c in contribs["query"]["usercontribs"]} >= {revid, revid2}
    (timestamp,) = wiki.sql("select rev_timestamp from revision where rev_id = ?", (revid,))[0]
    assert isinstance(timestamp, str) and len(timestamp) == 14  # BLOB text decoded


@pytest.mark.wiki
def test_upload_is_logged_and_stored(wikis: Farm, participant: Participant) -> None:
    wiki = wikis.media
    bob = participant("Bob", wiki=wiki)
    # Two different files: re-uploading one file within a second makes MediaWiki sleep 1 s.
    bob.upload("Harness probe.png", tiny_png(1), text="A probe.", comment="probe upload")
    bob.upload("Harness probe 2.png", tiny_png(2), comment="second file")
    events = bob.get({"action": "query", "list": "logevents", "letype": "upload", "leuser": "Bob"})
    titles = sorted(e["title"] for e in events["query"]["logevents"])
    assert titles == ["File:Harness probe 2.png", "File:Harness probe.png"]
    rows = wiki.sql(
        "select img_name, img_size, actor_name from image join actor on img_actor = actor_id"
        " order by img_name"
    )
    assert rows == [
        ("Harness_probe.png", len(tiny_png(1)), "Bob"),
        ("Harness_probe_2.png", len(tiny_png(2)), "Bob"),
    ]
    with requests.get(f"{wiki.url}/images/", timeout=10) as listing:
        assert listing.status_code == 404  # only files are served, never folders
    info = bob.get(
        {
            "action": "query",
            "titles": "File:Harness probe 2.png",
            "prop": "imageinfo",
            "iiprop": "url",
        }
    )
    url = info["query"]["pages"][0]["imageinfo"][0]["url"]
    with requests.get(url, timeout=10) as image:
        assert image.status_code == 200 and image.content == tiny_png(2)


@pytest.mark.wiki
def test_category_membership_is_visible_right_after_an_edit(
    wikis: Farm, participant: Participant
) -> None:
    wiki = wikis.content
    carol = participant("Carol")
    admin = participant("Admin")
    for n in range(5):
        carol.edit(f"Scope probe {n}", f"Text [[Category:Event {n}]] [[Category:Scope]]")
        assert categories_of(wiki, f"Scope probe {n}") == {f"Event_{n}", "Scope"}
    # A category from a template is there at once too, with the templatelinks row.
    admin.edit("Template:Event box", "Box[[Category:Boxed]]")
    carol.edit("Boxed page", "{{Event box}}")
    assert categories_of(wiki, "Boxed page") == {"Boxed"}
    linked = wiki.sql(
        "select lt_title from templatelinks join linktarget on tl_target_id = lt_id"
        " join page on tl_from = page_id where page_title = 'Boxed_page'"
    )
    assert linked == [("Event_box",)]
    # Changing the template updates its users through refreshLinks jobs: run_jobs() drains them.
    admin.edit("Template:Event box", "Box[[Category:Reboxed]]")
    wiki.run_jobs()
    assert categories_of(wiki, "Boxed page") == {"Reboxed"}
    # Moves and deletions by the right people.
    carol.move("Scope probe 0", "Scope probe moved")
    assert categories_of(wiki, "Scope probe moved") == {"Event_0", "Scope"}
    with pytest.raises(ApiError) as denied:
        carol.delete("Scope probe 1")
    assert denied.value.code == "permissiondenied"
    wiki.admin_client().delete("Scope probe 1", "cleanup")
    assert carol.get_text("Scope probe 1") is None
    assert categories_of(wiki, "Scope probe 1") == set()


@pytest.mark.wiki
def test_reset_discards_changes_and_keeps_sessions(wikis: Farm, participant: Participant) -> None:
    wiki = wikis.content
    dave = participant("Dave")
    bot = bot_session(wiki)
    baseline = revision_count(wiki)
    dave.edit("Reset probe", "before reset")
    parsed = dave.get({"action": "parse", "page": "Reset probe", "prop": "text"})
    assert "before reset" in parsed["parse"]["text"]  # now in the parser cache
    wiki.create_user("Zed")
    assert revision_count(wiki) == baseline + 1

    started = time.monotonic()
    wikis.reset()
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"reset of two wikis took {elapsed:.3f} s"

    assert revision_count(wiki) == baseline
    assert dave.get_text("Reset probe") is None
    assert wiki.sql("select count(*) from user where user_name = 'Zed'") == [(0,)]
    # Sessions survive: neither client logs in again.
    assert dave.userinfo()["name"] == "Dave"
    info = api(bot, wiki, action="query", meta="userinfo")["query"]["userinfo"]
    assert info["name"] == "ProgramsBot"
    # The same title gets the same revision id again; the page must not come from the cache.
    dave.edit("Reset probe", "after reset")
    parsed = dave.get({"action": "parse", "page": "Reset probe", "prop": "text"})
    assert "after reset" in parsed["parse"]["text"]
    assert "before reset" not in parsed["parse"]["text"]
    token = api(bot, wiki, action="query", meta="tokens")["query"]["tokens"]["csrftoken"]
    result = api(
        bot,
        wiki,
        _post="1",
        action="edit",
        title="Reset probe bot",
        text="bot after reset",
        bot="1",
        token=token,
    )
    assert result["edit"]["result"] == "Success"
    assert revision_count(wiki) == baseline + 2
    bot.close()


@pytest.mark.wiki
def test_pywikibot_logs_in_and_saves_with_the_bot_flag(wikis: Farm) -> None:
    import pywikibot  # only now: conftest wrote user-config.py before anything imported it

    wiki = wikis.content
    site = pywikibot.Site(wiki.name, wiki.name)
    site.login()
    assert site.user() == "ProgramsBot"
    assert site.has_right("apihighlimits")
    page = pywikibot.Page(site, "Pywikibot probe")
    page.text = "Saved by Pywikibot."
    page.save(summary="probe", bot=True)
    revid = page.latest_revision_id
    rows = wiki.sql(
        "select rc_bot, actor_name from recentchanges join actor on rc_actor = actor_id"
        " where rc_this_oldid = ?",
        (revid,),
    )
    assert rows == [(1, "ProgramsBot")]
    media = pywikibot.Site(wikis.media.name, wikis.media.name)
    media.login()
    assert media.user() == "ProgramsBot"


#: What Extension:OAuth's UserStatementProvider asks MediaWiki about an account, asked by the
#: wiki's own code: User::getBlock() and User::isHidden(), for a user other than the
#: request's (names as JSON on stdin; answers {name: [blocked, hidden]}).
BLOCK_STATUS_PHP = """<?php
require_once getenv( 'MW_INSTALL_PATH' ) . '/maintenance/Maintenance.php';

use MediaWiki\\MediaWikiServices;

class ProbeBlockStatus extends Maintenance {
\tpublic function execute() {
\t\t$users = MediaWikiServices::getInstance()->getUserFactory();
\t\t$status = [];
\t\tforeach ( json_decode( stream_get_contents( STDIN ), true ) as $name ) {
\t\t\t$user = $users->newFromName( $name );
\t\t\t$status[$name] = [ $user->getBlock() !== null, $user->isHidden() ];
\t\t}
\t\t$this->output( json_encode( $status ) );
\t}
}

$maintClass = ProbeBlockStatus::class;
require_once RUN_MAINTENANCE_IF_MAIN;
"""


@pytest.mark.wiki
def test_oauth_stand_in_reads_blocks_as_the_wiki_stores_them(
    wikis: Farm, participant: Participant, tmp_path: Path
) -> None:
    """The stand-in's ``blocked`` claim (and the hidden user's short statement) agree with
    MediaWiki's own answer on each kind of block, whichever tables this MediaWiki keeps them
    in (ipblocks on 1.39, block and block_target on 1.43).
    """
    wiki = wikis.content
    admin = participant("Admin")
    wiki.create_user("Overseer", groups=["sysop", "suppress"])  # suppress: may hide names
    blocks: dict[str, dict[str, str | bool]] = {
        "Bob": {"expiry": "infinite"},
        "Carol": {"expiry": "infinite", "partial": True, "namespacerestrictions": "0"},
        "Dave": {"expiry": "1 day"},
        "Eve": {"expiry": "2 seconds"},
    }
    for name, options in blocks.items():
        admin.post(
            {"action": "block", "user": name, "reason": "probe", "allowusertalk": True, **options}
        )
    wiki.client("Overseer").post(
        {"action": "block", "user": "Alice", "expiry": "infinite", "hidename": True, "reason": "x"}
    )
    user_ids = {str(n): int(uid) for n, uid in wiki.sql("select user_name, user_id from user")}
    script = tmp_path / "blockStatus.php"
    script.write_text(BLOCK_STATUS_PHP, encoding="utf-8")

    def wiki_says(*names: str) -> dict[str, list[bool]]:
        status: dict[str, list[bool]] = json.loads(
            wiki.maintenance(str(script), stdin=json.dumps(names))
        )
        return status

    def claims(name: str) -> dict[str, Any]:
        found = identity_claims(wiki, user_ids[name], ["mwoauth-authonly"])
        assert found is not None
        return found

    assert wiki_says("Alice", "Bob", "Carol", "Dave", "Admin") == {
        "Alice": [True, True],
        "Bob": [True, False],
        "Carol": [True, False],
        "Dave": [True, False],
        "Admin": [False, False],
    }
    assert claims("Alice") == {"sub": str(user_ids["Alice"]), "blocked": True}
    for name in ("Bob", "Carol", "Dave"):
        assert claims(name)["username"] == name and claims(name)["blocked"] is True
    assert claims("Admin")["blocked"] is False
    # Eve's block ends: once the wiki no longer sees it, neither does the stand-in.
    deadline = time.monotonic() + 30
    while wiki_says("Eve")["Eve"][0]:
        assert time.monotonic() < deadline, "Eve's two-second block never ended"
        time.sleep(0.2)
    assert claims("Eve")["blocked"] is False
