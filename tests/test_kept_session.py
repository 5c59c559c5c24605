"""A fresh Pywikibot directory starts from the session kept in the store: ``programs-bot
refresh`` run in one asks the wikis what a warm directory asks (no login, no site or
parameter information), and logs in as before when the kept session has ended."""

from __future__ import annotations

import http.cookiejar
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests

from harness import PROJECT_ROOT, Farm, program_page, write_pywikibot_config

pytestmark = pytest.mark.wiki

TITLE = "Content Wiki:Kept session program"

#: ``programs-bot ARGV`` with every request it makes named: its action, and for a query the
#: meta modules it asks (Pywikibot adds ``userinfo`` to many).
COUNTING = r"""
import json, sys
from collections import Counter
from urllib.parse import parse_qs, urlsplit
from pywikibot.comms import http
import bot.cli

asked = Counter()

def name(response, *args, **kwargs):
    request = response.request
    params = parse_qs(urlsplit(request.url).query)
    body = request.body or ""
    params.update(parse_qs(body.decode() if isinstance(body, bytes) else body))
    asked["requests"] += 1
    asked[params.get("action", ["?"])[0]] += 1
    for meta in params.get("meta", [""])[0].split("|"):
        if meta:
            asked[meta] += 1
    return response

http.session.hooks["response"].append(name)
code = bot.cli.main(*sys.argv[1:])
print("ASKED " + json.dumps(asked))
sys.exit(code)
"""


def refresh(pywikibot_dir: Path, db: str) -> Counter[str]:
    """``programs-bot refresh --full`` in ``pywikibot_dir`` over the store ``db``: how many
    requests it made, of each action, and how many asked each meta module."""
    env = {**os.environ, "PYWIKIBOT_DIR": str(pywikibot_dir)}
    env.pop("PROGRAMS_BOT_DB", None)
    done = subprocess.run(
        [sys.executable, "-c", COUNTING, "refresh", "--full", "--db", db, TITLE],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("ASKED ")]
    return Counter(json.loads(line.removeprefix("ASKED ")))


def log_out(wikis: Farm, cookie_jar: Path) -> None:
    """End the session a cookie jar holds, on the wiki's side."""
    jar = http.cookiejar.LWPCookieJar(str(cookie_jar))
    jar.load(ignore_discard=True)
    session = requests.Session()
    session.cookies = jar  # type: ignore[assignment]
    api = wikis.content.api_url
    info = session.get(
        api, params={"action": "query", "meta": "userinfo|tokens", "format": "json"}
    ).json()["query"]
    assert info["userinfo"]["name"] == wikis.content.bot_username, info
    done = session.post(
        api, data={"action": "logout", "token": info["tokens"]["csrftoken"], "format": "json"}
    )
    assert done.status_code == 200 and "error" not in done.json(), done.text
    again = session.get(api, params={"action": "query", "meta": "userinfo", "format": "json"})
    assert "anon" in again.json()["query"]["userinfo"]


def test_a_fresh_directory_starts_from_the_session_kept_in_the_store(
    wikis: Farm, tmp_path: Path
) -> None:
    wikis.content.client("Alice").edit("Kept session article", "Alice wrote this.")
    wikis.content.admin_client().edit(TITLE, program_page(["Alice"], [wikis.content.host]))
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"

    def fresh(label: str) -> Path:
        return write_pywikibot_config(tmp_path / label, wikis.wikis, wikis.content)

    first_dir = fresh("first")
    first = refresh(first_dir, db)
    assert first["login"] == 1 and first["siteinfo"] >= 1, first
    warm = refresh(first_dir, db)
    assert warm["login"] == 0 and warm["siteinfo"] == 0, warm

    cold = refresh(fresh("cold"), db)
    assert cold["login"] == 0, cold
    assert cold["siteinfo"] == cold["paraminfo"] == 0, cold
    assert cold["requests"] <= warm["requests"], (cold, warm)

    # The session ends on the wiki (it expires, or is logged out): the next fresh
    # directory restores it, finds it ended and logs in, as without a kept session.
    (jar,) = (tmp_path / "cold").glob("pywikibot-*.lwp")
    log_out(wikis, jar)
    ended = refresh(fresh("ended"), db)
    assert ended["login"] == 1 and ended["siteinfo"] == 0, ended
    assert refresh(fresh("after"), db)["login"] == 0  # the new session was kept


def test_without_the_kept_session_a_fresh_directory_logs_in(wikis: Farm, tmp_path: Path) -> None:
    """The control: another store, or a password file that cannot open the bundle."""
    wikis.content.admin_client().edit(TITLE, program_page(["Alice"], [wikis.content.host]))
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    refresh(write_pywikibot_config(tmp_path / "a", wikis.wikis, wikis.content), db)
    other = refresh(
        write_pywikibot_config(tmp_path / "b", wikis.wikis, wikis.content),
        f"sqlite:///{tmp_path / 'other.sqlite'}",
    )
    assert other["login"] == 1 and other["siteinfo"] >= 1, other
    changed = write_pywikibot_config(tmp_path / "c", wikis.wikis, wikis.content)
    password = changed / "user-password.py"
    password.write_text(password.read_text() + "# another password file\n")
    assert refresh(changed, db)["login"] == 1


def test_the_scheduler_keeps_the_session_after_a_cycle(wikis: Farm, tmp_path: Path) -> None:
    import pywikibot

    from bot.jobs.scheduler import Scheduler
    from bot.jobs.session import KeptSession
    from bot.store import Store

    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    session = KeptSession(store)
    assert session.seal is not None
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    site.login()
    Scheduler(store, site, session=session).cycle()
    bundle = store.kept_session(session.seal.key_id)
    assert bundle is not None
    files = session.seal.open(bundle)
    assert files is not None
    assert [name for name in files if name.endswith(".lwp")], sorted(files)
    assert [name for name in files if name.startswith("apicache/")], sorted(files)
    assert not session.keep()  # unchanged since the cycle: nothing written again


def test_simulate_keeps_no_session(
    wikis: Farm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-simulate`` writes nothing, to the store either."""
    import pywikibot
    from pywikibot import config

    from bot.jobs.session import KeptSession
    from bot.store import Store

    pywikibot.Site(wikis.content.name, wikis.content.name).login()  # a session to keep
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    session = KeptSession(store)
    assert session.seal is not None
    monkeypatch.setattr(config, "simulate", True)
    assert not session.keep()
    assert store.kept_session(session.seal.key_id) is None
    monkeypatch.setattr(config, "simulate", False)
    assert session.keep()
    assert store.kept_session(session.seal.key_id) is not None
