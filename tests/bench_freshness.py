"""Benchmark: how soon a participant's edit shows in the live report and on the page.

    .venv/bin/python tests/bench_freshness.py [--edits 30] [--cycle 5] [--edit-interval 60]

Starts two real local wikis and the scheduler (its cycle in a thread, as `programs-bot
run` does), lets participants make edits at random moments, and measures for each edit
the time until the scheduler's live report (what the API serves) counts it, and until the
program page does. Also checks that the page was never edited more often than the
edit interval allows. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import start_farm, write_pywikibot_config

TITLE = "Content Wiki:Freshness benchmark"
USERS = ("Alice", "Bob", "Carol", "Dave")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--cycle", type=float, default=5.0, help="scheduler cycle, seconds")
    parser.add_argument("--edit-interval", type=float, default=60.0, help="seconds")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="programs-bot-fresh-"))
    farm = start_farm(root / "farm")
    try:
        os.environ["PYWIKIBOT_DIR"] = str(
            write_pywikibot_config(root / "pywikibot", farm.wikis, farm.content)
        )
        return run(farm, root, options)
    finally:
        farm.stop()
        shutil.rmtree(root, ignore_errors=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(farm: object, root: Path, options: argparse.Namespace) -> int:
    import pywikibot

    from bot.core.cadence import Cadence
    from bot.core.program_page import parse_program_page
    from bot.jobs.scheduler import Scheduler
    from bot.store import Store

    content = farm.content  # type: ignore[attr-defined]
    today = datetime.now(UTC).date()
    rows = "".join(f"{{{{Participant table row|username={u}|joined={today}}}}}\n" for u in USERS)
    admin = content.admin_client()
    admin.edit(
        TITLE,
        "{{Program details\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={content.host}\n}}}}\n{{{{Participants table}}}}\n{rows}"
        "{{End of participants table}}\n",
    )
    store = Store(f"sqlite:///{root / 'fresh.sqlite'}")
    site = pywikibot.Site(content.name, content.name)
    cadence = Cadence(edit_interval=timedelta(seconds=options.edit_interval))
    scheduler = Scheduler(store, site, cadence=cadence, worker_id="bench")
    scheduler.discover()
    scheduler.cycle()  # the first figures

    stopping = threading.Event()

    def loop() -> None:
        while not stopping.is_set():
            started = time.monotonic()
            scheduler.cycle()
            stopping.wait(max(0.0, options.cycle - (time.monotonic() - started)))

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()

    clients = {user: content.client(user) for user in USERS}
    expected: dict[str, int] = dict.fromkeys(USERS, 0)
    made: list[tuple[float, str, int]] = []  # (when, user, that user's count after it)
    live_seen: dict[int, float] = {}
    page_seen: dict[int, float] = {}
    rng = random.Random(options.seed)

    def watch() -> None:
        while not stopping.is_set() and (len(page_seen) < options.edits or len(made) == 0):
            now = time.monotonic()
            entry = store.schedule_entry(content.host, TITLE)
            live = json.loads(entry.live_report) if entry and entry.live_report else {}
            live_counts = {u: c["edits"] for u, c in live.get("per_participant", {}).items()}
            text = admin.get_text(TITLE) or ""
            page_counts = {
                r.username: int(dict(r.stats)["edits"] or 0) for r in parse_program_page(text).rows
            }
            for index, (_, user, count) in enumerate(list(made)):
                if index not in live_seen and live_counts.get(user, 0) >= count:
                    live_seen[index] = now
                if index not in page_seen and page_counts.get(user, 0) >= count:
                    page_seen[index] = now
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    begun = time.monotonic()
    for number in range(options.edits):
        user = rng.choice(USERS)
        clients[user].append(f"Article by {user}", f"\nEdit {number}.")
        expected[user] += 1
        made.append((time.monotonic(), user, expected[user]))
        time.sleep(rng.uniform(1.0, 6.0))
    deadline = time.monotonic() + options.edit_interval * 2 + options.cycle * 4 + 60
    while len(page_seen) < options.edits and time.monotonic() < deadline:
        time.sleep(1)
    stopping.set()
    thread.join(60)
    watcher.join(10)

    live = [live_seen[i] - made[i][0] for i in range(len(made)) if i in live_seen]
    page = [page_seen[i] - made[i][0] for i in range(len(made)) if i in page_seen]
    bot_edits = [
        datetime.strptime(str(row[0]), "%Y%m%d%H%M%S")
        for row in content.sql(
            "SELECT rev_timestamp FROM revision JOIN page ON page_id = rev_page "
            "JOIN actor ON actor_id = rev_actor WHERE page_namespace = 4 "
            "AND actor_name = 'ProgramsBot' ORDER BY rev_timestamp"
        )
    ]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(bot_edits)]
    print(f"edits {options.edits} over {made[-1][0] - begun:.0f} s by {len(USERS)} participants")
    print(
        f"scheduler cycle {options.cycle:.0f} s, page edit interval {options.edit_interval:.0f} s"
    )
    print(
        f"live report: {len(live)}/{len(made)} seen; median {statistics.median(live):.1f} s, "
        f"p95 {percentile(live, 0.95):.1f} s, max {max(live):.1f} s"
    )
    print(
        f"program page: {len(page)}/{len(made)} seen; median {statistics.median(page):.1f} s, "
        f"p95 {percentile(page, 0.95):.1f} s, max {max(page):.1f} s"
    )
    print(
        f"bot edits to the page: {len(bot_edits)}; shortest gap between two: "
        f"{min(gaps) if gaps else float('nan'):.0f} s (allowed: {options.edit_interval:.0f} s; "
        "timestamps have one-second resolution)"
    )
    return 0 if len(live) == len(page) == len(made) else 1


if __name__ == "__main__":
    sys.exit(main())
