"""Benchmark: what ``programs-bot refresh`` costs an administrator, against the API's floor.

    .venv/bin/python tests/bench_refresh.py [--participants 1000] [--revisions 100000]
        [--programs 50] [--workers 4] [--new-edits 100] [--json bench-refresh.json]
        [--skip-plain] [--latency 0.1]

Builds (or reuses, see tests/bench_data.py) a large data set on two real local wikis and
one program page listing every participant, its window covering most revisions. Then, in
one run:

1. The command itself, ``programs-bot refresh --full PAGE`` (``bot.cli.main`` in a process
   of its own, ``PYWIKIBOT_DIR`` set, every HTTP request Pywikibot makes counted by API
   module), four times:

   a. first count, cold: a fresh Pywikibot directory (user-config.py and the password file
      as the test harness writes them: no cookies, no API cache) and an empty store;
   b. repeat full recount, warm: the same directory and store again;
   c. repeat full recount, cold: a fresh directory again, the same store (which holds the
      Pywikibot session the earlier runs kept: bot.jobs.session restores it);
   d. the same over a copy of the store without the kept session (info: a fresh directory
      where no process kept one).

   Each against its floor in requests and the floor's replay in time (below); (a)'s
   process also gives the peak memory, and each run says which account it ran as.
2. The plain Pywikibot way (``--skip-plain`` leaves it out): one ``User.contributions()``
   loop per participant and wiki plus one upload-log read.
3. An incremental refresh after ``--new-edits`` edits by participants, one counted article
   moved out of the main namespace (to the User namespace), three deleted, one that was
   deleted before the first count undeleted, and one turned into a redirect by a
   non-participant: ``programs-bot refresh PAGE``, timed, beside its own floor replayed
   before and after it (``replay_incremental``: from each wiki's fetch mark in the store,
   the requests an incremental refresh cannot do without); then ``refresh --full`` over a
   copy of the store as it was before that refresh (a fresh Pywikibot directory): the page
   it leaves must be the one the incremental refresh left. A full count over an empty
   store is shown beside it (it cannot know the deleted articles: only the store does).
   Then the same in a process that refreshed the program before (as ``programs-bot run``
   refreshes each running program every few minutes): ``--new-edits`` more edits while it
   waits, its incremental refresh timed beside its own floor replayed (info). Both give
   the CPU the bot's process used meanwhile (info: it moves less with the hour than the
   time does).
   Then ``--new-edits`` more edits and the command's incremental refresh with
   ``--latency`` seconds (0.1) added before each of its requests, as for a bot far from
   its wikis, in two alternating pairs from the same store and page: with its early read
   (the first requests sent while the page is parsed) and without it (the same store with
   the fetch marks' windows taken out, so the first requests go out after the parse);
   medians (info).
4. ``--programs`` programs refreshed by one Scheduler process, then by 2 and by
   ``--workers`` processes sharing one SQLite store (leases), wall time ratio; each run
   gets its own copy of the pages. CPU seconds (machine, php servers, workers) are
   recorded per run: the wikis run on the same cores as the workers here, so the table
   also shows the most any number of processes could gain on this machine (the 1-process
   time over the CPU seconds of the run with more, spread over every core).

The floor of a refresh, in requests:

- fetch, per wiki: for each batch of 500 names (``ucuser``, apihighlimits)
  max(1, ceil(rows of the batch / 5000)) usercontribs requests, plus
  max(1, ceil(upload log rows of the window / 5000)) logevents requests;
- page states: ceil(distinct main-namespace pages of the counted revisions / 500) per wiki
  for a first count (the store knows none of them), none for a repeat recount (no page
  changed between the runs);
- texts (the references added): ceil(counted article edits / 500) + ceil(their parents not
  among them / 500) per wiki for a first count, none for a repeat recount (the store keeps
  what each text holds);
- the save: page read, stop page, token, edit when the run saved the page; the page read
  alone when it had nothing to change.

The floor replay sends exactly those requests with plain ``requests`` (a session logged
in as the bot beforehand): the usercontribs reads (the properties the bot asks, the
summary included) and logevents reads, ``prop=info`` by
``pageids`` 500 at a time, ``prop=revisions`` with content by ``revids`` 500 at a time,
the program page and stop page reads, a CSRF token, and an edit
of a scratch page (``User:ProgramsBot/Floor replay``) with the program page's text, so the
wiki parses and stores as much as for the bot's save. It runs twice (after the first
count and after the repeats), the faster run counts; a replay of the fetch before the
first count warms the wikis' databases, so that every measured run finds them warm.

Cached data sets are restored to their pristine snapshot at the start of each run and
served on the ports chosen when they were built (those ports must be free). Pywikibot's
read throttle is 0 everywhere (user-config ``minthrottle = 0``). Prints a table; writes
JSON.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import random
import re
import resource
import shutil
import sqlite3
import statistics
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
from bot.core.dates import format_moment
from bot.core.program_page import parse_program_page
from bot.wiki.fetch import OVERLAP
from harness import BOT_USERNAME, Farm, LocalWiki, write_pywikibot_config

MAIN_TITLE = "Content Wiki:Bench refresh program"
PROGRAM_TITLE = "Content Wiki:Bench scheduler program {set} {n:02d}"
#: Where the floor replay saves what the bot's save writes (the bot's own user space).
SCRATCH_TITLE = f"User:{BOT_USERNAME}/Floor replay"
#: The stop page the command reads before saving (its default).
STOP_TITLE = f"User:{BOT_USERNAME}/Stop"
BATCH, LIMIT = 500, 5000
#: The parts of a first count's floor besides the save.
FIRST_PARTS = ("fetch", "states", "texts")
#: Requests a save needs: page read, stop page, token, edit; with nothing to save, the read.
SAVE_FLOOR, READ_FLOOR = 4, 1
#: How an undeletion shows in the recent changes (its page's history is read again).
UNDELETION = ("delete", "restore")
#: Environment variables that would point the command elsewhere than the benchmark says.
FOREIGN_ENV = ("PROGRAMS_BOT_DB", "PROGRAMS_BOT_CONFIG", "PYWIKIBOT_DIR")
STATUS_LINE = re.compile(r"\[\d+/\d+\] [^\n]*?: ([^\n;]*); (\d+) API requests, ([\d.]+) s")


# -- program pages -------------------------------------------------------------------------


def program_text(names: list[str], start: str, end: str, hosts: list[str], joined: str) -> str:
    rows = "".join(f"{{{{Participant table row|username={n}|joined={joined}}}}}\n" for n in names)
    return (
        "{{Program details\n|name=Benchmark\n"
        f"|start={start}\n|end={end}\n|wikis={', '.join(hosts)}\n}}}}\n"
        f"{{{{Participants table}}}}\n{rows}{{{{End of participants table}}}}\n"
    )


def program_window(text: str) -> list[str]:
    """The program's window as the bot asks the API for it (start, end)."""
    window = parse_program_page(text).details.window
    assert window is not None, "the benchmark program has a window"
    return [format_moment(window.start), format_moment(window.end)]


# -- counting requests by module (in children) ---------------------------------------------


def module_of(params: dict[str, str]) -> str:
    """The API module a request asked for: list=, prop=, generator= or meta=, else action=."""
    module = params.get("action", "?")
    if module == "query":
        parts = [f"{k}={params[k]}" for k in ("list", "prop", "generator") if k in params]
        # Pywikibot adds meta=userinfo to its queries; name the module it was asked for.
        module = "+".join(parts) or f"meta={params.get('meta', '')}"
    return module


def short_module(module: str) -> str:
    for prefix in ("list=", "prop=", "meta=", "generator="):
        module = module.replace(prefix, "")
    return module


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
        module = module_of(params)
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


def _cpu_seconds() -> float:
    """The CPU this process has used, every thread (user and system): unlike wall time,
    barely moved by how busy the machine's other work is, so comparable across hours."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


def _accounts(hosts: list[str]) -> dict[str, dict[str, Any]]:
    """Which account each wiki's site ended the run as (asks nothing it has not asked)."""
    from bot.wiki.sites import site_for_host

    found = {}
    for host in hosts:
        site = site_for_host(host)
        logged_in = site.logged_in()
        found[host] = {
            "user": site.userinfo.get("name") if logged_in else None,
            "configured": site.username(),
            "logged_in": logged_in,
            "bot_group": logged_in and site.has_group("bot"),
            "apihighlimits": logged_in and site.has_right("apihighlimits"),
        }
    return found


def _add_latency(seconds: float) -> None:
    """Every HTTP request of this process waits ``seconds`` before it is sent, as if the
    wikis were that far away (a bot reaching Wikimedia's API rather than loopback)."""
    send = requests.Session.send

    def delayed(self: requests.Session, request: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return send(self, request, **kwargs)

    requests.Session.send = delayed  # type: ignore[method-assign]


def child_command(args: dict[str, Any]) -> dict[str, Any]:
    """``programs-bot ARGV``, as an administrator runs it, with its requests counted."""
    import bot.cli

    if args.get("latency"):
        _add_latency(float(args["latency"]))
    rss_before = _rss_mb()
    with ModuleCounter() as counter:
        started, cpu = time.perf_counter(), _cpu_seconds()
        code = bot.cli.main(*args["argv"])
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    rss_peak = _rss_mb()
    return {
        "argv": args["argv"],
        "exit_status": code,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "requests": counter.count,
        "by_module": dict(counter.by_module.most_common()),
        "by_host": dict(counter.by_host),
        "elapsed_by_module": {k: round(v, 3) for k, v in counter.elapsed.most_common()},
        "rss_before_mb": round(rss_before, 1),
        "rss_peak_mb": round(rss_peak, 1),
        "accounts": _accounts(args["hosts"]),
    }


def child_simulate(args: dict[str, Any]) -> dict[str, Any]:
    """What ``refresh --full -simulate`` would write (the text, which the command only
    shows as a diff), over the store given."""
    import pywikibot

    from bot.jobs.refresh import Refresher
    from bot.store import Store

    site = pywikibot.Site()
    refresher = Refresher(Store(args["store"]), simulate=True)
    result = refresher.refresh(pywikibot.Page(site, args["title"]), full=True)
    return {"new_text": result.new_text}


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

    from bot.jobs.environment import pace_garbage_collector
    from bot.jobs.scheduler import Scheduler
    from bot.store import Store

    pace_garbage_collector()  # as ``programs-bot run`` does
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


def child_resident(args: dict[str, Any]) -> dict[str, Any]:
    """An incremental refresh in a process that refreshed the program before, as ``run``
    refreshes each running program every few minutes: one refresh to warm up, "ready",
    wait for "go" (the parent makes new edits meanwhile), then the timed one."""
    import pywikibot

    from bot.jobs.environment import pace_garbage_collector
    from bot.jobs.refresh import Refresher
    from bot.store import Store

    pace_garbage_collector()  # as ``programs-bot run`` does
    _warm_sites(args["hosts"])
    refresher = Refresher(Store(args["store"]))
    page = pywikibot.Page(pywikibot.Site("content", "content"), args["title"])
    refresher.refresh(page, full=False)
    print("ready", flush=True)
    sys.stdin.readline()
    with ModuleCounter() as counter:
        started, cpu = time.perf_counter(), _cpu_seconds()
        result = refresher.refresh(pywikibot.Page(page.site, args["title"]), full=False)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "requests": counter.count,
        "saved": result.saved_revid is not None,
    }


CHILDREN = {
    "command": child_command,
    "simulate": child_simulate,
    "plain": child_plain,
    "scheduler": child_scheduler,
    "resident": child_resident,
}


def child_main(kind: str) -> int:
    args = json.loads(os.environ["BENCH_CHILD_ARGS"])
    result = CHILDREN[kind](args)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def run_child(kind: str, args: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """The child's result; ``output`` holds what it wrote besides (Pywikibot's lines)."""
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
            result["output"] = proc.stderr + "\n".join(
                x for x in proc.stdout.splitlines() if not x.startswith("RESULT ")
            )
            return result
    raise RuntimeError(f"child {kind} failed ({proc.returncode}): {proc.stderr[-3000:]}")


class WaitingChild:
    """A child that warms up, says "ready" and waits for "go" (the parent starts the clock
    or changes the wikis meanwhile). Its output goes to a file, not a pipe: Pywikibot writes
    much (diffs, logs), and a full pipe would block one child while the parent waits for
    another."""

    def __init__(self, kind: str, args: dict[str, Any], env: dict[str, str], log: Path) -> None:
        self.kind, self.log = kind, log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--child", kind],
                env={**env, "BENCH_CHILD_ARGS": json.dumps(args)},
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def wait_ready(self, deadline: float) -> None:
        while "ready" not in self.log.read_text().splitlines():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} child failed: {self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self, timeout: float) -> dict[str, Any]:
        self.proc.wait(timeout=timeout)
        text = self.log.read_text()
        found = [json.loads(x[7:]) for x in text.splitlines() if x.startswith("RESULT ")]
        if not found:
            raise RuntimeError(f"{self.kind} child failed: {text[-3000:]}")
        result: dict[str, Any] = found[0]
        return result


def pywikibot_env(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    return {**env, "PYWIKIBOT_DIR": str(directory)}


def fresh_pywikibot_dir(tmp: Path, farm: Farm, label: str) -> Path:
    """A Pywikibot directory as the harness writes one: no cookies, no API cache yet."""
    return write_pywikibot_config(tmp / f"pywikibot-{label}", farm.wikis, farm.content)


def run_command(
    farm: Farm,
    hosts: list[str],
    pwb: Path,
    *argv: str,
    label: str = "",
    latency: float = 0.0,
) -> dict[str, Any]:
    """Run ``programs-bot ARGV`` in its own process (``latency``: seconds added before each
    of its requests); did it save the program page?"""
    admin = farm.content.admin_client()
    before = admin.latest_revid(MAIN_TITLE)
    print(f"  programs-bot {' '.join(argv)}  [{label}] ...", flush=True)
    started = time.perf_counter()
    args = {"argv": list(argv), "hosts": hosts, "latency": latency}
    result = run_child("command", args, pywikibot_env(pwb))
    result["process_seconds"] = round(time.perf_counter() - started, 3)
    output = result.pop("output")
    found = STATUS_LINE.search(output)
    result["status"] = found.group(1) if found else None
    result["reported_requests"] = int(found.group(2)) if found else None
    result["reported_seconds"] = float(found.group(3)) if found else None
    result["output_tail"] = output[-1500:] if result["exit_status"] else ""
    after = admin.latest_revid(MAIN_TITLE)
    result["saved"] = after != before
    result["pywikibot_dir"] = pwb.name
    return result


# -- the floor, replayed with plain requests -----------------------------------------------


def bot_session(wiki: LocalWiki) -> requests.Session:
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


def _ask(session: requests.Session, url: str, params: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = session.post(
        url, data={"format": "json", "formatversion": 2, **params}
    ).json()
    if "error" in answer:
        raise RuntimeError(f"replay error: {answer['error']}")
    return answer


def _read_parts(
    session: requests.Session, url: str, params: dict[str, Any]
) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """(requests, rows by the answers' key) for one query and its continuations (several
    modules asked together continue side by side)."""
    params = {"action": "query", "continue": "", **params}
    made = 0
    parts: dict[str, list[dict[str, Any]]] = {}
    while True:
        answer = _ask(session, url, params)
        made += 1
        for key, rows in answer.get("query", {}).items():
            if isinstance(rows, list):
                parts.setdefault(key, []).extend(rows)
        if "continue" not in answer:
            return made, parts
        params.update(answer["continue"])


def _read_all(
    session: requests.Session, url: str, params: dict[str, Any], key: str
) -> tuple[int, list[dict[str, Any]]]:
    """(requests, rows) for one query and its continuations."""
    made, parts = _read_parts(session, url, params)
    return made, parts.get(key, [])


def _contributions(names: list[str], start: str, end: str) -> dict[str, Any]:
    """``list=usercontribs`` for a batch of names, with the properties the bot asks."""
    return {
        "list": "usercontribs",
        "ucuser": "|".join(names),
        "ucstart": start,
        "ucend": end,
        "ucdir": "newer",
        "ucprop": "ids|title|timestamp|sizediff|flags|comment",
        "uclimit": "max",
    }


def _upload_log(start: str, end: str) -> dict[str, Any]:
    """``list=logevents`` for the upload log from ``start`` to ``end``."""
    return {
        "list": "logevents",
        "letype": "upload",
        "lestart": start,
        "leend": end,
        "ledir": "newer",
        "leprop": "user|title|timestamp|type",
        "lelimit": "max",
    }


def _replay_wiki(
    session: requests.Session, wiki: LocalWiki, names: list[str], window: list[str]
) -> dict[str, Any]:
    """The fetch floor and the page states of a first count on one wiki, timed apart."""
    started = time.perf_counter()
    batches: list[tuple[int, int]] = []
    articles: set[int] = set()
    edits: list[tuple[int, int]] = []
    ordered = sorted(names)
    for i in range(0, len(ordered), BATCH):
        made, rows = _read_all(
            session,
            wiki.api_url,
            _contributions(ordered[i : i + BATCH], window[0], window[1]),
            "usercontribs",
        )
        batches.append((made, len(rows)))
        articles |= {int(row["pageid"]) for row in rows if int(row["ns"]) == 0}
        edits += [(int(row["revid"]), int(row["pageid"])) for row in rows if int(row["ns"]) == 0]
    log_made, log_rows = _read_all(
        session, wiki.api_url, _upload_log(window[0], window[1]), "logevents"
    )
    fetch_seconds = time.perf_counter() - started
    started = time.perf_counter()
    states_made = 0
    pageids = sorted(articles)
    redirects: set[int] = set()
    for i in range(0, len(pageids), BATCH):
        batch = "|".join(str(p) for p in pageids[i : i + BATCH])
        made, pages = _read_all(session, wiki.api_url, {"prop": "info", "pageids": batch}, "pages")
        states_made += made
        redirects |= {int(page["pageid"]) for page in pages if "redirect" in page}
    states_seconds = time.perf_counter() - started
    # The references added: the texts of the article edits, then of their parents not among
    # them, 500 a request.
    started = time.perf_counter()
    revids = sorted({rev for rev, page in edits if page in articles and page not in redirects})
    texts_made, parents = _read_texts(session, wiki.api_url, revids)
    more_made, _ = _read_texts(session, wiki.api_url, sorted(parents - set(revids)))
    texts_seconds = time.perf_counter() - started
    missing_parents = len(parents - set(revids))
    return {
        "batches": [rows for _, rows in batches],
        "log_rows": len(log_rows),
        "article_pages": len(articles),
        "floor": {
            "fetch": sum(max(1, math.ceil(rows / LIMIT)) for _, rows in batches)
            + max(1, math.ceil(len(log_rows) / LIMIT)),
            "states": math.ceil(len(articles) / BATCH),
            "texts": math.ceil(len(revids) / BATCH) + math.ceil(missing_parents / BATCH),
        },
        "requests": {
            "fetch": sum(m for m, _ in batches) + log_made,
            "states": states_made,
            "texts": texts_made + more_made,
        },
        "seconds": {"fetch": fetch_seconds, "states": states_seconds, "texts": texts_seconds},
    }


def _read_texts(session: requests.Session, url: str, revids: list[int]) -> tuple[int, set[int]]:
    """(requests, parent ids) reading the texts of ``revids``, 500 a request."""
    made, parents = 0, set()
    for i in range(0, len(revids), BATCH):
        params = {
            "prop": "revisions",
            "revids": "|".join(str(r) for r in revids[i : i + BATCH]),
            "rvprop": "ids|content",
            "rvslots": "main",
        }
        n, pages = _read_all(session, url, params, "pages")
        made += n
        parents |= {
            int(rev.get("parentid", 0))
            for page in pages
            for rev in page.get("revisions", [])
            if int(rev.get("parentid", 0))
        }
    return made, parents


def _replay_save(session: requests.Session, wiki: LocalWiki, marker: str) -> dict[str, Any]:
    """Page read, stop page read, token, and an edit writing the program page's text."""
    url = wiki.api_url

    def read(title: str) -> dict[str, Any]:
        params = {
            "action": "query",
            "prop": "info|revisions",
            "titles": title,
            "rvprop": "ids|timestamp|content|contentmodel",
            "rvslots": "main",
        }
        page: dict[str, Any] = _ask(session, url, params)["query"]["pages"][0]
        return page

    started = time.perf_counter()
    text = read(MAIN_TITLE)["revisions"][0]["slots"]["main"]["content"]
    read_seconds = time.perf_counter() - started
    read(STOP_TITLE)
    token = _ask(session, url, {"action": "query", "meta": "tokens", "type": "csrf"})
    answer = _ask(
        session,
        url,
        {
            "action": "edit",
            "title": SCRATCH_TITLE,
            "text": f"{text}\n<!-- floor replay {marker} -->",
            "summary": "Benchmark: the floor replay of the bot's save",
            "bot": 1,
            "token": token["query"]["tokens"]["csrftoken"],
        },
    )
    if answer.get("edit", {}).get("result") != "Success" or "nochange" in answer["edit"]:
        raise RuntimeError(f"replay edit did not save: {answer}")
    return {
        "requests": SAVE_FLOOR,
        "read_seconds": read_seconds,
        "seconds": time.perf_counter() - started,
        "text_chars": len(text),
    }


def replay_floor(
    farm: Farm, names: list[str], window: list[str], *, save: bool = True
) -> dict[str, Any]:
    """Exactly the floor's requests: fetch and page states per wiki, then the save."""
    sessions = {wiki.name: bot_session(wiki) for wiki in farm.wikis}  # not timed
    per_wiki = {
        wiki.host: _replay_wiki(sessions[wiki.name], wiki, names, window) for wiki in farm.wikis
    }
    result: dict[str, Any] = {
        "per_wiki": per_wiki,
        "floor": {k: sum(w["floor"][k] for w in per_wiki.values()) for k in FIRST_PARTS},
        "requests": {k: sum(w["requests"][k] for w in per_wiki.values()) for k in FIRST_PARTS},
        "seconds": {k: sum(w["seconds"][k] for w in per_wiki.values()) for k in FIRST_PARTS},
    }
    if save:
        result["save"] = _replay_save(
            sessions[farm.content.name], farm.content, f"{time.time():.6f}"
        )
    return result


def fetch_marks(store_file: Path) -> dict[str, datetime]:
    """Each wiki's fetch mark in the store: what an incremental refresh asks from."""
    import sqlite3

    with sqlite3.connect(store_file) as conn:
        rows = conn.execute("SELECT wiki, fetched_until FROM fetch_marks").fetchall()
    return {wiki: datetime.fromisoformat(str(until)).replace(tzinfo=UTC) for wiki, until in rows}


def _replay_since(
    session: requests.Session,
    wiki: LocalWiki,
    names: list[str],
    window: list[str],
    since: datetime,
    texts_from: datetime | None = None,
) -> dict[str, Any]:
    """An incremental refresh's requests on one wiki, with plain requests: the contributions
    since the mark (the upload log and the recent changes riding in the first batch), the
    histories of pages undeleted, the states of the pages those name, the new article
    edits' texts and their parents' (``texts_from``: only the texts of edits made from then
    on, when the overlap before the mark reaches edits whose texts the store knows, as it
    knows their parents' there)."""
    started = time.perf_counter()
    asked_from = since - OVERLAP
    start = max(datetime.fromisoformat(window[0].replace("Z", "+00:00")), asked_from)
    made, contributions, changes = 0, [], []
    ordered = sorted(names)
    for i in range(0, len(ordered), BATCH):
        params = _contributions(ordered[i : i + BATCH], format_moment(start), window[1])
        if i == 0:
            upload_log = _upload_log(format_moment(start), window[1])
            params |= {k: v for k, v in upload_log.items() if k != "list"}
            params |= {
                "list": "usercontribs|logevents|recentchanges",
                "rcstart": format_moment(asked_from),
                "rcdir": "newer",
                "rcexcludeuser": BOT_USERNAME,
                "rcprop": "user|title|ids|sizes|timestamp|loginfo|comment|flags",
                "rctype": "edit|new|log",
                "rclimit": "max",
            }
        made_now, parts = _read_parts(session, wiki.api_url, params)
        made += made_now
        contributions += parts.get("usercontribs", [])
        changes += parts.get("recentchanges", [])
    fetch_made = made
    restored = sorted(
        {c["title"] for c in changes if (c.get("logtype"), c.get("logaction")) == UNDELETION}
    )
    histories: list[dict[str, Any]] = []
    for title in restored:
        made_now, pages = _read_all(
            session,
            wiki.api_url,
            {
                "prop": "revisions",
                "titles": title,
                "rvprop": "ids|user|timestamp|size|flags|comment",
                "rvlimit": "max",
            },
            "pages",
        )
        made += made_now
        histories += [page for page in pages if "pageid" in page]
    pageids = sorted(
        {int(row["pageid"]) for row in contributions if int(row["ns"]) == 0}
        | {int(change["pageid"]) for change in changes if int(change.get("pageid", 0))}
        | {int(page["pageid"]) for page in histories}
    )
    redirects: set[int] = set()
    for i in range(0, len(pageids), BATCH):
        batch = "|".join(str(p) for p in pageids[i : i + BATCH])
        made_now, pages = _read_all(
            session, wiki.api_url, {"prop": "info", "pageids": batch}, "pages"
        )
        made += made_now
        redirects |= {int(page["pageid"]) for page in pages if "redirect" in page}
    revids = sorted(
        {
            int(row["revid"])
            for row in contributions
            if int(row["ns"]) == 0
            and int(row["pageid"]) not in redirects
            and (texts_from is None or _moment(row["timestamp"]) >= texts_from)
        }
    )
    texts_made, parents = _read_texts(session, wiki.api_url, revids)
    # Parents outside ``revids`` are older than ``texts_from``: the store knows their texts.
    unknown = set() if texts_from is not None else parents - set(revids)
    more_made, _ = _read_texts(session, wiki.api_url, sorted(unknown))
    made += texts_made + more_made
    return {
        "since": format_moment(asked_from),
        "contributions": len(contributions),
        "changes": len(changes),
        "restored": len(restored),
        "pages": len(pageids),
        "texts": len(revids),
        "requests": made,
        "fetch_requests": fetch_made,
        "seconds": time.perf_counter() - started,
    }


def _moment(text: str) -> datetime:
    """A time as the API gives it (``2026-12-07T14:31:00Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def replay_incremental(
    farm: Farm,
    names: list[str],
    window: list[str],
    marks: dict[str, datetime],
    texts_from: datetime | None = None,
) -> dict[str, Any]:
    """An incremental refresh's floor, replayed: each wiki's requests since its mark (one
    wiki after the other), then the save."""
    sessions = {wiki.name: bot_session(wiki) for wiki in farm.wikis}  # not timed
    per_wiki = {
        wiki.host: _replay_since(
            sessions[wiki.name], wiki, names, window, marks[wiki.host], texts_from
        )
        for wiki in farm.wikis
    }
    save = _replay_save(sessions[farm.content.name], farm.content, f"{time.time():.6f}")
    return {
        "per_wiki": per_wiki,
        "requests": sum(w["requests"] for w in per_wiki.values()) + SAVE_FLOOR,
        "seconds": sum(w["seconds"] for w in per_wiki.values()) + save["seconds"],
    }


def judge(command: dict[str, Any], replays: list[dict[str, Any]], *, first: bool) -> None:
    """Add the run's floor (requests) and floor replay (seconds) to ``command``."""
    floor = replays[0]["floor"]
    states = floor["states"] if first else 0
    texts = floor["texts"] if first else 0
    save = SAVE_FLOOR if command["saved"] else READ_FLOOR

    def replayed(replay: dict[str, Any]) -> float:
        seconds = replay["seconds"]
        total = float(seconds["fetch"])
        if first:
            total += float(seconds["states"]) + float(seconds["texts"])
        part = "seconds" if command["saved"] else "read_seconds"
        return total + float(replay["save"][part])

    runs = [replayed(r) for r in replays]
    command["floor"] = {
        "fetch": floor["fetch"],
        "states": states,
        "texts": texts,
        "save": save,
        "total": floor["fetch"] + states + texts + save,
        "replay_seconds": min(runs),
        "replay_runs": runs,
    }


# -- what changes between the refreshes ----------------------------------------------------


def counted_articles(wiki: LocalWiki, start: str, count: int, seed: int) -> list[str]:
    """``count`` articles of the data set that participants edited inside the window
    (from the wiki's own tables), chosen at random."""
    rows = wiki.sql(
        """SELECT p.page_title FROM page p
        WHERE p.page_namespace = 0 AND p.page_is_redirect = 0
        AND p.page_title LIKE 'Bench_content_page_%'
        AND EXISTS (
            SELECT 1 FROM revision r JOIN actor a ON a.actor_id = r.rev_actor
            WHERE r.rev_page = p.page_id AND r.rev_timestamp >= ?
            AND a.actor_name LIKE 'Bench participant %')
        ORDER BY p.page_id""",
        (start.replace("-", "") + "000000",),
    )
    titles = [str(title).replace("_", " ") for (title,) in rows]
    return random.Random(seed).sample(titles, count)


def new_edits(farm: Farm, names: list[str], count: int) -> None:
    """``count`` edits, half on each wiki, spread over 10 participants."""
    editors = random.Random(5).sample(names, 10)
    plan: dict[tuple[int, str], list[int]] = {}
    for i in range(count):
        plan.setdefault((i % 2, editors[(i // 2) % len(editors)]), []).append(i)

    def edit(item: tuple[tuple[int, str], list[int]]) -> None:
        (index, name), numbers = item
        client = farm.wikis[index].client(name)
        for i in numbers:
            client.append(f"Bench new edits by {name}", f"\nNew edit {i} at {time.time()}.")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(edit, plan.items()))


def disturb(farm: Farm, dataset: Dataset, picks: list[str]) -> dict[str, Any]:
    """A move out of the main namespace, three deletions and an undeletion by the
    administrator, and an article made a redirect by a non-participant."""
    undeleted, moved, *deleted, redirected, target = picks
    admin = farm.content.admin_client()
    moved_to = f"User:{admin.username}/{moved}"
    admin.move(moved, moved_to, reason="Benchmark: out of the main namespace")
    for title in deleted:
        admin.delete(title, "Benchmark: deleted between two refreshes")
    admin.post({"action": "undelete", "title": undeleted, "reason": "Benchmark: undeleted"})
    noise = dataset.noise[0]
    farm.content.client(noise).edit(
        redirected, f"#REDIRECT [[{target}]]", "Benchmark: made a redirect"
    )
    return {
        "moved": [moved, moved_to],
        "deleted": deleted,
        "undeleted": undeleted,
        "redirected": redirected,
        "redirected_by": noise,
    }


_COMPUTED = re.compile(r"(\|\s*computed\s*=)[^|}\n]*")


def page_difference(before: str, after: str) -> list[str]:
    """The lines that differ between two texts of the program page, the moment of
    computation left out (it says when, not what)."""
    return list(
        difflib.unified_diff(
            _COMPUTED.sub(r"\1", before).splitlines(),
            _COMPUTED.sub(r"\1", after).splitlines(),
            "before",
            "after",
            n=0,
            lineterm="",
        )
    )


def incremental_step(
    farm: Farm,
    dataset: Dataset,
    tmp: Path,
    hosts: list[str],
    store_file: Path,
    pwb: Path,
    picks: list[str],
    new: int,
    window: list[str],
) -> dict[str, Any]:
    """Edits and page changes, an incremental refresh and its floor replayed around it, and
    a full recount to compare."""
    print(
        f"{new} new edits, a move, 3 deletions, an undeletion, a redirect; "
        "incremental refresh, full recount ...",
        flush=True,
    )
    new_edits(farm, dataset.participants, new)
    changes = {"new_edits": new, **disturb(farm, dataset, picks)}
    before = tmp / "before-incremental.sqlite"
    shutil.copyfile(store_file, before)
    marks = fetch_marks(store_file)
    print("  incremental floor replay ...", flush=True)
    replays = [replay_incremental(farm, dataset.participants, window, marks)]
    incremental = run_command(
        farm, hosts, pwb, "refresh", "--db", f"sqlite:///{store_file}", MAIN_TITLE, label="warm"
    )
    print("  incremental floor replay ...", flush=True)
    replays.append(replay_incremental(farm, dataset.participants, window, marks))
    admin = farm.content.admin_client()
    after_incremental = admin.get_text(MAIN_TITLE) or ""
    full = run_command(
        farm,
        hosts,
        fresh_pywikibot_dir(tmp, farm, "full"),
        *("refresh", "--full", "--db", f"sqlite:///{before}", MAIN_TITLE),
        label="over the store as it was before the incremental refresh, cold",
    )
    after_full = admin.get_text(MAIN_TITLE) or ""
    difference = page_difference(after_incremental, after_full)
    print("  full count over an empty store (-simulate) ...", flush=True)
    empty = run_child(
        "simulate",
        {"store": f"sqlite:///{tmp / 'empty.sqlite'}", "title": MAIN_TITLE},
        pywikibot_env(fresh_pywikibot_dir(tmp, farm, "empty")),
    )
    empty_difference = page_difference(after_full, empty["new_text"])
    return {
        "changes": changes,
        "refresh": incremental,
        "floor_replay": replays,
        "full": full,
        "matches_full": bool(after_full) and not difference,
        "difference_lines": len(difference),
        "difference": difference[:60],
        "empty_store": {
            "difference_lines": len(empty_difference),
            "difference": empty_difference[:60],
        },
    }


def resident_step(
    farm: Farm,
    dataset: Dataset,
    tmp: Path,
    hosts: list[str],
    store_file: Path,
    pwb: Path,
    new: int,
    window: list[str],
) -> dict[str, Any]:
    """New edits and an incremental refresh in a process that had refreshed the program
    before them, beside that refresh's floor replayed before and after it."""
    print(f"{new} more new edits; incremental refresh in a running process ...", flush=True)
    args = {"hosts": hosts, "store": f"sqlite:///{store_file}", "title": MAIN_TITLE}
    child = WaitingChild("resident", args, pywikibot_env(pwb), tmp / "resident.log")
    child.wait_ready(time.monotonic() + 300)
    # The mark's overlap reaches the last step's edits, whose texts the store knows: the
    # floor reads only the texts of the edits made now.
    made_from = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    new_edits(farm, dataset.participants, new)
    marks = fetch_marks(store_file)
    replays = [replay_incremental(farm, dataset.participants, window, marks, made_from)]
    child.go()
    found = child.result(timeout=600)
    replays.append(replay_incremental(farm, dataset.participants, window, marks, made_from))
    return {"refresh": found, "floor_replay": replays}


def latency_step(
    farm: Farm,
    dataset: Dataset,
    tmp: Path,
    hosts: list[str],
    store_file: Path,
    pwb: Path,
    new: int,
    latency: float,
    pairs: int = 2,
) -> dict[str, Any]:
    """The command's incremental refresh with ``latency`` added to each request, from the
    same store and page, with its early read (the fetch marks keep their window) and
    without it (the same marks with the window taken out, as marks written before windows
    were kept), in alternating pairs."""
    print(f"{new} more new edits; incremental refreshes with {latency} s a request ...", flush=True)
    new_edits(farm, dataset.participants, new)
    admin = farm.content.admin_client()
    page = admin.get_text(MAIN_TITLE) or ""
    without = tmp / "latency-without-window.sqlite"
    shutil.copyfile(store_file, without)
    db = sqlite3.connect(without)
    with db:
        db.execute("UPDATE fetch_marks SET window_start = NULL, window_end = NULL")
    db.close()
    runs: dict[str, list[dict[str, Any]]] = {"early": [], "after_parse": []}
    for n in range(pairs):
        for kind, source in (("after_parse", without), ("early", store_file)):
            copy = tmp / f"latency-{kind}-{n}.sqlite"
            shutil.copyfile(source, copy)
            admin.edit(MAIN_TITLE, page, "Benchmark: the page as before the refresh")
            runs[kind].append(
                run_command(
                    farm,
                    hosts,
                    pwb,
                    *("refresh", "--db", f"sqlite:///{copy}", MAIN_TITLE),
                    label=f"{kind}, {latency} s a request",
                    latency=latency,
                )
            )
    return {"latency": latency, **runs}


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
    parser.add_argument(
        "--latency", type=float, default=0.1, help="seconds added to each request (step 3c)"
    )
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        return child_main(options.child)

    dataset = build(options.participants, options.revisions)
    farm = open_farm(dataset)
    tmp = Path(tempfile.mkdtemp(prefix="programs-bot-bench-refresh-"))
    try:
        figures = run(farm, dataset, tmp, options)
    finally:
        farm.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report(figures, options)
    return 0


def run(farm: Farm, dataset: Dataset, tmp: Path, options: Any) -> dict[str, Any]:
    hosts = [farm.content.host, farm.media.host]
    names = dataset.participants
    today = datetime.now(UTC).date()
    start = dataset.window_start[:10]
    end = (today + timedelta(days=30)).isoformat()
    admin = farm.content.admin_client()
    text = program_text(names, start, end, hosts, start)
    admin.edit(MAIN_TITLE, text)
    window = program_window(text)
    # Undeleted between the refreshes; a move, 3 deletions, a redirect and its target.
    picks = counted_articles(farm.content, start, 7, seed=3)
    admin.delete(picks[0], "Benchmark: deleted before the first count")
    figures: dict[str, Any] = {
        "dataset": {
            "participants": len(names),
            "noise_accounts": len(dataset.noise),
            "revisions": dataset.revisions,
            "pages": dataset.pages,
            "redirects": dataset.redirects,
            "uploads": dataset.uploads,
            "build_seconds": dataset.build_seconds,
            "window": window,
        },
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "wikis": {wiki.host: wiki.name for wiki in farm.wikis},
    }

    # 1. The command, three times, and the floor replayed around the runs.
    print("floor replay (warms the wikis' databases, not counted) ...", flush=True)
    replay_floor(farm, names, window, save=False)
    store_file = tmp / "main.sqlite"
    full = ("refresh", "--full", "--db", f"sqlite:///{store_file}", MAIN_TITLE)
    pwb_a = fresh_pywikibot_dir(tmp, farm, "a")
    first = run_command(farm, hosts, pwb_a, *full, label="first count, cold")
    print("floor replay ...", flush=True)
    replays = [replay_floor(farm, names, window)]
    warm = run_command(farm, hosts, pwb_a, *full, label="repeat, warm")
    pwb_c = fresh_pywikibot_dir(tmp, farm, "c")
    cold = run_command(farm, hosts, pwb_c, *full, label="repeat, cold")
    # The same, but over a copy of the store without the kept session: what a fresh
    # directory costs where no process has kept one (info only).
    unkept_file = tmp / "unkept.sqlite"
    shutil.copyfile(store_file, unkept_file)
    db = sqlite3.connect(unkept_file)
    with db:
        db.execute("DELETE FROM pywikibot_sessions")
    db.close()
    unkept = run_command(
        farm,
        hosts,
        fresh_pywikibot_dir(tmp, farm, "d"),
        *("refresh", "--full", "--db", f"sqlite:///{unkept_file}", MAIN_TITLE),
        label="repeat, cold, no kept session",
    )
    print("floor replay ...", flush=True)
    replays.append(replay_floor(farm, names, window))
    judge(first, replays, first=True)
    for run in (warm, cold, unkept):
        judge(run, replays, first=False)
    figures["floor_replay"] = replays
    figures["commands"] = {
        "first_cold": first,
        "repeat_warm": warm,
        "repeat_cold": cold,
        "repeat_cold_unkept": unkept,
    }

    # 2. The plain Pywikibot way.
    if not options.skip_plain:
        print("plain Pywikibot loop ...", flush=True)
        plain = run_child(
            "plain", {"hosts": hosts, "names": names, "window": window}, pywikibot_env(pwb_a)
        )
        plain.pop("output")
        figures["plain"] = plain

    # 3. Incremental refresh after edits, a move, deletions, an undeletion, a redirect.
    figures["incremental"] = incremental_step(
        farm, dataset, tmp, hosts, store_file, pwb_c, picks, options.new_edits, window
    )

    # 3b. The same in a process that refreshed the program before (as ``run`` does).
    figures["resident"] = resident_step(
        farm, dataset, tmp, hosts, store_file, pwb_c, options.new_edits, window
    )

    # 3c. The early read where the wikis are far: the same refresh with and without it.
    figures["latency"] = latency_step(
        farm, dataset, tmp, hosts, store_file, pwb_c, options.new_edits, options.latency
    )

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
    env = pywikibot_env(pwb_a)
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
    children = [
        WaitingChild(
            "scheduler",
            {"hosts": hosts, "store": url, "worker_id": f"bench-{page_set}-{w}"},
            env,
            tmp / f"sched-{page_set}-{w}.log",
        )
        for w in range(workers)
    ]
    deadline = time.monotonic() + 300
    for child in children:
        child.wait_ready(deadline)
    cpu_before = _cpu_ticks(farm)
    started = time.perf_counter()
    for child in children:
        child.go()
    results = [child.result(timeout=1500) for child in children]
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

CASES = (
    ("first count, cold", "first_cold"),
    ("repeat recount, warm", "repeat_warm"),
    ("repeat recount, cold", "repeat_cold"),
    ("repeat recount, cold, no kept session", "repeat_cold_unkept"),
)
#: Shown against the floor, without a target.
INFO_CASES = {"repeat_cold_unkept"}


def modules(by_module: dict[str, int]) -> str:
    return ", ".join(f"{short_module(k)} {n}" for k, n in by_module.items())


def account_ok(account: dict[str, Any]) -> bool:
    return bool(
        account["logged_in"]
        and account["user"] == account["configured"]
        and account["bot_group"]
        and account["apihighlimits"]
    )


def report(f: dict[str, Any], options: Any) -> None:
    rows: list[tuple[str, str, str, str, bool | None]] = []

    def row(name: str, target: str, measured: str, ratio: float | None, ok: bool | None) -> None:
        rows.append((name, target, measured, "" if ratio is None else f"{ratio:.2f}", ok))

    commands = f["commands"]
    for label, key in CASES:
        run = commands[key]
        floor = run["floor"]
        info = key in INFO_CASES
        r = run["requests"] / floor["total"]
        parts = f"{floor['fetch']}+{floor['states']}+{floor['texts']}+{floor['save']}"
        row(
            f"{label}: requests / floor",
            "info" if info else "<= 1.2",
            f"{run['requests']} / {floor['total']} ({parts})",
            r,
            None if info else r <= 1.2,
        )
        r = run["seconds"] / floor["replay_seconds"]
        row(
            f"{label}: time / floor replay",
            "info" if info else "<= 1.5",
            f"{run['seconds']:.2f} s / {floor['replay_seconds']:.2f} s",
            r,
            None if info else r <= 1.5,
        )
        status = run["status"] or f"exit status {run['exit_status']}"
        row(f"  {status}", "info", modules(run["by_module"]), None, None)
    runs_ok: dict[str, list[bool]] = {}
    for run in commands.values():
        for host, account in run["accounts"].items():
            runs_ok.setdefault(f["wikis"].get(host, host), []).append(account_ok(account))
    row(
        "runs as the configured bot account",
        "bot, apihighlimits",
        ", ".join(f"{name} {sum(oks)}/{len(oks)} runs" for name, oks in runs_ok.items()),
        None,
        all(all(oks) for oks in runs_ok.values()),
    )
    first = commands["first_cold"]
    if "plain" in f:
        plain = f["plain"]
        r = plain["requests"] / first["requests"]
        row(
            "plain loop requests / first count's",
            ">= 20",
            f"{plain['requests']} / {first['requests']}",
            r,
            r >= 20,
        )
        r = plain["seconds"] / first["seconds"]
        row(
            "plain loop time / first count's",
            "info",
            f"{plain['seconds']:.1f} s / {first['seconds']:.2f} s",
            r,
            None,
        )
    row(
        "first count: peak memory (ru_maxrss)",
        "< 300 MB",
        f"{first['rss_peak_mb']:.0f} MB (before {first['rss_before_mb']:.0f})",
        None,
        first["rss_peak_mb"] < 300,
    )
    inc = f["incremental"]
    refresh = inc["refresh"]
    row(
        f"incremental after {inc['changes']['new_edits']} edits + page changes: time",
        "< 2 s",
        f"{refresh['seconds']:.2f} s",
        None,
        refresh["seconds"] < 2,
    )
    floor = min(inc["floor_replay"], key=lambda replay: float(replay["seconds"]))
    r = refresh["seconds"] / floor["seconds"]
    row(
        "  time / its floor replay",
        "info",
        f"{refresh['seconds']:.2f} s / {floor['seconds']:.2f} s",
        r,
        None,
    )
    r = refresh["requests"] / floor["requests"]
    row("  requests / its floor", "info", f"{refresh['requests']} / {floor['requests']}", r, None)
    row("  the bot's CPU (all its threads)", "info", f"{refresh['cpu_seconds']:.2f} s", None, None)
    status = refresh["status"] or f"exit status {refresh['exit_status']}"
    row(
        f"  {status}; {refresh['requests']} requests",
        "info",
        modules(refresh["by_module"]),
        None,
        None,
    )
    same = inc["matches_full"]
    row(
        "incremental = full recount (same store before)",
        "same page",
        "same" if same else f"{inc['difference_lines']} diff lines",
        None,
        same,
    )
    row(
        "  full count over an empty store",
        "info",
        f"{inc['empty_store']['difference_lines']} diff lines from the full recount",
        None,
        None,
    )
    resident = f["resident"]
    warm_floor = min(resident["floor_replay"], key=lambda replay: float(replay["seconds"]))
    row(
        "incremental in a running process (as `run`): time",
        "info",
        f"{resident['refresh']['seconds']:.2f} s ({resident['refresh']['requests']} requests)",
        None,
        None,
    )
    row(
        "  time / its floor replay",
        "info",
        f"{resident['refresh']['seconds']:.2f} s / {warm_floor['seconds']:.2f} s",
        resident["refresh"]["seconds"] / warm_floor["seconds"],
        None,
    )
    row(
        "  the bot's CPU (all its threads)",
        "info",
        f"{resident['refresh']['cpu_seconds']:.2f} s",
        None,
        None,
    )
    far = f["latency"]
    after = statistics.median(run["seconds"] for run in far["after_parse"])
    early = statistics.median(run["seconds"] for run in far["early"])
    saved = all(run["saved"] for kind in ("after_parse", "early") for run in far[kind])
    row(
        f"incremental, {far['latency']} s a request: early read / asked after the parse",
        "info",
        f"{early:.2f} s / {after:.2f} s (medians of {len(far['early'])}"
        f"{'' if saved else '; a run did not save'})",
        early / after,
        None,
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
    # The most any number of processes could gain on this machine: the CPU the run with more
    # processes used (the wikis' servers included) spread evenly over every core.
    cores = f["machine"]["cpus"]
    shortest = many["cpu_seconds"]["machine"] / cores
    row(
        f"  most the machine allows: 1 worker / (CPU of {options.workers} / {cores} cores)",
        "info",
        f"{one['seconds']:.1f} s / ({many['cpu_seconds']['machine']:.1f} s / {cores})",
        one["seconds"] / shortest,
        None,
    )
    f["table"] = [
        dict(zip(("measure", "target", "measured", "ratio", "pass"), x, strict=True)) for x in rows
    ]
    width = max(len(x[0]) for x in rows)
    d = f["dataset"]
    print(
        f"\ndata set: {d['participants']} participants, revisions {d['revisions']}, "
        f"uploads {d['uploads']}, built in {d['build_seconds']:.0f} s; "
        f"machine: {f['machine']['cpus']} CPUs"
    )
    print(f"{'measure':<{width}}  {'target':<18}  {'measured':<34}  ratio  pass")
    for name, target, measured, ratio, ok in rows:
        verdict = "-" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name:<{width}}  {target:<18}  {measured:<34}  {ratio:>5}  {verdict}")
    Path(options.json).write_text(json.dumps(f, indent=2, default=str), encoding="utf-8")
    print(f"figures written to {options.json}")


if __name__ == "__main__":
    sys.exit(main())
