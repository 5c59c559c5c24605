"""Benchmark: how fast the Join API accepts joins, and how soon the page shows them all.

    .venv/bin/python tests/bench_joins.py [--users 200] [--concurrency 32] [--workers 1]

Starts a real local MediaWiki wiki, the API (werkzeug's threaded server, SQLite store)
and the worker(s) in this process, joins every user to one program at once over HTTP,
and prints figures. Not part of the test suite: it measures, it does not assert.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import start_farm, write_pywikibot_config

TITLE = "Content Wiki:Benchmark edit-a-thon"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    options = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="programs-bot-bench-"))
    farm = start_farm(root / "farm")
    try:
        # Pywikibot reads its configuration once, at import: write it first.
        os.environ["PYWIKIBOT_DIR"] = str(
            write_pywikibot_config(root / "pywikibot", farm.wikis, farm.content)
        )
        return run(farm, root, options)
    finally:
        farm.stop()
        shutil.rmtree(root, ignore_errors=True)


def run(farm: object, root: Path, options: argparse.Namespace) -> int:
    import pywikibot

    from bot.core.program_page import parse_program_page
    from bot.store import Store
    from gadget_api import create_app
    from join_load import ServedApp, WorkerThread, join_all, mint_tokens, wait_until_none_waiting

    content = farm.content  # type: ignore[attr-defined]
    users = [f"Bench user {n:04d}" for n in range(options.users)]
    content.create_users(users)
    today = datetime.now(UTC).date()
    content.admin_client().edit(
        TITLE,
        "{{Program details\n|name=Benchmark\n"
        f"|start={today}\n|end={today + timedelta(days=3)}\n|wikis={content.host}\n"
        "|registration=open\n}}\n{{Participants table}}\n{{End of participants table}}\n",
    )
    store_url = f"sqlite:///{root / 'api.sqlite'}"
    app = create_app(
        {
            "secret_key": "benchmark-secret-key-0123",
            "store_url": store_url,
            "public_url": "http://127.0.0.1",
            "wikis": [
                {
                    "host": content.host,
                    "api_url": content.api_url,
                    "origin": content.url,
                    "oauth_url": content.index_url,
                    "consumer_key": "k" * 32,
                    "consumer_secret": "s" * 32,
                }
            ],
        }
    )
    store = Store(store_url)
    tokens = mint_tokens(store, content.host, users)
    pywikibot.Site(content.name, content.name)
    served = ServedApp(app)
    workers = [WorkerThread(store) for _ in range(options.workers)]
    before = content.sql("SELECT COUNT(*) FROM revision")[0][0]
    try:
        started = time.monotonic()
        burst = join_all(
            served.url, content.host, TITLE, list(tokens.values()), options.concurrency
        )
        wait_until_none_waiting(store, timeout=600)
        all_shown = time.monotonic() - started
    finally:
        for worker in workers:
            worker.stop()
        served.stop()
    text = content.admin_client().get_text(TITLE) or ""
    listed = [row.username for row in parse_program_page(text).rows]
    edits = content.sql("SELECT COUNT(*) FROM revision")[0][0] - before
    latencies = sorted(burst.latencies)
    accepted = sum(1 for status in burst.statuses if status == 202)
    print(f"users {options.users}, concurrency {options.concurrency}, workers {options.workers}")
    print(f"joins accepted (202): {accepted} of {len(burst.statuses)}")
    print(f"accepted per second: {accepted / burst.seconds:.1f} ({burst.seconds:.2f} s for all)")
    print(
        "latency per join: median "
        f"{statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    print(f"page showed all joins after: {all_shown:.2f} s (from the first request)")
    print(f"bot edits to the page: {edits}")
    print(f"rows on the page: {len(listed)}, distinct: {len(set(listed))}")
    return 0 if sorted(listed) == sorted(users) else 1


if __name__ == "__main__":
    sys.exit(main())
