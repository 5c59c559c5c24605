"""Benchmark: the requests of one scheduler cycle per wiki, with 20 and with 200 programs.

    .venv/bin/python tests/bench_cycle.py [--programs 20 200] [--participants 10]
        [--edits 20] [--seed 3]

Starts two local wikis, writes the programs (each lists ``--participants`` of a shared pool
of accounts and both wikis), lets one scheduler process count them all (discovery and a
first cycle), then, for each size in turn: ``--edits`` edits and one upload by random
participants, and one scheduler cycle, whose requests are counted per wiki and per API
module. The edits reach every program listing their author. Page edits wait for the edit
cadence (10 minutes), so the measured cycle is what keeping every program's figures fresh
costs; the page edits come later, at most one per page per cadence interval, and are
counted separately (they are per page by nature). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import start_farm, tiny_png, write_pywikibot_config

POOL = [f"Cycle user {n}" for n in range(40)]


class Requests:
    """Pywikibot's requests while the block runs, by host and API module."""

    def __init__(self) -> None:
        self.asked: Counter[tuple[str, str]] = Counter()

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        params = dict(parse_qsl(urlsplit(response.request.url).query))
        body = response.request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if isinstance(body, str):
            params.update(parse_qsl(body))
        module = params.get("list") or params.get("prop") or params.get("action", "?")
        self.asked[(urlsplit(response.request.url).netloc, module)] += 1
        return response

    def __enter__(self) -> Requests:
        from pywikibot.comms import http

        http.session.hooks["response"].append(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        from pywikibot.comms import http

        http.session.hooks["response"].remove(self._hook)


def program_text(names: list[str], hosts: list[str]) -> str:
    today = datetime.now(UTC).date()
    rows = "".join(f"{{{{Participant table row|username={n}|joined={today}}}}}\n" for n in names)
    return (
        "{{Program details\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=1)}\n"
        f"|wikis={', '.join(hosts)}\n}}}}\n"
        f"{{{{Participants table}}}}\n{rows}{{{{End of participants table}}}}\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--participants", type=int, default=10)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=3)
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="programs-bot-cycle-"))
    farm = start_farm(root / "farm")
    try:
        os.environ["PYWIKIBOT_DIR"] = str(
            write_pywikibot_config(root / "pywikibot", farm.wikis, farm.content)
        )
        return run(farm, root, options)
    finally:
        farm.stop()
        shutil.rmtree(root, ignore_errors=True)


def run(farm: Any, root: Path, options: argparse.Namespace) -> int:
    import pywikibot

    from bot.jobs.scheduler import Scheduler
    from bot.store import Store

    pywikibot.config.minthrottle = 0
    pywikibot.config.put_throttle = 0
    rng = random.Random(options.seed)
    hosts = [farm.content.host, farm.media.host]
    admin = farm.content.admin_client()
    farm.content.create_users(POOL)
    farm.media.create_users(POOL)
    for name in POOL:  # an article each, so that every program counts something
        farm.content.client(name).edit(f"{name} start", "Before.")
    store = Store(f"sqlite:///{root / 'cycle.sqlite'}")
    site = pywikibot.Site(farm.content.name, farm.content.name)
    scheduler = Scheduler(store, site, worker_id="bench-cycle")
    made = 0
    rows = []
    for size in sorted(options.programs):
        while made < size:
            names = rng.sample(POOL, options.participants)
            admin.edit(f"Content Wiki:Cycle program {made:03d}", program_text(names, hosts))
            made += 1
        scheduler.discover()
        started = time.perf_counter()
        first = scheduler.cycle()
        counted_in = time.perf_counter() - started
        authors = set()
        for n in range(options.edits):
            author = rng.choice(POOL)
            authors.add(author)
            farm.content.client(author).edit(f"Cycle article {size} {n}", "New for all. " * n)
        farm.media.client(rng.choice(sorted(authors))).upload(
            f"Cycle-{size}.png", tiny_png(size % 200)
        )
        concerned = sum(1 for e in store.schedule_entries() if set(e.participants) & authors)
        with Requests() as counter:
            started = time.perf_counter()
            result = scheduler.cycle()
            seconds = time.perf_counter() - started
        per_host = Counter(host for host, _ in counter.asked.elements())
        modules = ", ".join(
            f"{host.split(':')[-1]} {module} {n}"
            for (host, module), n in sorted(counter.asked.items())
        )
        rows.append(
            (size, first.refreshed, counted_in, result, seconds, per_host, modules, concerned)
        )
        print(f"{size} programs: {dict(per_host)} requests in {seconds:.2f} s ({modules})")
    print()
    print(
        "| programs | concerned | figures updated (summed over the wikis) | refreshed "
        "| requests per wiki (content / media) | cycle time |"
    )
    print("|---|---|---|---|---|---|")
    for size, _, _, result, seconds, per_host, _, concerned in rows:
        print(
            f"| {size} | {concerned} | {result.active} | {result.refreshed} | "
            f"{per_host[farm.content.host]} / {per_host[farm.media.host]} | {seconds:.2f} s |"
        )
    print()
    for size, refreshed, counted_in, *_ in rows:
        print(f"first cycle with {size} programs: {refreshed} counted in {counted_in:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
