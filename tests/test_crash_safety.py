"""Crash safety: the bot and the Join API killed with SIGKILL at random points.

Real processes share one store on disk (SQLite, and PostgreSQL for the joins):
``programs-bot worker``, ``refresh`` and ``run`` (the console script's ``main``, with the
bot's log lines on stderr so that each kill can be placed) and the API under gunicorn.
Each kill is a real SIGKILL, at a seeded random moment or at a seeded point: a moment
after the process said it started on a page or is saving one, or (sent by the process
to itself, see LAUNCH) right after the wiki edit and before the store write, or inside
the store's transaction. Every kill is placed from what the process wrote before it died
(and the wiki's revision count: did an edit killed mid-way land?).

1. Joins: waves of users join over HTTP (retrying a request that got no answer, as the
   gadget would) while the worker and the API are killed and restarted; an organizer
   edits the page meanwhile. After one clean worker pass every recorded join is on the
   page exactly once and marked applied, and every other byte is the organizer's.
2. Refresh: ``refresh`` of two programs killed again and again while participants edit
   and upload, and time "passes" between runs (the wikis' and the store's timestamps move
   10 minutes back, beyond the incremental fetch's 5-minute overlap). After every kill the
   store must count incrementally what a fresh store counts in full; at the end the page
   equals the wikis' own count, and every bot revision in its history is whole.
3. A leave that arrives after a killed worker wrote the join's row but not its state.
4. ``run`` killed mid-cycle: the restarted process refreshes at once (not after the dead
   process's 5-minute lease) and ends with the right figures.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.store import APPLIED, JOIN, Store
from harness import BOT_USERNAME, Farm, LocalWiki, free_port, program_page, tiny_png
from harness.dbcount import DB_FIGURES, db_counts
from reliability import TALLY, scaled

pytestmark = [pytest.mark.wiki, pytest.mark.reliability]
pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page, read_outcome_rows  # noqa: E402
from bot.jobs.count import ProgramCounter  # noqa: E402
from bot.wiki.sites import host_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: ``programs-bot`` as its console script runs it (``bot.cli:main``), with the bot's own
#: log lines (saving, saved, remembered) on stderr, each flushed at once. With
#: ``CRASH_ON_LOG`` (or ``CRASH_ON_SQL``) set, the process sends itself SIGKILL right
#: after the bot logs a line containing it (or the store executes a statement containing
#: it, inside its transaction), the ``CRASH_NTH``-th time: a kill placed exactly between
#: the wiki edit and the store write, or between two writes of one transaction.
LAUNCH = """
import logging, os, signal, sys

def crash(where):
    sys.stderr.write(f"crash: SIGKILL {where}\\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)

left = [int(os.environ.get("CRASH_NTH", "1"))]

class Crash(logging.Handler):
    def emit(self, record):
        if os.environ["CRASH_ON_LOG"] in record.getMessage():
            left[0] -= 1
            if left[0] == 0:
                crash("after the line: " + record.getMessage())

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
logging.getLogger("pywiki").propagate = False
logging.getLogger("alembic").setLevel(logging.WARNING)
if os.environ.get("CRASH_ON_LOG"):
    logging.getLogger("bot").addHandler(Crash())
if os.environ.get("CRASH_ON_SQL"):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn, cursor, statement, *args):
        if os.environ["CRASH_ON_SQL"] in statement:
            left[0] -= 1
            if left[0] == 0:
                crash("inside the store's transaction, after: " + statement.split("(")[0])

from bot.cli import main
sys.exit(main())
"""
ROW_STATS = ("edits", "articles_edited", "articles_created", "bytes_added", "uploads")
_STATS = re.compile(r"\|(?:" + "|".join(ROW_STATS) + r")=[^|}]*")
_BLOCK = re.compile(r"\n\n\{\{Program outcomes\|.*?\{\{End of program outcomes\}\}", re.S)


# -- processes ----------------------------------------------------------------------------


def _own_pywikibot_dir() -> Path:
    """A copy of the test session's Pywikibot directory for the killed processes.

    Each Pywikibot process lists itself in ``throttle.ctrl`` of its directory and is taken
    off when it exits; a SIGKILLed one stays listed for 10 minutes, and every process
    sharing the file multiplies its throttle delays (a maxlag Retry-After included) by
    the number listed. Killed in a shared directory, they would slow the rest of the
    test session by that factor (seen: a 72-minute sleep in the long mode).
    """
    source = Path(os.environ["PYWIKIBOT_DIR"])
    target = source.parent / "pywikibot-killed"
    if not target.exists():
        target.mkdir()
        for name in ("user-config.py", "user-password.py"):
            shutil.copy2(source / name, target / name)
    return target


class Child:
    """A subprocess whose output lines are collected as they come (for placing kills)."""

    def __init__(self, argv: list[str], *, env: dict[str, str] | None = None, group: bool = False):
        self.group = group
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "PYWIKIBOT_DIR": str(_own_pywikibot_dir()),
                **(env or {}),
            },
            start_new_session=group,
        )
        self.started = time.monotonic()
        self.lines: list[str] = []
        #: When each line arrived (seconds since the start).
        self.times: list[float] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self.times.append(time.monotonic() - self.started)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, needle: str, timeout: float, after: int = 0) -> int | None:
        """The index of the first line from ``after`` on containing ``needle``, or None
        when the process ended or ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(after, len(self.lines)):
                    if needle in self.lines[index]:
                        return index
                after = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    return None
                self._changed.wait(min(left, 0.05))

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> bool:
        """SIGKILL (the whole process group for the API's gunicorn); True if it still ran."""
        alive = self.running()
        try:
            if self.group:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                os.kill(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.finish()
        return alive

    def stop(self) -> None:
        """SIGTERM, as an operator stops it."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()
        self.finish()

    def finish(self) -> None:
        self.process.wait(30)
        self._reader.join(10)
        if self.group:  # gunicorn's workers may outlive a killed master for a moment
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def output(self) -> str:
        return "\n".join(self.lines)


def programs_bot(*args: str, crash: dict[str, str] | None = None) -> Child:
    """``programs-bot ARGS`` as a subprocess; ``crash``: CRASH_ON_LOG or CRASH_ON_SQL (and
    CRASH_NTH) for a kill at an exact point (see LAUNCH)."""
    return Child([sys.executable, "-c", LAUNCH, *args], env=crash)


def place(lines: list[str], phases: tuple[tuple[str, str], ...], default: str) -> str:
    """Where a kill landed: the phase named by the last phase line the process wrote."""
    for line in reversed(lines):
        for needle, phase in phases:
            if needle in line:
                return phase
    return default


# -- pages --------------------------------------------------------------------------------


def organizer_bytes(text: str) -> str:
    """The page without what the bot owns (row statistics and the outcomes block)."""
    return _STATS.sub("", _BLOCK.sub("", text))


def history(wiki: LocalWiki, title: str) -> list[dict[str, Any]]:
    """Every revision of a page, oldest first: revid, parentid, user, text."""
    return wiki.admin_client().history(title)


def careful_append(wiki: LocalWiki, title: str, line: str) -> None:
    """An organizer's edit as the wiki's editor makes it: against the revision read."""
    wiki.admin_client().edit_as_read(title, lambda text: text + "\n" + line, "organizer note")


def bot_revisions_whole(
    revisions: list[dict[str, Any]], bot_user: str, check: Callable[[str], None]
) -> tuple[int, int]:
    """Check every bot revision: it parses, ``check`` accepts it, and it kept every byte
    of its parent the bot does not own. Returns (garbage or partial, organizer edits lost)."""
    by_id = {rev["revid"]: rev for rev in revisions}
    garbage = overwritten = 0
    for rev in revisions:
        if rev["user"] != bot_user:
            continue
        try:
            parse_program_page(rev["text"])
            check(rev["text"])
        except Exception as error:  # anything wrong with the text is a garbage page
            print(f"revision {rev['revid']} is not whole: {error!r}")
            garbage += 1
            continue
        parent = by_id.get(rev["parentid"])
        if parent is not None and organizer_bytes(parent["text"]) != organizer_bytes(
            _rows_only(rev["text"], parent["text"])
        ):
            print(f"revision {rev['revid']} changed text the bot does not own")
            overwritten += 1
    return garbage, overwritten


def _rows_only(text: str, parent: str) -> str:
    """``text`` without the participant rows its parent did not have (the Join flow's)."""
    old = set(_row_names(parent))
    kept = [
        line
        for line in text.split("\n")
        if not (line.startswith("{{Participant table row|") and _row_name(line) not in old)
    ]
    return "\n".join(kept)


def _row_name(line: str) -> str:
    match = re.search(r"\|username=([^|}]*)", line)
    return match.group(1) if match else ""


def _row_names(text: str) -> list[str]:
    return [row.username for row in parse_program_page(text).rows]


# -- 1. mid-join: the worker and the API killed while users join -----------------------

JOIN_TITLE = "Content Wiki:Crash edit-a-thon"
PROSE_BEFORE = "Organizer prose before the program. It stays byte for byte.\n"
PROSE_AFTER = "\nOrganizer notes after the table:\n* bring a laptop\n"
WORKER_PHASES = (
    ("crash: SIGKILL inside", "inside the store's transaction"),
    ("crash: SIGKILL after the line: saved", "after the edit, before the store"),
    ("request(s) to [[", "idle or reading"),
    ("saved [[", "after the edit, before the store"),
    ("saving [[", "mid-edit"),
    ("running; SIGTERM", "idle or reading"),
)
#: How each worker dies: at a random moment, a moment after it said it is saving, right
#: after it saved (before the store knows), or inside the store's transaction marking the
#: joins applied.
WORKER_MODES: dict[str, dict[str, str] | None] = {
    "random": None,
    "saving": None,
    "self-saved": {"CRASH_ON_LOG": "saved [["},
    "self-sql": {"CRASH_ON_SQL": "UPDATE join_requests"},
}


def bot_edits(wiki: LocalWiki) -> int:
    """How many revisions the bot has made on ``wiki`` (from the wiki's database)."""
    query = "SELECT COUNT(*) FROM revision JOIN actor ON actor_id = rev_actor WHERE actor_name = ?"
    return int(wiki.sql(query, (BOT_USERNAME,))[0][0])


def landing(child: Child, phases: tuple[tuple[str, str], ...], wiki: LocalWiki, before: int) -> str:
    """Where a kill landed; for a kill mid-edit also whether the wiki made the edit."""
    where = place(child.lines, phases, "starting")
    if where == "mid-edit":
        saved = sum("saved [[" in line for line in child.lines)
        made = bot_edits(wiki) - before
        where += " (the edit landed)" if made > saved else " (no edit)"
    return where


def join_page(farm: Farm) -> str:
    today = datetime.now(UTC).date()
    return (
        PROSE_BEFORE + "{{Program details\n|name=Crash edit-a-thon\n|organizer=Admin\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=7)}\n"
        f"|wikis={farm.content.host}\n|registration=open\n}}}}\n\n"
        "{{Participants table}}\n"
        "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{End of participants table}}\n" + PROSE_AFTER
    )


@dataclass
class Api:
    """The Join API under gunicorn (two workers), restartable on the same port."""

    config: Path
    port: int = field(default_factory=free_port)
    child: Child | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.child = Child(
            [
                gunicorn,
                "--workers",
                "2",
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "gadget_api.wsgi:app",
            ],
            env={"PROGRAMS_API_CONFIG": str(self.config)},
            group=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        output = self.child.output() if self.child else ""
        raise AssertionError(f"the API did not start: {output[-2000:]}")


def write_api_config(path: Path, store_url: str, wiki: LocalWiki) -> Path:
    path.write_text(
        f'secret_key = "crash-test-secret-key-0123456789"\n'
        f'store_url = "{store_url}"\n'
        'public_url = "http://127.0.0.1"\n'
        "[rate_limits]\n"
        "joins_per_user_per_minute = 100\n"
        "[[wikis]]\n"
        f'host = "{wiki.host}"\n'
        f'api_url = "{wiki.api_url}"\n'
        f'origin = "{wiki.url}"\n'
        f'oauth_url = "{wiki.index_url}"\n'
        f'consumer_key = "{"k" * 32}"\n'
        f'consumer_secret = "{"s" * 32}"\n',
        encoding="utf-8",
    )
    return path


@dataclass
class Joiners:
    """Users joining over HTTP, each retrying until it gets an answer (as the gadget
    would after a dropped connection), in waves: one before each kill."""

    url: str
    tokens: dict[str, str]
    answers: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    five_xx: int = 0
    recorded_unanswered: int = 0
    #: 429 answers: a request killed with the API held its user's rate-limit lease.
    busy: int = 0
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8))
    futures: list[Future[None]] = field(default_factory=list)

    def join(self, name: str) -> None:
        session = requests.Session()
        tried = False
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with self.lock:
                self.in_flight += 1
            try:
                answer = session.post(
                    self.url, headers={"Authorization": f"Bearer {self.tokens[name]}"}, timeout=15
                )
            except requests.RequestException:
                answer = None
            finally:
                with self.lock:
                    self.in_flight -= 1
            if answer is not None and answer.status_code < 500 and answer.status_code != 429:
                with self.lock:
                    self.answers[name] = answer.status_code
                    # Recorded by a request whose answer the kill lost: the retry says so.
                    self.recorded_unanswered += tried and answer.status_code == 200
                return
            tried = True
            with self.lock:
                self.retries += 1
                self.five_xx += answer is not None and answer.status_code >= 500
                self.busy += answer is not None and answer.status_code == 429
            session = requests.Session()
            # As the gadget does: after Retry-After when told, else after a short pause.
            wait = answer.headers.get("Retry-After", "") if answer is not None else ""
            time.sleep(float(wait) if wait.isdigit() else 0.2)
        raise AssertionError(f"{name} got no answer in 120 s")

    def wave(self, names: list[str]) -> None:
        """These users click Join now (the answers come in the background)."""
        self.futures += [self.pool.submit(self.join, name) for name in names]

    def finish(self) -> None:
        """Wait until every user has an answer."""
        try:
            for future in self.futures:
                future.result()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def pg_store_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty store on this session's PostgreSQL database (skipped without a server)."""
    url: str = request.getfixturevalue("postgresql_url")
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    metadata = sqlalchemy.MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()
    yield url


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_joins_survive_killed_workers_and_api(
    wikis: Farm, tmp_path: Path, request: pytest.FixtureRequest, engine: str
) -> None:
    from join_load import join_url, mint_tokens

    rng = random.Random(f"crash-joins-{engine}")
    if engine == "sqlite":
        store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
        users, worker_kills, api_kills = scaled(48, 240), scaled(10, 48), scaled(4, 16)
    else:
        store_url = request.getfixturevalue("pg_store_url")
        users, worker_kills, api_kills = scaled(20, 120), scaled(4, 24), scaled(2, 8)
    content = wikis.content
    host = content.host
    content.admin_client().edit(JOIN_TITLE, join_page(wikis))
    original = content.admin_client().get_text(JOIN_TITLE) or ""  # as the wiki keeps it
    store = Store(store_url)  # the schema, before any process races to make it
    names = [f"Crash joiner {n:03d}" for n in range(users)]
    tokens = mint_tokens(store, host, names)
    api = Api(write_api_config(tmp_path / "api.toml", store_url, content))
    api.start()
    api.wait_ready()

    modes = [list(WORKER_MODES)[n % len(WORKER_MODES)] for n in range(worker_kills)]
    rng.shuffle(modes)
    worker_args = ("worker", "--interval", "0.3", "--db", store_url)
    worker = programs_bot(*worker_args, crash=WORKER_MODES[modes[0]])
    edits_before = bot_edits(content)
    joiners = Joiners(join_url(api.url, host, JOIN_TITLE), tokens)
    notes = [f"Organizer note {n} during the joins." for n in range(scaled(3, 10))]
    landed: Counter[str] = Counter()
    api_landed: Counter[str] = Counter()
    # The kills, in a seeded random order, each after a wave of joins.
    plan = ["worker"] * worker_kills + ["api"] * api_kills
    rng.shuffle(plan)
    per_wave = len(names) // (len(plan) + 1)
    killed = 0
    try:
        for number, target in enumerate(plan):
            if number < len(notes):  # an organizer edits the page between two waves
                careful_append(content, JOIN_TITLE, notes[number])
            joiners.wave(names[number * per_wave : (number + 1) * per_wave])
            if target == "api":
                if number % 2:  # at a random moment, else while a join is on its way
                    time.sleep(rng.uniform(0, 1.0))
                else:
                    time.sleep(rng.uniform(0, 0.1))
                assert api.child is not None
                busy = joiners.in_flight
                if api.child.kill():
                    api_landed["mid-request" if busy else "idle"] += 1
                api.start()
                api.wait_ready()
                continue
            mode = modes[killed]
            if mode == "random":
                time.sleep(rng.uniform(0, 1.0))
            elif mode == "saving":
                worker.wait_for("saving [[", timeout=10, after=len(worker.lines))
                time.sleep(rng.uniform(0, 0.1))
            else:  # it kills itself at its point; a worker with nothing to save is killed
                worker.wait_for("crash: SIGKILL", timeout=10)
            if worker.kill() or worker.process.returncode == -signal.SIGKILL:
                landed[landing(worker, WORKER_PHASES, content, edits_before)] += 1
            else:
                pytest.fail(f"the worker had ended by itself:\n{worker.output()[-3000:]}")
            killed += 1
            crash = WORKER_MODES[modes[killed]] if killed < len(modes) else None
            edits_before = bot_edits(content)
            worker = programs_bot(*worker_args, crash=crash)
        joiners.wave(names[len(plan) * per_wave :])
        for note in notes[len(plan) :]:
            careful_append(content, JOIN_TITLE, note)
        joiners.finish()  # every user has an answer
    finally:
        worker.stop()
        if api.child is not None:
            api.child.kill()
    # One clean pass writes whatever the last kill left waiting.
    final = programs_bot("worker", "--once", "--db", store_url)
    final.process.wait(120)
    final.finish()
    assert final.process.returncode == 0, final.output()

    text = content.admin_client().get_text(JOIN_TITLE) or ""
    listed = _row_names(text)
    answered = {name for name, status in joiners.answers.items() if status in (200, 202)}
    recorded = set()
    applied = set()
    for name in names:
        latest = store.latest_join(host, JOIN_TITLE, name)
        if latest is not None and latest.action == JOIN:
            recorded.add(name)
            if latest.state == APPLIED:
                applied.add(name)
    # Lost: answered or recorded, but not on the page or not marked applied.
    lost = len((recorded | answered) - (set(listed) & applied))
    duplicated = len(listed) - len(set(listed))
    expected_organizer = organizer_bytes(original) + "".join("\n" + note for note in notes)
    overwritten = int(organizer_bytes(_rows_only(text, original)) != expected_organizer)
    overwritten += sum(text.count(note) != 1 for note in notes)

    def whole(revision: str) -> None:
        rows = _row_names(revision)
        assert len(rows) == len(set(rows)), "a duplicated row"
        assert revision.startswith(PROSE_BEFORE) and PROSE_AFTER.rstrip() in revision

    garbage, lost_edits = bot_revisions_whole(history(content, JOIN_TITLE), BOT_USERNAME, whole)
    overwritten += lost_edits
    TALLY.add("processes killed", killed, kind="worker")
    TALLY.add("processes killed", sum(api_landed.values()), kind="api")
    TALLY.add("lost joins", lost)
    TALLY.add("duplicated joins", duplicated)
    TALLY.add("overwritten organizer edits", overwritten)
    TALLY.add("garbage or partial pages", garbage)
    TALLY.add("5xx answers", joiners.five_xx)
    print(
        f"\n{engine}: {len(names)} users, {len(answered)} answered, {len(recorded)} recorded, "
        f"{len(applied)} applied, {len(listed) - 1} joined rows on the page; "
        f"{killed} worker kills {dict(landed)}; API kills {dict(api_landed)}; "
        f"{joiners.retries} client retries ({joiners.busy} after a 429), "
        f"{joiners.recorded_unanswered} joins recorded by a request whose answer was lost"
    )
    assert answered == set(names), sorted(set(names) - answered)
    assert sorted(listed) == sorted(["Alice", *names])
    assert (lost, duplicated, overwritten, garbage, joiners.five_xx) == (0, 0, 0, 0, 0)
    assert not store.pending_pages()


# -- 2. mid-refresh: refresh killed before, during and after its saves --------------------

PROGRAMS = ("Content Wiki:Crash program A", "Content Wiki:Crash program B")
REFRESH_PHASES = (
    ("crash: SIGKILL inside", "inside the store's transaction"),
    ("crash: SIGKILL after the line: saved", "after the edit, before the store"),
    ("remembered what [[", "between pages, or exiting"),
    ("saved [[", "after the edit, before the store"),
    ("saving [[", "mid-edit"),
    ("revisions, ", "reading or fetching"),
    ("refreshing [[", "reading or fetching"),
)
#: How each refresh dies: at a random moment, a moment after it started on a page or said
#: it is saving one, right after it saved one (before the store knows), or inside the
#: store's one transaction for the refresh (after one wiki's revisions, or before the
#: fetch marks).
REFRESH_MODES: dict[str, dict[str, str] | None] = {
    "random": None,
    "fetching": None,
    "saving": None,
    "self-saved": {"CRASH_ON_LOG": "saved [["},
    "self-sql-revisions": {"CRASH_ON_SQL": "INSERT INTO counted_revision_packs"},
    "self-sql-marks": {"CRASH_ON_SQL": "fetch_marks SET"},
}


def let_time_pass(farm: Farm, store: Store, delta: timedelta) -> None:
    """As if ``delta`` had passed since everything so far: every revision and log entry of
    the wikis, and every time the store keeps about them (fetch marks, counted revisions
    and uploads), moves ``delta`` into the past. Then a refresh started next sees the
    activity before it as older than an incremental fetch's 5-minute overlap, as it would
    after a pause, and a fetch mark newer than the counts it stands for loses revisions."""
    for wiki in farm.wikis:
        db = sqlite3.connect(wiki.db_path, timeout=30)
        try:
            with db:
                for name, key, column in (
                    ("revision", "rev_id", "rev_timestamp"),
                    ("logging", "log_id", "log_timestamp"),
                ):
                    rows = db.execute(f"SELECT {key}, {column} FROM {name}").fetchall()
                    db.executemany(
                        f"UPDATE {name} SET {column} = ? WHERE {key} = ?",
                        [(_earlier(value, delta), row_id) for row_id, value in rows],
                    )
        finally:
            db.close()
    from sqlalchemy import select, update

    from bot.store import tables
    from bot.store.revision_packs import pack, unpack

    with store.engine.begin() as conn:
        for table, column in (
            (tables.fetch_marks, "fetched_until"),
            (tables.counted_uploads, "timestamp"),
        ):
            keys = list(table.primary_key.columns)
            for row in conn.execute(select(*keys, table.c[column])).all():
                where = [key == row[n] for n, key in enumerate(keys)]
                conn.execute(update(table).where(*where).values({column: row[-1] - delta}))
        packs = tables.counted_revision_packs
        keys = list(packs.primary_key.columns)
        for row in conn.execute(select(*keys, packs.c.revisions)).all():
            revisions, texts = unpack(row[-1])
            moved = [replace(rev, timestamp=rev.timestamp - delta) for rev in revisions]
            where = [key == row[n] for n, key in enumerate(keys)]
            conn.execute(update(packs).where(*where).values(revisions=pack(moved, texts)))


def _earlier(value: bytes | str, delta: timedelta) -> bytes | str:
    """A MediaWiki timestamp (YYYYMMDDHHMMSS, as stored: bytes or text) ``delta`` earlier."""
    text = value.decode() if isinstance(value, bytes) else value
    moved = (datetime.strptime(text, "%Y%m%d%H%M%S") - delta).strftime("%Y%m%d%H%M%S")
    return moved.encode() if isinstance(value, bytes) else moved


def store_agrees(kept: Store, fresh: Store, site: Any, title: str) -> bool:
    """Whether the store counts incrementally, from what it keeps, the same figures as a
    full count with an empty store (neither is written to)."""
    page = pywikibot.Page(site, title)
    program = parse_program_page(page.get(force=True))
    key = f"{host_of(site)}#{page.pageid}"
    incremental = ProgramCounter(kept).count(program, key, full=False).outcomes
    full = ProgramCounter(fresh).count(program, key, full=True).outcomes
    return bool(incremental == full)


def refresh_page(farm: Farm, users: list[str], label: str) -> str:
    return program_page(
        users,
        [farm.content.host, farm.media.host],
        before=f"Organizer prose of {label}.\n",
        after="\nClosing organizer text.\n",
        name="Crash program",
        organizer="Admin",
    )


def test_refresh_killed_at_random_points_leaves_correct_figures(
    wikis: Farm, tmp_path: Path, participant: Callable[..., Any]
) -> None:
    rng = random.Random("crash-refresh")
    users = {PROGRAMS[0]: ["Alice", "Bob"], PROGRAMS[1]: ["Bob", "Carol"]}
    content, media = wikis.content, wikis.media
    participant("Alice").edit("Crash article one", "One.")
    participant("Bob").edit("Crash article two", "Two. " * 5)
    participant("Carol", wiki=media).upload("Crash-0.png", tiny_png(40), "a file")
    originals = {}
    for label, title in zip("AB", PROGRAMS, strict=True):
        content.admin_client().edit(title, refresh_page(wikis, users[title], label))
        originals[title] = content.admin_client().get_text(title) or ""
    store_url = f"sqlite:///{tmp_path / 'refresh.sqlite'}"
    kept = Store(store_url)
    notes: dict[str, list[str]] = {title: [] for title in PROGRAMS}

    # A clean run first: how long a run takes here, to aim the kills at random moments.
    first = programs_bot("refresh", *PROGRAMS, "--db", store_url)
    first.process.wait(120)
    first.finish()
    assert first.process.returncode == 0, first.output()
    took = time.monotonic() - first.started

    site = pywikibot.Site(content.name, content.name)
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")  # compute() never writes to it
    wrong = 0
    kills = scaled(12, 72)
    modes = [list(REFRESH_MODES)[n % len(REFRESH_MODES)] for n in range(kills)]
    rng.shuffle(modes)
    landed: Counter[str] = Counter()
    finished_first = 0
    for number, mode in enumerate(modes):
        # Something new to count, so that every refresh has an edit to make.
        who = rng.choice(["Alice", "Bob", "Carol"])
        if number % 3 == 2:
            participant(who, wiki=media).upload(f"Crash-{number + 1}.png", tiny_png(41 + number))
        else:
            participant(who).append(f"Crash article {rng.choice(['one', 'two'])}", f" {number}.")
        if number % 4 == 1:
            title = rng.choice(PROGRAMS)
            note = f"Organizer note {number}."
            careful_append(content, title, note)
            notes[title].append(note)
        let_time_pass(wikis, kept, timedelta(minutes=10))
        args = ["refresh", *PROGRAMS, "--db", store_url] + (["--full"] if number % 3 == 0 else [])
        crash = REFRESH_MODES[mode]
        if crash is not None:  # the first page's point, or the second's
            crash = {**crash, "CRASH_NTH": str(rng.randint(1, len(PROGRAMS)))}
        before = bot_edits(content)
        child = programs_bot(*args, crash=crash)
        if mode == "random":
            time.sleep(rng.uniform(0.2, took * 1.1))
        elif mode in ("fetching", "saving"):  # a moment after the first or second page's
            needle = "refreshing [[" if mode == "fetching" else "saving [["
            index: int | None = -1
            for _ in range(rng.randint(1, len(PROGRAMS))):
                index = child.wait_for(needle, 60, (index or 0) + 1)
                if index is None:
                    break
            time.sleep(rng.uniform(0, 0.1))
        else:
            child.process.wait(60)
        if child.kill() or child.process.returncode == -signal.SIGKILL:
            landed[landing(child, REFRESH_PHASES, content, before)] += 1
        else:
            finished_first += 1
            assert child.process.returncode == 0, child.output()
        for title in PROGRAMS:
            # The page as the kill left it is whole, and the store counts from what the
            # kill left in it what a fresh store counts in full.
            parse_program_page(content.admin_client().get_text(title) or "")
            agrees = store_agrees(kept, fresh, site, title)
            wrong += not agrees
            if not agrees:
                print(f"kill {number} ({mode}, {crash}) left the store wrong for [[{title}]]")

    # One clean refresh, incremental from whatever the kills left in the store.
    final = programs_bot("refresh", *PROGRAMS, "--db", store_url)
    final.process.wait(120)
    final.finish()
    assert final.process.returncode == 0, final.output()

    garbage = overwritten = 0
    for title in PROGRAMS:
        text = content.admin_client().get_text(title) or ""
        window = parse_program_page(text).details.window
        assert window is not None
        rows = {row.username: dict(row.stats) for row in parse_program_page(text).rows}
        for user in users[title]:
            expected = Counter[str]()
            for wiki in wikis.wikis:
                counts = db_counts(wiki, [user], window.start, window.end)
                for name in ROW_STATS:
                    expected[name] += getattr(counts, name)
            for name in ROW_STATS:
                wrong += rows[user].get(name) != str(expected[name])
        outcome_rows = read_outcome_rows(text)
        for wiki in wikis.wikis:
            counts = db_counts(wiki, users[title], window.start, window.end)
            for name in DB_FIGURES:
                wrong += outcome_rows[wiki.host].get(name) != str(getattr(counts, name))
        wrong += not store_agrees(kept, fresh, site, title)
        # Every bot revision is whole and kept the organizer's text.
        expected_organizer = organizer_bytes(originals[title]) + "".join(
            "\n" + note for note in notes[title]
        )
        overwritten += organizer_bytes(text) != expected_organizer

        def whole(revision: str, who: list[str] = users[title]) -> None:
            assert _row_names(revision) == who
            figures = read_outcome_rows(revision)
            assert set(figures) == {content.host, media.host, "total"}, set(figures)

        g, o = bot_revisions_whole(history(content, title), BOT_USERNAME, whole)
        garbage += g
        overwritten += o

    TALLY.add("processes killed", sum(landed.values()), kind="refresh")
    TALLY.add("wrong figures", wrong)
    TALLY.add("garbage or partial pages", garbage)
    TALLY.add("overwritten organizer edits", overwritten)
    print(
        f"\nrefresh: {sum(landed.values())} kills {dict(landed)}, {finished_first} runs "
        f"finished before their kill; a clean run took {took:.1f} s"
    )
    assert (wrong, garbage, overwritten) == (0, 0, 0)
    assert sum(landed.values()) >= kills // 2


# -- 3. a leave after a join the killed worker wrote but could not mark applied -----------


def test_a_leave_after_a_join_a_killed_worker_wrote_removes_the_row(
    wikis: Farm, tmp_path: Path
) -> None:
    from api_support import SECRET_KEY, wiki_entry
    from gadget_api import create_app
    from join_load import join_url, mint_tokens

    content = wikis.content
    host = content.host
    content.admin_client().edit(JOIN_TITLE, join_page(wikis))
    original = content.admin_client().get_text(JOIN_TITLE) or ""
    store_url = f"sqlite:///{tmp_path / 'leave.sqlite'}"
    store = Store(store_url)
    user = "Crash leaver"
    token = mint_tokens(store, host, [user])[user]
    app = create_app(
        {
            "secret_key": SECRET_KEY,
            "store_url": store_url,
            "public_url": "http://127.0.0.1",
            "wikis": [wiki_entry(content)],
        }
    )
    client = app.test_client()
    url = join_url("", host, JOIN_TITLE)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(url, headers=headers).status_code == 202

    # The worker writes the row and is killed before the store knows.
    dying = programs_bot("worker", "--once", "--db", store_url, crash=WORKER_MODES["self-saved"])
    dying.process.wait(120)
    dying.finish()
    assert dying.process.returncode == -signal.SIGKILL, dying.output()
    TALLY.add("processes killed", 1, kind="worker")
    assert user in _row_names(content.admin_client().get_text(JOIN_TITLE) or "")
    # The user leaves before any worker ran again: the leave supersedes the waiting join.
    assert client.post(url.replace("/join", "/leave"), headers=headers).status_code == 202

    clean = programs_bot("worker", "--once", "--db", store_url)
    clean.process.wait(120)
    clean.finish()
    assert clean.process.returncode == 0, clean.output()
    text = content.admin_client().get_text(JOIN_TITLE) or ""
    assert user not in _row_names(text), "the user left but is still listed"
    assert text == original  # the row gone, every other byte as the organizer left it
    latest = store.latest_join(host, JOIN_TITLE, user)
    assert latest is not None and (latest.action, latest.state) == ("leave", APPLIED)
    assert client.get(url, headers=headers).get_json()["joined"] is False


# -- 4. the scheduler killed mid-cycle: its restart takes the page back at once ----------

RUN_TITLE = "Content Wiki:Crash scheduled program"
RUN_MODES: dict[str, dict[str, str] | None] = {
    "random": None,
    "self-saved": {"CRASH_ON_LOG": "saved [["},
    "self-sql-marks": {"CRASH_ON_SQL": "fetch_marks SET"},
}


def test_a_killed_scheduler_resumes_at_once_with_correct_figures(
    wikis: Farm, tmp_path: Path, participant: Callable[..., Any]
) -> None:
    """``programs-bot run`` killed while it refreshes (its lease on the page then lasts 5
    minutes): the restarted process refreshes the page within seconds, and the figures
    end up equal to the wiki's own count."""
    rng = random.Random("crash-run")
    content = wikis.content
    users = ["Alice", "Bob"]
    participant("Alice").edit("Scheduled crash article", "Start.")
    content.admin_client().edit(RUN_TITLE, refresh_page(wikis, users, "the scheduled program"))
    original = content.admin_client().get_text(RUN_TITLE) or ""
    store_url = f"sqlite:///{tmp_path / 'run.sqlite'}"
    kept = Store(store_url)
    args = ("run", "--interval", "1", "--edit-interval", "0", "--db", store_url)
    kills = scaled(3, 15)
    modes = [list(RUN_MODES)[n % len(RUN_MODES)] for n in range(kills)]
    rng.shuffle(modes)
    landed: Counter[str] = Counter()
    resumed: list[float] = []
    for number, mode in enumerate([*modes, "clean"]):
        # Something new, so that the restarted process has an edit to make at once.
        participant(rng.choice(users)).append("Scheduled crash article", f" {number}.")
        before = bot_edits(content)
        child = programs_bot(*args, crash=RUN_MODES.get(mode))
        try:
            if mode == "random":
                assert child.wait_for("refreshing [[", 60) is not None, child.output()
                time.sleep(rng.uniform(0, 0.4))
            elif mode == "clean":
                assert child.wait_for("remembered what [[", 60) is not None, child.output()
            else:
                child.process.wait(60)
            first = child.wait_for("refreshing [[", 0)
            assert first is not None, f"no refresh after the restart:\n{child.output()[-3000:]}"
            resumed.append(child.times[first])
        finally:
            if mode == "clean":
                child.stop()
            elif child.kill() or child.process.returncode == -signal.SIGKILL:
                landed[landing(child, REFRESH_PHASES, content, before)] += 1
    assert child.process.returncode == 0, child.output()

    text = content.admin_client().get_text(RUN_TITLE) or ""
    window = parse_program_page(text).details.window
    assert window is not None
    wrong = 0
    for wiki in wikis.wikis:
        counts = db_counts(wiki, users, window.start, window.end)
        for name in DB_FIGURES:
            wrong += read_outcome_rows(text)[wiki.host].get(name) != str(getattr(counts, name))
    site = pywikibot.Site(content.name, content.name)
    wrong += not store_agrees(
        kept, Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}"), site, RUN_TITLE
    )

    def whole(revision: str) -> None:
        assert _row_names(revision) == users
        assert set(read_outcome_rows(revision)) == {content.host, wikis.media.host, "total"}

    garbage, overwritten = bot_revisions_whole(history(content, RUN_TITLE), BOT_USERNAME, whole)
    overwritten += organizer_bytes(text) != organizer_bytes(original)
    TALLY.add("processes killed", sum(landed.values()), kind="scheduler")
    TALLY.add("wrong figures", wrong)
    TALLY.add("garbage or partial pages", garbage)
    TALLY.add("overwritten organizer edits", overwritten)
    print(
        f"\nrun: {sum(landed.values())} kills {dict(landed)}; each restart refreshed the page "
        f"after {', '.join(f'{s:.1f}' for s in resumed)} s"
    )
    assert (wrong, garbage, overwritten) == (0, 0, 0)
    assert max(resumed) < 30  # not the 5 minutes of the killed process's lease


# -- the lease of a killed process --------------------------------------------------------


def test_the_lease_of_a_killed_local_process_is_taken_over_at_once(tmp_path: Path) -> None:
    """A page claimed by a process of this machine that was killed is free at once; one
    claimed by a live process, another machine or a name that is no process id is not."""
    from bot.jobs.leases import holder_is_dead, process_id

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    mine = process_id()
    host, _, instance = mine.split(":")
    alive = f"{host}:{sleeper.pid}:{instance}"
    assert not holder_is_dead(alive) and not holder_is_dead(mine)
    sleeper.kill()
    sleeper.wait()
    TALLY.add("processes killed", 1, kind="worker")
    assert holder_is_dead(alive)
    assert not holder_is_dead(f"elsewhere:{sleeper.pid}:{instance}")
    assert not holder_is_dead(f"{host}:{sleeper.pid}:another-boot")
    assert not holder_is_dead("test-worker") and not holder_is_dead(f"{host}:{sleeper.pid}")

    store = Store(f"sqlite:///{tmp_path / 'lease.sqlite'}")
    now, lease = datetime.now(UTC), timedelta(minutes=2)
    assert store.claim_page("wiki", "Page", alive, now, lease)
    # Without a way to tell, the lease is waited for; with one, taken over.
    assert not store.claim_page("wiki", "Page", mine, now, lease)
    assert store.claim_page("wiki", "Page", mine, now, lease, dead=holder_is_dead)
    assert not store.claim_page("wiki", "Page", "other", now, lease, dead=holder_is_dead)
