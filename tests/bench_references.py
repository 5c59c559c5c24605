"""Benchmark: what the references-added figure costs, on the refresh benchmark's data set.

    .venv/bin/python tests/bench_references.py [--participants 1000] [--revisions 100000]
        [--new-edits 100]

Uses the data set of tests/bench_data.py (built or reused, restored to its pristine state),
makes one program page listing every participant on both wikis, and counts it with the
bot's own counter (in this process, Pywikibot logged in and warmed up first):

1. a first count over an empty store: every counted article edit's text and its parent's
   are read;
2. a repeat full recount: the store knows every text, none is read;
3. an incremental count after ``--new-edits`` edits by participants: only the new
   revisions (and parents the store does not know) are read.

For each: the texts read, the requests that read them (``prop=revisions``) against the
fewest the API allows (500 revisions a request for the bot account), the seconds the
references took (reading and keeping the texts' counts) and the whole count's seconds and
requests. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cycle import Requests
from bench_data import build, open_farm
from harness import write_pywikibot_config

TITLE = "Project:References benchmark"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--revisions", type=int, default=100_000)
    parser.add_argument("--new-edits", type=int, default=100)
    options = parser.parse_args()
    dataset = build(options.participants, options.revisions)
    farm = open_farm(dataset)
    tmp = Path(tempfile.mkdtemp(prefix="programs-bot-bench-references-"))
    try:
        os.environ["PYWIKIBOT_DIR"] = str(
            write_pywikibot_config(tmp / "pywikibot", farm.wikis, farm.content)
        )
        return run(farm, dataset, tmp, options)
    finally:
        farm.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def run(farm: Any, dataset: Any, tmp: Path, options: Any) -> int:
    # Pywikibot reads PYWIKIBOT_DIR when it is first imported, which bench_refresh does.
    import pywikibot

    import bot.jobs.count as count_module
    from bench_refresh import new_edits, program_text
    from bot.core.program_page import parse_program_page
    from bot.core.titles import program_key
    from bot.jobs.count import ProgramCounter
    from bot.store import Store
    from bot.wiki.sites import host_of

    hosts = [farm.content.host, farm.media.host]
    start = dataset.window_start[:10]
    end = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    text = program_text(dataset.participants, start, end, hosts, start)
    farm.content.admin_client().edit(TITLE, text)
    site = pywikibot.Site(farm.content.name, farm.content.name)
    page = pywikibot.Page(site, TITLE)
    program = parse_program_page(page.get())
    key = program_key(host_of(site), page.pageid)
    for wiki in farm.wikis:  # log in and read the site information before measuring
        pywikibot.Site(wiki.name, wiki.name).login()
    counter = ProgramCounter(Store(f"sqlite:///{tmp / 'store.sqlite'}"))

    spent: dict[str, Any] = {"seconds": 0.0, "texts": {}}
    original = count_module.fetch_revision_references

    def timed(wiki_site: Any, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        found = original(wiki_site, *args, **kwargs)
        spent["seconds"] += time.perf_counter() - began
        wiki = host_of(wiki_site)
        spent["texts"][wiki] = spent["texts"].get(wiki, 0) + len(found)
        return found

    count_module.fetch_revision_references = timed  # type: ignore[assignment]
    store_seconds = {"seconds": 0.0}
    remember = counter.store.remember_revision_references

    def timed_remember(*args: Any, **kwargs: Any) -> None:
        began = time.perf_counter()
        remember(*args, **kwargs)
        store_seconds["seconds"] += time.perf_counter() - began

    counter.store.remember_revision_references = timed_remember  # type: ignore[method-assign]

    rows = []

    def measure(label: str, *, full: bool) -> None:
        spent.update(seconds=0.0, texts={})
        store_seconds["seconds"] = 0.0
        with Requests() as requests:
            began = time.perf_counter()
            computation = counter.count(program, key, full=full, home=host_of(site))
            seconds = time.perf_counter() - began
        counter.remember(key, computation)
        asked = sum(n for (_, module), n in requests.asked.items() if module == "revisions")
        # Every text in as few requests as the bot account's limit allows, per wiki.
        floor = sum(math.ceil(n / 500) for n in spent["texts"].values())
        assert computation.outcomes is not None
        rows.append(
            (
                label,
                sum(spent["texts"].values()),
                asked,
                floor,
                spent["seconds"] + store_seconds["seconds"],
                seconds,
                sum(requests.asked.values()),
                computation.outcomes.total.references_added,
                computation.outcomes.total.mainspace_edits,
            )
        )
        print(f"{label}: {rows[-1]}", flush=True)

    measure("first count (empty store)", full=True)
    measure("repeat full recount", full=True)
    new_edits(farm, dataset.participants, options.new_edits)
    measure(f"incremental after {options.new_edits} edits", full=False)
    print()
    print(
        "| count | texts read | text requests (floor) | references: s | whole count: s "
        "| all requests | references added | mainspace edits |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, texts, asked, floor, refs_s, total_s, requests, refs, edits in rows:
        print(
            f"| {label} | {texts:,} | {asked} ({floor}) | {refs_s:.2f} | {total_s:.2f} "
            f"| {requests} | {refs:,} | {edits:,} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
