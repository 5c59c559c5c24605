"""Benchmark: the scheduler on the EventStreams feed: edit -> live report, and the changes
lost or given twice across forced disconnects.

    .venv/bin/python tests/bench_stream.py [--edits 30] [--cycle 5] [--seed 7]

Starts two real local wikis, the EventStreams stand-in fed by them (harness/eventstreams.py)
and the scheduler with a StreamFeed for both wikis (its cycle in a thread, as `programs-bot
run` does). Participants of a program make edits at random moments; a third of the way the
stream drops its connection in the middle of a batch of events sharing one Kafka time, two
thirds of the way it drops it again. Measures for each edit the time until the scheduler's
live report counts it, and compares every change the feed gave with the wikis' own
``recentchanges`` tables: the changes lost and the changes given twice (both must be 0).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_freshness import percentile
from harness import BOT_USERNAME, EventStreamsServer, Farm, start_farm, write_pywikibot_config

TITLE = "Content Wiki:Stream benchmark"
USERS = ("Alice", "Bob", "Carol", "Dave")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--cycle", type=float, default=5.0, help="scheduler cycle, seconds")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="programs-bot-stream-"))
    farm = start_farm(root / "farm")
    try:
        os.environ["PYWIKIBOT_DIR"] = str(
            write_pywikibot_config(root / "pywikibot", farm.wikis, farm.content)
        )
        with EventStreamsServer(farm.wikis, canary_every=1.0) as stand_in:
            return run(farm, stand_in, root, options)
    finally:
        farm.stop()
        shutil.rmtree(root, ignore_errors=True)


class Recorder:
    """A feed that keeps every change the wrapped feed gave, and counts the reads."""

    def __init__(self, feed: Any) -> None:
        self.feed = feed
        self.given: dict[str, list[Any]] = {}
        self.reads = 0
        self.lock = threading.Lock()

    def read(self, wiki: str) -> Any:
        batch = self.feed.read(wiki)
        with self.lock:
            self.reads += 1
            self.given.setdefault(wiki, []).extend(batch.changes)
        return batch


def made_since(farm: Farm, base: dict[str, int]) -> dict[str, set[int]]:
    """The changes each wiki recorded after ``base`` that a feed must give (edits,
    creations, log actions; the bot's own left out)."""
    return {
        wiki.host: {
            int(row[0])
            for row in wiki.sql(
                "SELECT rc_id FROM recentchanges JOIN actor ON actor_id = rc_actor "
                "WHERE rc_id > ? AND rc_type IN (0, 1, 3) AND actor_name != ?",
                (base[wiki.host], BOT_USERNAME),
            )
        }
        for wiki in farm.wikis
    }


def run(farm: Farm, stand_in: EventStreamsServer, root: Path, options: argparse.Namespace) -> int:
    import pywikibot

    from bot.core.cadence import Cadence
    from bot.jobs.scheduler import Scheduler
    from bot.store import Store
    from bot.wiki.stream import StreamFeed

    content = farm.content
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
    site = pywikibot.Site(content.name, content.name)
    hosts = {wiki.host for wiki in farm.wikis}
    stream = StreamFeed(stand_in.url, hosts.__contains__, site=site).start()
    feed = Recorder(stream)
    store = Store(f"sqlite:///{root / 'stream.sqlite'}")
    scheduler = Scheduler(store, site, cadence=Cadence(), worker_id="bench", feed=feed)
    scheduler.discover()
    scheduler.cycle()  # the first figures; the first read of each wiki polls it
    base = {
        wiki.host: int(wiki.sql("SELECT MAX(rc_id) FROM recentchanges")[0][0])
        for wiki in farm.wikis
    }
    first_polls = stream.polls

    stopping = threading.Event()

    def loop() -> None:
        while not stopping.is_set():
            started = time.monotonic()
            scheduler.cycle()
            stopping.wait(max(0.0, options.cycle - (time.monotonic() - started)))

    cycler = threading.Thread(target=loop, daemon=True)
    cycler.start()

    clients = {user: content.client(user) for user in USERS}
    expected: dict[str, int] = dict.fromkeys(USERS, 0)
    made: list[tuple[float, str, int]] = []  # (when, user, that user's count after it)
    live_seen: dict[int, float] = {}
    rng = random.Random(options.seed)

    def watch() -> None:
        while not stopping.is_set():
            now = time.monotonic()
            entry = store.schedule_entry(content.host, TITLE)
            live = json.loads(entry.live_report) if entry and entry.live_report else {}
            counts = {u: c["edits"] for u, c in live.get("per_participant", {}).items()}
            for index, (_, user, count) in enumerate(list(made)):
                if index not in live_seen and counts.get(user, 0) >= count:
                    live_seen[index] = now
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def edit(number: int) -> None:
        user = rng.choice(USERS)
        clients[user].append(f"Article by {user}", f"\nEdit {number}.")
        expected[user] += 1
        made.append((time.monotonic(), user, expected[user]))

    begun = time.monotonic()
    number = 0
    while number < options.edits:
        if number == options.edits // 3:
            # Three edits published in one batch (one Kafka time); the connection drops
            # after the first of them.
            with stand_in.held():
                for _ in range(min(3, options.edits - number)):
                    edit(number)
                    number += 1
                stand_in.disconnect_after(1)
        else:
            edit(number)
            number += 1
            if number == 2 * options.edits // 3:
                time.sleep(0.3)
                stand_in.disconnect()
        time.sleep(rng.uniform(0.5, 3.0))
    deadline = time.monotonic() + options.cycle * 4 + 60
    while len(live_seen) < len(made) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(options.cycle + 1)  # one more cycle: whatever was given twice shows now
    stopping.set()
    cycler.join(60)
    watcher.join(10)
    stream.close()

    should = made_since(farm, base)
    lost = duplicated = 0
    for host, rcids in should.items():
        given = Counter(c.rcid for c in feed.given.get(host, []) if c.rcid > base[host])
        lost += len(rcids - set(given))
        duplicated += sum(n - 1 for n in given.values())
    live = [live_seen[i] - made[i][0] for i in range(len(made)) if i in live_seen]
    print(f"edits {len(made)} over {made[-1][0] - begun:.0f} s by {len(USERS)} participants")
    print(f"scheduler cycle {options.cycle:.0f} s; changes from the EventStreams stand-in")
    if live:
        print(
            f"edit -> live report: {len(live)}/{len(made)} seen; median "
            f"{statistics.median(live):.1f} s, p95 {percentile(live, 0.95):.1f} s, "
            f"max {max(live):.1f} s"
        )
    else:
        print(f"edit -> live report: 0/{len(made)} seen")
    print(
        f"stream: {stream.connections} connections (2 forced disconnects), "
        f"{stream.events} events, {stream.duplicates} replayed or repeated events dropped"
    )
    print(
        f"changes the wikis recorded: {sum(map(len, should.values()))}; lost across the "
        f"disconnects: {lost}; given twice: {duplicated}"
    )
    print(
        f"feed reads {feed.reads}; list=recentchanges requests after the first read of each "
        f"wiki: {stream.polls - first_polls} (polling: one or more per read)"
    )
    return 0 if len(live) == len(made) and lost == duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
