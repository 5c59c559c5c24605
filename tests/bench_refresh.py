"""Benchmark: what a refresh costs, against the API's floor and a plain Pywikibot script.

    .venv/bin/python tests/bench_refresh.py [--participants 1000] [--revisions 100000]
        [--programs 50] [--workers 4] [--new-edits 100] [--json bench-refresh.json]

Builds (or reuses, see tests/bench_data.py) a large data set on two real local wikis,
then measures side by side, in one run (issue 6):

1. a full refresh of one program listing every participant, window covering most
   revisions: API requests against the floor, wall time against replaying exactly the
   floor requests with plain ``requests``, the same for the plain Pywikibot way (one
   ``User.contributions()`` loop per participant and wiki plus one upload-log read), and
   the peak memory (ru_maxrss of a subprocess that does only that refresh);
2. an incremental refresh after ``--new-edits`` new edits by participants;
3. ``--programs`` programs refreshed by one Scheduler process, then by 2 and by
   ``--workers`` Scheduler processes sharing one SQLite store (leases), wall time ratio;
   each run gets its own copy of the pages (same participant lists), so that every run
   edits pages it has not edited yet. CPU seconds (machine, php servers, workers) are
   recorded per run: the wikis run on the same cores as the workers here.

Cached data sets are restored to their pristine snapshot at the start of each run and
served on the ports chosen when they were built (those ports must be free).

The floor, per wiki: for each batch of 500 names (``ucuser``, apihighlimits),
max(1, ceil(rows of the batch / 5000)) usercontribs requests, plus
max(1, ceil(upload log rows of the window / 5000)) logevents requests. ``list=users``,
``prop=info`` and the extra figures are not part of the floor: the bot's count includes
them, and the table shows them separately.

Pywikibot's read throttle is 0 everywhere (user-config ``minthrottle = 0``), for the bot,
the plain loop and the scheduler processes alike. Prints a table; writes JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests

from bench_data import Dataset, build, open_farm
from harness import Farm, write_pywikibot_config

MAIN_TITLE = "Content Wiki:Bench refresh program"
PROGRAM_TITLE = "Content Wiki:Bench scheduler program {set} {n:02d}"
BATCH, LIMIT = 500, 5000


# -- program pages -------------------------------------------------------------------------


def program_text(names: list[str], start: str, end: str, hosts: list[str], joined: str) -> str:
    rows = "".join(f"{{{{Participant table row|username={n}|joined={joined}}}}}\n" for n in names)
    return (
        "{{Program details\n|name=Benchmark\n"
        f"|start={start}\n|end={end}\n|wikis={', '.join(hosts)}\n}}}}\n"
        f"{{{{Participants table}}}}\n{rows}{{{{End of participants table}}}}\n"
    )


# -- counting requests by module (in children) ---------------------------------------------


class ModuleCounter:
    """Counts Pywikibot's HTTP requests by API module (list=, prop=, meta= or action=)."""

    def __init__(self) -> None:
        self.by_module: Counter[str] = Counter()
        self.by_host: Counter[str] = Counter()
        #: Seconds from sending each request to its answer's headers, by module.
        self.elapsed: Counter[str] = Counter()

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        request = response.request
        params = dict(parse_qsl(urlsplit(request.url).query))
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if isinstance(body, str) and "=" in body:
            params.update(parse_qsl(body))
        module = params.get("action", "?")
        if module == "query":
            parts = [f"{k}={params[k]}" for k in ("list", "prop", "generator") if k in params]
            # Pywikibot adds meta=userinfo to its queries; name the module it was asked for.
            module = "+".join(parts) or f"meta={params.get('meta', '')}"
        self.by_module[module] += 1
        self.by_host[urlsplit(request.url).netloc] += 1
        self.elapsed[module] += response.elapsed.total_seconds()
        return response

    @property
    def count(self) -> int:
        return sum(self.by_module.values())

    def __enter__(self) -> ModuleCounter:
        from pywikibot.comms import http

        http.session.hooks["response"].append(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        from pywikibot.comms import http

        http.session.hooks["response"].remove(self._hook)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm_sites(hosts: list[str]) -> dict[str, Any]:
    import pywikibot

    from bot.wiki.sites import site_for_host

    pywikibot.config.minthrottle = 0
    sites = {}
    for host in hosts:
        site = site_for_host(host)
        site.login()
        site.has_right("apihighlimits")
        sites[host] = site
    return sites


def child_refresh(args: dict[str, Any]) -> dict[str, Any]:
    """One full or incremental refresh of the main program (no save), in its own process."""
    import pywikibot

    from bot.core.dates import format_moment
    from bot.core.program_page import parse_program_page
    from bot.jobs.count import ProgramCounter
    from bot.store import Store

    _warm_sites(args["hosts"])
    site = pywikibot.Site("content", "content")
    page = pywikibot.Page(site, MAIN_TITLE)
    program = parse_program_page(page.get())
    key = f"{args['hosts'][0]}#{page.pageid}"
    counter_of = ProgramCounter(Store(args["store"]))
    rss_before = _rss_mb()
    with ModuleCounter() as counter:
        started = time.perf_counter()
        computation = counter_of.count(program, key, full=args["full"])
        seconds = time.perf_counter() - started
    rss_peak = _rss_mb()
    counter_of.remember(key, computation)
    window = program.details.window
    assert window is not None, "the benchmark program has a window"
    return {
        "seconds": seconds,
        "requests": counter.count,
        "by_module": dict(counter.by_module),
        "by_host": dict(counter.by_host),
        "elapsed_by_module": {k: round(v, 3) for k, v in counter.elapsed.items()},
        "rss_before_mb": round(rss_before, 1),
        "rss_peak_mb": round(rss_peak, 1),
        "revisions": {r.wiki: len(r.revisions) for r in computation.records},
        "uploads": {r.wiki: len(r.uploads) for r in computation.records},
        "participants_counted": len(computation.outcomes.participants)
        if computation.outcomes
        else 0,
        "window": [format_moment(window.start), format_moment(window.end)],
    }


def child_plain(args: dict[str, Any]) -> dict[str, Any]:
    """The plain Pywikibot way: one contributions() loop per participant, one log read."""
    import pywikibot

    sites = _warm_sites(args["hosts"])
    start, end = (pywikibot.Timestamp.fromISOformat(t) for t in args["window"])
    rows: Counter[str] = Counter()
    with ModuleCounter() as counter:
        started = time.perf_counter()
        for host, site in sites.items():
            for name in args["names"]:
                user = pywikibot.User(site, name)
                for _ in user.contributions(start=end, end=start, total=None):
                    rows[host] += 1
            for _ in site.logevents(logtype="upload", start=end, end=start):
                rows[host + " uploads"] += 1
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "requests": counter.count,
        "rows": dict(rows),
        "by_module": dict(counter.by_module),
    }


def child_scheduler(args: dict[str, Any]) -> dict[str, Any]:
    """One Scheduler process: warm up, say ready, wait for "go", cycle until all are done."""
    import pywikibot

    from bot.jobs.scheduler import Scheduler
    from bot.store import Store

    _warm_sites(args["hosts"])
    store = Store(args["store"])
    site = pywikibot.Site("content", "content")
    scheduler = Scheduler(store, site, worker_id=args["worker_id"])
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    refreshed = failed = cycles = 0  # refreshed: attempts, including pages another had
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        result = scheduler.cycle()
        cycles += 1
        refreshed += result.refreshed
        failed += result.failed
        entries = store.schedule_entries()
        if all(e.last_refreshed is not None or e.last_error for e in entries):
            break
        time.sleep(0.2)  # the rest is held by other workers: do not spin on the wiki
    return {
        "seconds": time.perf_counter() - started,
        "refreshed": refreshed,
        "failed": failed,
        "cycles": cycles,
    }


CHILDREN = {"refresh": child_refresh, "plain": child_plain, "scheduler": child_scheduler}


def child_main(kind: str) -> int:
    args = json.loads(os.environ["BENCH_CHILD_ARGS"])
    result = CHILDREN[kind](args)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def run_child(kind: str, args: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind],
        env={**env, "BENCH_CHILD_ARGS": json.dumps(args)},
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[7:])
            return result
    raise RuntimeError(f"child {kind} failed ({proc.returncode}): {proc.stderr[-3000:]}")


# -- the floor, replayed with plain requests -----------------------------------------------


def bot_session(wiki: Any) -> requests.Session:
    session = requests.Session()
    token = session.get(
        wiki.api_url,
        params={"action": "query", "meta": "tokens", "type": "login", "format": "json"},
    ).json()["query"]["tokens"]["logintoken"]
    answer = session.post(
        wiki.api_url,
        data={
            "action": "login",
            "lgname": wiki.bot_login_name,
            "lgpassword": wiki.bot_password,
            "lgtoken": token,
            "format": "json",
        },
    ).json()
    if answer.get("login", {}).get("result") != "Success":
        raise RuntimeError(f"bot login failed on {wiki.name}: {answer}")
    return session


def _replay(
    session: requests.Session, url: str, params: dict[str, Any], key: str
) -> tuple[int, int]:
    """(requests, rows) for one query and its continuations."""
    params = {"action": "query", "format": "json", "formatversion": 2, "continue": "", **params}
    made = rows = 0
    while True:
        answer = session.post(url, data=params).json()
        made += 1
        if "error" in answer:
            raise RuntimeError(f"replay error: {answer['error']}")
        rows += len(answer.get("query", {}).get(key, []))
        if "continue" not in answer:
            return made, rows
        params.update(answer["continue"])


def replay_floor(farm: Farm, names: list[str], window: list[str]) -> dict[str, Any]:
    """Exactly the floor's requests (usercontribs per 500 names, one upload-log read)."""
    sessions = {wiki.name: bot_session(wiki) for wiki in farm.wikis}
    result: dict[str, Any] = {"requests": 0, "floor": 0, "per_wiki": {}}
    started = time.perf_counter()
    for wiki in farm.wikis:
        session = sessions[wiki.name]
        batches = []
        ordered = sorted(names)
        for i in range(0, len(ordered), BATCH):
            made, rows = _replay(
                session,
                wiki.api_url,
                {
                    "list": "usercontribs",
                    "ucuser": "|".join(ordered[i : i + BATCH]),
                    "ucstart": window[0],
                    "ucend": window[1],
                    "ucdir": "newer",
                    "ucprop": "ids|title|timestamp|sizediff|flags",
                    "uclimit": "max",
                },
                "usercontribs",
            )
            batches.append((made, rows))
        log_made, log_rows = _replay(
            session,
            wiki.api_url,
            {
                "list": "logevents",
                "letype": "upload",
                "lestart": window[0],
                "leend": window[1],
                "ledir": "newer",
                "leprop": "user|title|timestamp|type",
                "lelimit": "max",
            },
            "logevents",
        )
        floor = sum(max(1, math.ceil(rows / LIMIT)) for _, rows in batches)
        floor += max(1, math.ceil(log_rows / LIMIT))
        made = sum(m for m, _ in batches) + log_made
        result["per_wiki"][wiki.host] = {
            "batches": [r for _, r in batches],
            "log_rows": log_rows,
            "floor": floor,
            "requests": made,
        }
        result["floor"] += floor
        result["requests"] += made
    result["seconds"] = time.perf_counter() - started
    return result


# -- the benchmark -------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--revisions", type=int, default=100_000)
    parser.add_argument("--programs", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--new-edits", type=int, default=100)
    parser.add_argument("--json", default="bench-refresh.json")
    parser.add_argument("--skip-plain", action="store_true", help="leave out the plain loop")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        return child_main(options.child)

    dataset = build(options.participants, options.revisions)
    farm = open_farm(dataset)
    tmp = Path(tempfile.mkdtemp(prefix="programs-bot-bench-refresh-"))
    try:
        pwb = write_pywikibot_config(tmp / "pywikibot", farm.wikis, farm.content)
        env = {**os.environ, "PYWIKIBOT_DIR": str(pwb)}
        figures = run(farm, dataset, tmp, env, options)
    finally:
        farm.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report(figures, options)
    return 0


def run(
    farm: Farm, dataset: Dataset, tmp: Path, env: dict[str, str], options: Any
) -> dict[str, Any]:
    hosts = [farm.content.host, farm.media.host]
    names = dataset.participants
    today = datetime.now(UTC).date()
    start = dataset.window_start[:10]
    end = (today + timedelta(days=30)).isoformat()
    admin = farm.content.admin_client()
    admin.edit(MAIN_TITLE, program_text(names, start, end, hosts, start))
    figures: dict[str, Any] = {
        "dataset": {
            "participants": len(names),
            "noise_accounts": len(dataset.noise),
            "revisions": dataset.revisions,
            "pages": dataset.pages,
            "redirects": dataset.redirects,
            "uploads": dataset.uploads,
            "build_seconds": dataset.build_seconds,
            "window": [start, end],
        },
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    store = f"sqlite:///{tmp / 'main.sqlite'}"
    common = {"hosts": hosts, "store": store}

    # 1. Full refresh (own process: its ru_maxrss is the refresh's), floor replay around it.
    print("full refresh ...", flush=True)
    window = run_child(
        "refresh", {**common, "full": False, "store": f"sqlite:///{tmp / 'warm.sqlite'}"}, env
    )["window"]
    replay_a = replay_floor(farm, names, window)
    full = run_child("refresh", {**common, "full": True}, env)
    replay_b = replay_floor(farm, names, window)
    replay = min(replay_a, replay_b, key=lambda r: r["seconds"])
    figures["floor_replay"] = {**replay, "seconds_runs": [replay_a["seconds"], replay_b["seconds"]]}
    figures["full"] = full
    fetch_modules = ("list=users", "list=usercontribs", "list=logevents")
    figures["full"]["fetch_requests"] = sum(
        n for m, n in full["by_module"].items() if m in fetch_modules
    )

    # 2. The plain Pywikibot way.
    if not options.skip_plain:
        print("plain Pywikibot loop ...", flush=True)
        figures["plain"] = run_child("plain", {**common, "names": names, "window": window}, env)

    # 3. Incremental refresh after new edits (the full child remembered what it counted).
    print(f"{options.new_edits} new edits, incremental refresh ...", flush=True)
    editors = random.Random(5).sample(names, 10)
    plan: dict[tuple[int, str], list[int]] = {}
    for i in range(options.new_edits):  # half on each wiki, spread over 10 participants
        plan.setdefault((i % 2, editors[(i // 2) % len(editors)]), []).append(i)

    def edit(item: tuple[tuple[int, str], list[int]]) -> None:
        (index, name), numbers = item
        client = farm.wikis[index].client(name)
        for i in numbers:
            client.append(f"Bench new edits by {name}", f"\nNew edit {i} at {time.time()}.")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(edit, plan.items()))
    incremental = run_child("refresh", {**common, "full": False}, env)
    check = run_child(
        "refresh", {**common, "full": True, "store": f"sqlite:///{tmp / 'check.sqlite'}"}, env
    )
    incremental["matches_full"] = incremental["revisions"] == check["revisions"]
    incremental["full_after_edits"] = {
        "revisions": check["revisions"],
        "requests": check["requests"],
    }
    figures["incremental"] = incremental

    # 4. Programs refreshed by 1 and by N scheduler processes (different page sets with the
    # same participants, so that each run edits pages it has not edited before).
    print(f"{options.programs} programs, 1 vs {options.workers} workers ...", flush=True)
    rng = random.Random(11)
    lists = [rng.sample(names, rng.randint(20, 50)) for _ in range(options.programs)]
    runs = [("1", 1, "A"), ("2", 2, "C"), (str(options.workers), options.workers, "B")]
    runs = list({label: (label, w, ps) for label, w, ps in runs}.values())
    sets = [ps for _, _, ps in runs]
    jobs = [(s, n, lists[n]) for s in sets for n in range(options.programs)]

    def make(job: tuple[str, int, list[str]]) -> None:
        s, n, members = job
        farm.content.admin_client().edit(
            PROGRAM_TITLE.format(set=s, n=n), program_text(members, start, end, hosts, start)
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(make, jobs))
    figures["scheduler"] = {}
    for label, workers, page_set in runs:
        figures["scheduler"][label] = run_schedulers(
            tmp, env, hosts, page_set, workers, options.programs, farm
        )
    return figures


def _cpu_ticks(farm: Farm) -> dict[str, float]:
    """CPU seconds so far: machine-wide (/proc/stat), php servers, reaped children."""
    hz = os.sysconf("SC_CLK_TCK")
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(x) for x in fields) - int(fields[3]) - int(fields[4])  # minus idle, iowait
    groups = {w._server.pid for w in farm.wikis}
    php = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(parts[2]) in groups:  # pgrp
            php += int(parts[11]) + int(parts[12])  # utime, stime
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "machine": busy / hz,
        "php_servers": php / hz,
        "workers": children.ru_utime + children.ru_stime,
    }


def run_schedulers(
    tmp: Path,
    env: dict[str, str],
    hosts: list[str],
    page_set: str,
    workers: int,
    programs: int,
    farm: Farm,
) -> dict[str, Any]:
    from bot.core.cadence import RUNNING
    from bot.store import Store  # the parent only fills the schedule

    url = f"sqlite:///{tmp / f'sched-{page_set}.sqlite'}"
    store = Store(url)
    now = datetime.now(UTC)
    for n in range(programs):
        store.add_to_schedule(
            farm.content.host, PROGRAM_TITLE.format(set=page_set, n=n), "program", RUNNING, now
        )
    procs = []
    logs = []
    for w in range(workers):
        args = {"hosts": hosts, "store": url, "worker_id": f"bench-{page_set}-{w}"}
        # Output to a file, not a pipe: Pywikibot writes much (diffs, logs), and a full pipe
        # would block one worker while the parent waits for another.
        logs.append(tmp / f"sched-{page_set}-{w}.log")
        with logs[-1].open("w") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--child", "scheduler"],
                    env={**env, "BENCH_CHILD_ARGS": json.dumps(args)},
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
    deadline = time.monotonic() + 300
    for proc, path in zip(procs, logs, strict=True):
        while "ready" not in path.read_text().splitlines():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scheduler child failed: {path.read_text()[-3000:]}")
            time.sleep(0.1)
    cpu_before = _cpu_ticks(farm)
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc, path in zip(procs, logs, strict=True):
        proc.wait(timeout=1500)
        text = path.read_text()
        found = [json.loads(x[7:]) for x in text.splitlines() if x.startswith("RESULT ")]
        if not found:
            raise RuntimeError(f"scheduler child failed: {text[-3000:]}")
        results.append(found[0])
    seconds = time.perf_counter() - started
    cpu = {k: round(v - cpu_before[k], 1) for k, v in _cpu_ticks(farm).items()}
    entries = store.schedule_entries()
    return {
        "seconds": seconds,
        "workers": workers,
        "programs": programs,
        "refreshed": sum(1 for e in entries if e.last_refreshed is not None),
        "edited": sum(1 for e in entries if e.last_page_edit is not None),
        "refresh_ms": sum(e.last_duration_ms or 0 for e in entries),
        "failed": sum(r["failed"] for r in results),
        "errors": [e.last_error for e in entries if e.last_error][:3],
        "requests": sum(e.last_requests or 0 for e in entries),
        "per_worker": results,
        # CPU seconds used during the run: the whole machine (all cores, every process,
        # also other users'), the two php -S servers, and the worker processes.
        "cpu_seconds": cpu,
        "machine_busy_share": round(cpu["machine"] / (seconds * (os.cpu_count() or 1)), 2),
    }


# -- the table -----------------------------------------------------------------------------


def report(f: dict[str, Any], options: Any) -> None:
    full, replay = f["full"], f["floor_replay"]
    inc = f["incremental"]
    participants = f["dataset"]["participants"]
    per_wiki_target = math.ceil(participants / BATCH) + 3
    inc_per_wiki = max(inc["by_host"].values())
    rows: list[tuple[str, str, str, str, bool | None]] = []

    def row(name: str, target: str, measured: str, ratio: float | None, ok: bool | None) -> None:
        rows.append((name, target, measured, "" if ratio is None else f"{ratio:.2f}", ok))

    r = full["requests"] / replay["floor"]
    row("full: requests / floor", "<= 1.2", f"{full['requests']} / {replay['floor']}", r, r <= 1.2)
    r2 = full["fetch_requests"] / replay["floor"]
    row(
        "  (users+contribs+log only) / floor",
        "info",
        f"{full['fetch_requests']} / {replay['floor']}",
        r2,
        None,
    )
    r = full["seconds"] / replay["seconds"]
    row(
        "full: time / floor replay",
        "<= 1.5",
        f"{full['seconds']:.2f} s / {replay['seconds']:.2f} s",
        r,
        r <= 1.5,
    )
    waits = full["elapsed_by_module"]
    row(
        "  server wait by module (s)",
        "info",
        ", ".join(f"{k.split('=')[-1]} {v:.2f}" for k, v in waits.items()),
        None,
        None,
    )
    if "plain" in f:
        plain = f["plain"]
        r = plain["requests"] / full["requests"]
        row(
            "plain loop requests / bot's",
            ">= 20",
            f"{plain['requests']} / {full['requests']}",
            r,
            r >= 20,
        )
        r = plain["seconds"] / full["seconds"]
        row(
            "plain loop time / bot's",
            "info",
            f"{plain['seconds']:.1f} s / {full['seconds']:.2f} s",
            r,
            None,
        )
    row(
        "full: peak memory (ru_maxrss)",
        "< 300 MB",
        f"{full['rss_peak_mb']:.0f} MB (before {full['rss_before_mb']:.0f})",
        None,
        full["rss_peak_mb"] < 300,
    )
    row(
        "incremental: requests per wiki",
        f"<= {per_wiki_target}",
        json.dumps(inc["by_host"]),
        None,
        inc_per_wiki <= per_wiki_target,
    )
    row("incremental: time", "< 2 s", f"{inc['seconds']:.2f} s", None, inc["seconds"] < 2)
    row(
        "incremental = full after edits",
        "same revisions",
        str(inc["matches_full"]),
        None,
        inc["matches_full"],
    )
    one, many = f["scheduler"]["1"], f["scheduler"][str(options.workers)]
    r = one["seconds"] / many["seconds"]
    row(
        f"{one['programs']} programs: 1 / {options.workers} workers",
        ">= 1.6",
        f"{one['seconds']:.1f} s / {many['seconds']:.1f} s",
        r,
        r >= 1.6,
    )
    if "2" in f["scheduler"] and options.workers != 2:
        two = f["scheduler"]["2"]
        r = one["seconds"] / two["seconds"]
        row("  1 / 2 workers", "info", f"{one['seconds']:.1f} s / {two['seconds']:.1f} s", r, None)
    busy = ", ".join(f"{k}w {v['machine_busy_share']:.0%}" for k, v in f["scheduler"].items())
    row("  machine CPU busy (all cores)", "info", busy, None, None)
    f["table"] = [
        dict(zip(("measure", "target", "measured", "ratio", "pass"), x, strict=True)) for x in rows
    ]
    width = max(len(x[0]) for x in rows)
    d = f["dataset"]
    print(
        f"\ndata set: {d['participants']} participants, revisions {d['revisions']}, "
        f"uploads {d['uploads']}, "
        f"built in {d['build_seconds']:.0f} s; machine: {f['machine']['cpus']} CPUs"
    )
    print(f"{'measure':<{width}}  {'target':<14}  {'measured':<34}  ratio  pass")
    for name, target, measured, ratio, ok in rows:
        verdict = "-" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name:<{width}}  {target:<14}  {measured:<34}  {ratio:>5}  {verdict}")
    Path(options.json).write_text(json.dumps(f, indent=2, default=str), encoding="utf-8")
    print(f"figures written to {options.json}")


if __name__ == "__main__":
    sys.exit(main())
