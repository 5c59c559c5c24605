"""Benchmark: the requests a refresh makes for each participant source.

    .venv/bin/python tests/bench_sources.py [--rows 20] [--registered 60] [--tagged 15]

Starts two local wikis and the Event Registration stand-in, makes one program page per
source (all list the same ``--rows`` participants and both wikis) and counts, for a first
count and a repeat full recount (``programs-bot refresh --full``'s path), the requests to
each wiki (by API module) and to the Event Registration API:

- rows: the participants table alone (the baseline);
- event: the rows plus an Event Registration of ``--registered`` people (the rows' people
  among them, a tenth registered privately);
- hashtags: the rows plus ``hashtags=``, with ``--tagged`` tagged edits by people not listed;
- renamed: the rows, two of whose accounts were renamed (one of them twice);
- dashboard: the rows on a page as the Programs & Events Dashboard writes it.

A warm-up page is refreshed first, so that Pywikibot's start (logins, site information)
is in none of them. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cycle import Requests
from harness import start_farm, write_pywikibot_config
from harness.campaignevents import CampaignEventsServer, Event, Participant

POOL = [f"Source user {n}" for n in range(120)]


def details(hosts: list[str], extra: str = "") -> str:
    today = datetime.now(UTC).date()
    return (
        "{{Program details\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={', '.join(hosts)}\n{extra}}}}}\n"
    )


def table(names: list[str]) -> str:
    rows = "".join(f"{{{{Participant table row|username={n}|joined=2026-12-01}}}}\n" for n in names)
    return f"{{{{Participants table}}}}\n{rows}{{{{End of participants table}}}}\n"


def dashboard_page(names: list[str]) -> str:
    today = datetime.now(UTC).date()
    rows = "".join(f"{{{{participant table row|{n}||}}}}\n" for n in names)
    return (
        "{{program details\n | course_name = Bench\n | instructor_username = Admin\n"
        f" | start_date = {today - timedelta(days=1)} 00:00:00 UTC\n"
        f" | end_date = {today + timedelta(days=1)} 23:59:59 UTC\n"
        " | outreachdashboard.wmflabs.org = yes\n}}\n\nA program.\n"
        "{{participants table}}\n" + rows + "{{end of participants table}}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--registered", type=int, default=60)
    parser.add_argument("--tagged", type=int, default=15)
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="programs-bot-sources-"))
    farm = start_farm(root / "farm")
    try:
        os.environ["PYWIKIBOT_DIR"] = str(
            write_pywikibot_config(root / "pywikibot", farm.wikis, farm.content)
        )
        with CampaignEventsServer(farm.content.api_url) as standin:
            return run(farm, root, standin, options)
    finally:
        farm.stop()
        shutil.rmtree(root, ignore_errors=True)


def run(farm: Any, root: Path, standin: CampaignEventsServer, options: Any) -> int:
    import pywikibot

    from bot.core.settings import BotConfig, WikiSettings
    from bot.jobs.refresh import Refresher
    from bot.store import Store

    pywikibot.config.minthrottle = 0
    pywikibot.config.put_throttle = 0
    hosts = [farm.content.host, farm.media.host]
    wiki = farm.content
    admin = wiki.admin_client()
    wiki.create_users(POOL)
    farm.media.create_users(POOL)
    listed = POOL[: options.rows]
    for name in POOL[: max(options.rows, options.registered)]:
        wiki.client(name).edit(f"{name} article", f"Written by {name}.", "new")
    for n in range(options.tagged):
        name = POOL[options.rows + n % (len(POOL) - options.rows)]
        wiki.client(name).edit(f"Tagged {n}", "Tagged text.", "citation #1Lib1Ref")
    people = [Participant(n, private=i % 10 == 9) for i, n in enumerate(POOL[: options.registered])]
    standin.state.view_private_groups = ("sysop", "bot")
    standin.add_event(Event(7, "Bench", "Event:Bench", participants=people))
    renamed = [*listed[:-2], "Source renamed once", "Source renamed twice"]
    wiki.create_users(["Source renamed once", "Source renamed twice"])
    for name in ("Source renamed once", "Source renamed twice"):
        wiki.client(name).edit(f"{name} article", "Before the rename.", "new")
    pages = {
        "warm-up": details(hosts) + table(listed[:1]),
        "rows": details(hosts) + table(listed),
        "event": details(hosts, "|event_registration=7\n") + table(listed),
        "hashtags": details(hosts, "|hashtags=#1Lib1Ref\n") + table(listed),
        "renamed": details(hosts) + table(renamed),
        "dashboard": dashboard_page(listed),
    }
    for source, text in pages.items():
        admin.edit(f"Project:Source {source}", text)
    wiki.rename_user("Source renamed once", "Source renamed once (new)")
    wiki.rename_user("Source renamed twice", "Source renamed twice (1)")
    wiki.rename_user("Source renamed twice (1)", "Source renamed twice (2)")

    store = Store(f"sqlite:///{root / 'sources.sqlite'}")
    config = BotConfig({wiki.host: WikiSettings(campaignevents_url=standin.url)})
    site = pywikibot.Site(wiki.name, wiki.name)
    refresher = Refresher(store, config=config)
    results = []
    for source in pages:
        counts = []
        for _ in ("first", "repeat"):
            before = len(standin.requests)
            with Requests() as counter:
                result = refresher.refresh(pywikibot.Page(site, f"Project:Source {source}"))
            per_host = Counter(host for host, _ in counter.asked.elements())
            modules = Counter(module for _, module in counter.asked.elements())
            rest = len(standin.requests) - before
            counts.append((per_host, modules, rest, result))
        if source == "warm-up":  # Pywikibot's start: logins, site and parameter information
            continue
        results.append((source, counts))
        first, repeat = counts
        print(
            f"{source}: first {dict(first[0])} + REST {first[2]} ({dict(first[1])}); "
            f"repeat {dict(repeat[0])} + REST {repeat[2]} ({dict(repeat[1])})"
        )
    print()
    print(
        "| source | participants | first count: content / media / REST "
        "| repeat: content / media / REST |"
    )
    print("|---|---|---|---|")
    for source, ((f_host, _, f_rest, result), (r_host, _, r_rest, _)) in results:
        people = len(result.outcomes.participants) if result.outcomes else 0
        print(
            f"| {source} | {people} | {f_host[farm.content.host]} / {f_host[farm.media.host]} / "
            f"{f_rest} | {r_host[farm.content.host]} / {r_host[farm.media.host]} / {r_rest} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
