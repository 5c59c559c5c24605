"""The README's quick start for wiki administrators, run as written on a wiki installed the
way an administrator installs one.

MediaWiki's own installer (``maintenance/install.php``, SQLite) makes a fresh wiki in a
temporary folder; its LocalSettings.php gets only what the README's step 2 tells an
administrator to add (its ``php`` block), none of the test harness's settings. ``php -S``
serves it on a free loopback port. Then the README's ``sh`` blocks of the administrator
section are taken from README.md itself, in order, and run with bash, command by command, in
two shell sessions: the wiki's server (the maintenance scripts, in the MediaWiki folder, with
``MW_CONFIG_FILE`` naming the wiki's settings where Debian's package links them from
/etc/mediawiki) and the bot's machine (everything else, from the checkout, with ``HOME`` a
temporary folder). Only the
placeholders the README names are replaced. Each command's result is checked against the
wiki: the account and its BotPassword in the wiki's tables, ``doctor``'s FIX lines before
``deploy`` and ``migrate`` and OK lines after, every deployed page as deploy writes it, a
program page written as the README's organizer part shows refreshed by ``-simulate``
(nothing saved, nothing stored) and then by ``programs-bot run``, stopped with SIGTERM, whose
figures equal an independent count from the wiki's SQLite tables; and at last a participant
who clicks Join in headless Chromium, whose row the bot's parser reads.

The Join API's blocks (step 8) need Extension:OAuth, which cannot run here: test_first_run.py
runs them as written (gunicorn, the worker, ``deploy --api-url``).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shlex
import signal
import sqlite3
import stat
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from harness import ADMIN_PASSWORD, PROJECT_ROOT, LocalWiki, free_port
from harness.dbcount import DB_FIGURES, db_counts
from harness.install import run_installer
from harness.mediawiki import MEDIAWIKI_DIR, php_env

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

from bot.core.gadget_pages import DEFINITION_PAGE, definition_line, gadget_pages  # noqa: E402
from bot.core.program_page import parse_program_page, read_outcome_rows  # noqa: E402
from bot.jobs.deploy import category_sources, template_sources  # noqa: E402
from test_gadget_browser import (  # noqa: E402
    EN,
    Console,
    browser,  # noqa: F401 - the fixture
    joined_by_gadget,
    log_in,
    new_context,
    revisions,
)

README = PROJECT_ROOT / "README.md"
ADMIN_SECTION = "For wiki administrators"
ORGANIZER_SECTION = "For organizers"
#: The administrator's sh blocks, in the README's order, each known by its first command.
#: The last two, the Join API's, need Extension:OAuth: test_first_run.py runs them.
BLOCKS = (
    ("install", "bash .ci/setup"),
    ("account", "php maintenance/createAndPromote.php"),
    ("pywikibot", "export PYWIKIBOT_DIR="),
    ("setup", "programs-bot doctor"),
    ("simulate", "programs-bot -simulate refresh"),
    ("run", "programs-bot run"),
    ("api", "export PROGRAMS_API_CONFIG="),
    ("api-deploy", "programs-bot deploy --api-url"),
)
BOT_NAME = "Quickstart Bot"
BOT_ACCOUNT_PASSWORD = "Quickstart-bot-passw0rd-5e1f"
PARTICIPANT_PASSWORD = "Quickstart-user-passw0rd-2a7c"
#: The program page, in the project namespace as wikis keep them ("Project:" is the alias
#: every wiki has; the wiki shows its own name there).
PROGRAM_NAME = "Women in Science edit-a-thon"
PROGRAM_TITLE = f"Project:{PROGRAM_NAME}"
PROJECT_NAMESPACE = 4
#: The README's family name for a wiki that is not Wikimedia's.
FAMILY = "mywiki"
WIKI_NAME = "quick"  # its database is quickwiki
#: What doctor says is fine on a wiki set up as the README says, before deploy and after.
DOCTOR_OK = (
    r"MediaWiki 1\.\d+\.\d+ answers",
    rf"the bot logs in as {BOT_NAME}",
    rf"{BOT_NAME} has the bot flag",
    "high-volume access",
    "Extension:ParserFunctions is installed",
    "Extension:Gadgets is installed",
    r"the Join gadget in the wiki-edit mode \(no Join API\)",
    rf"the emergency stop page User:{BOT_NAME}/Stop lets the bot edit",
)
DOCTOR_LINE = re.compile(r"^(OK |FIX)  (\S+): (.*)$", re.M)
#: A placeholder left in a command after the documented ones were replaced.
LEFT_OVER = re.compile(r"<[A-Za-z][^<>'\n]*>")
RUN_TIMEOUT = 180.0


# -- the README ------------------------------------------------------------------------------


def section(title: str) -> str:
    """The README's ``## title`` section, without its heading."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match is not None, f"README.md has no section '## {title}'"
    return match.group(1)


def fenced_blocks(text: str, language: str) -> list[str]:
    """The fenced blocks in ``language`` ("" for none), in order, without their indent."""
    blocks = []
    for match in re.finditer(rf"^( *)```{language}\n(.*?)^\1```", text, re.M | re.S):
        indent, body = match.group(1), match.group(2)
        blocks.append("\n".join(line.removeprefix(indent) for line in body.splitlines()))
    return blocks


def admin_blocks() -> dict[str, str]:
    """The administrator section's sh blocks by name; fails when one is missing, out of
    order or unknown, so that a changed README cannot go untested."""
    blocks = fenced_blocks(section(ADMIN_SECTION), "sh")
    found = [block.lstrip().splitlines()[0] for block in blocks]
    assert len(blocks) == len(BLOCKS) and all(
        first.startswith(known) for first, (_, known) in zip(found, BLOCKS, strict=True)
    ), f"README.md's sh blocks for administrators changed: {found}"
    return {name: block for (name, _), block in zip(BLOCKS, blocks, strict=True)}


def commands(block: str) -> list[str]:
    """The block's commands, each whole: continued lines joined, here-documents included."""
    lines = block.splitlines()
    found: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        command = [line]
        while command[-1].endswith("\\") and index < len(lines):
            command.append(lines[index])
            index += 1
        heredoc = re.search(r"<<-?\s*'?(\w+)'?", command[-1])
        if heredoc:
            while index < len(lines) and lines[index].strip() != heredoc.group(1):
                command.append(lines[index])
                index += 1
            assert index < len(lines), f"here-document {heredoc.group(1)} never ends: {block}"
            command.append(lines[index])
            index += 1
        found.append("\n".join(command))
    return found


def substitute(command: str, placeholders: dict[str, str]) -> str:
    for placeholder, value in placeholders.items():
        command = command.replace(placeholder, value)
    left = LEFT_OVER.findall(command)
    assert not left, f"a placeholder the README does not name: {left} in {command}"
    return command


def program_page(host: str, start: str, end: str) -> str:
    """The README's organizer example: its details (the wiki's host, dates around today) and
    its participants table."""
    blocks = fenced_blocks(section(ORGANIZER_SECTION), "")
    details = next((b for b in blocks if b.startswith("{{Program details")), None)
    table = next((b for b in blocks if b.startswith("{{Participants table}}")), None)
    assert details and table, "README.md's organizer example changed"
    for key, value in (("wikis", host), ("start", start), ("end", end)):
        details, count = re.subn(rf"^\|{key}=.*$", f"|{key}={value}", details, flags=re.M)
        assert count == 1, f"the organizer example has no |{key}= line"
    return f"{details}\n\n== Participants ==\n{table}\n"


# -- a shell session -------------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    command: str
    status: int
    output: str

    def __str__(self) -> str:
        return f"$ {self.command}\n{self.output}\n(exit status {self.status})"


class Shell:
    """One bash process running commands one at a time, as someone types them: each is
    sourced from a file (with stdin from /dev/null), so that cd, export and the virtual
    environment's activation carry over to the next."""

    def __init__(self, cwd: Path, env: dict[str, str], scratch: Path) -> None:
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        self.mark = f"quickstart-{uuid.uuid4().hex}"
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.count = 0
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: close() ends it all
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def start(self, command: str) -> str:
        self.count += 1
        script = self.scratch / f"command-{self.count:02d}.sh"
        script.write_text(command + "\n", encoding="utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(
            f"source {shlex.quote(str(script))} </dev/null; printf '\\n{self.mark} %s\\n' \"$?\"\n"
        )
        self.process.stdin.flush()
        return command

    def finish(self, command: str, timeout: float = 300.0) -> Done:
        deadline = time.monotonic() + timeout
        output: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"$ {command}\ndid not end within {timeout} s:\n" + "\n".join(output)
                ) from None
            if line is None:
                raise AssertionError(f"$ {command}\nbash ended:\n" + "\n".join(output))
            if line.startswith(self.mark + " "):
                return Done(command, int(line.split()[1]), "\n".join(output).strip("\n"))
            output.append(line)

    def run(self, command: str, timeout: float = 300.0) -> Done:
        return self.finish(self.start(command), timeout)

    def child(self) -> int:
        """The process the shell is running now (the command in the foreground)."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[1] == str(self.process.pid) and fields[0] != "Z":
                return int(entry.name)
        raise AssertionError("the shell runs no command")

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)


# -- the wiki, as an administrator installs it -----------------------------------------------


def install_wiki(root: Path, php_settings: str) -> LocalWiki:
    """MediaWiki's own installer into ``root`` (SQLite), plus the README's settings."""
    port = free_port()
    wiki = LocalWiki(
        root,
        WIKI_NAME,
        port,
        site_name="Quickstart Wiki",
        admin_password=ADMIN_PASSWORD,
    )
    wiki.data_dir.mkdir(parents=True)
    run_installer(wiki)
    with wiki.settings_path.open("a", encoding="utf-8") as settings:
        settings.write(f"\n{php_settings}\n")
    # php -S runs a router before each request: this one lets it serve every file as is.
    (root / "router.php").write_text("<?php\nreturn false;\n", encoding="utf-8")
    return wiki


@pytest.fixture
def wiki(tmp_path: Path) -> Iterator[LocalWiki]:
    settings = fenced_blocks(section(ADMIN_SECTION), "php")
    assert len(settings) == 1 and "wfLoadExtension" in settings[0], settings
    php_settings = settings[0]
    the_wiki = install_wiki(tmp_path / "wiki", php_settings)
    the_wiki.start()
    try:
        yield the_wiki
    finally:
        the_wiki.stop()


def latest(wiki: LocalWiki, title: str, namespace: int = 0) -> tuple[int, str, int]:
    """From the wiki's tables: the page's latest revision id, its author, its bot flag."""
    rows = wiki.sql(
        """SELECT r.rev_id, a.actor_name, COALESCE(rc.rc_bot, 0) FROM page p
        JOIN revision r ON r.rev_id = p.page_latest JOIN actor a ON a.actor_id = r.rev_actor
        LEFT JOIN recentchanges rc ON rc.rc_this_oldid = r.rev_id
        WHERE p.page_namespace = ? AND p.page_title = ?""",
        (namespace, title.replace(" ", "_")),
    )
    assert rows, f"{title} is not on the wiki"
    revid, user, bot = rows[0]
    return int(revid), str(user), int(bot)


def doctor_lines(output: str) -> list[tuple[str, str, str]]:
    return [(m[0].strip(), m[1], m[2]) for m in DOCTOR_LINE.findall(output)]


def assert_ok(lines: list[tuple[str, str, str]], host: str, output: str) -> None:
    for wanted in DOCTOR_OK:
        assert any(
            state == "OK" and where == host and re.match(wanted, message)
            for state, where, message in lines
        ), f"doctor lacks OK {wanted}:\n{output}"


def store_rows(path: Path) -> dict[str, int]:
    """Rows per table of the bot's SQLite store, read without the bot's code."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


# -- the steps -------------------------------------------------------------------------------


def make_the_bot_account(
    wiki: LocalWiki, block: str, placeholders: dict[str, str], scratch: Path
) -> str:
    """Step 3 on the wiki's server; returns the BotPassword the second script printed."""
    server = Shell(MEDIAWIKI_DIR, php_env(wiki.settings_path), scratch)
    try:
        done = [server.run(substitute(command, placeholders)) for command in commands(block)]
    finally:
        server.close()
    for result in done:
        assert result.status == 0, result
    password = re.search(r"password:'([0-9a-z]{32,})'", done[-1].output)
    assert password, done[-1]
    groups = {
        row[0]
        for row in wiki.sql(
            "SELECT ug_group FROM user_groups JOIN user ON user_id = ug_user WHERE user_name = ?",
            (BOT_NAME,),
        )
    }
    assert {"bot", "interface-admin"} <= groups, groups
    ((grants,),) = wiki.sql(
        "SELECT bp_grants FROM bot_passwords JOIN user ON user_id = bp_user "
        "WHERE user_name = ? AND bp_app_id = 'programs-bot'",
        (BOT_NAME,),
    )
    wanted = {"basic", "highvolume", "editpage", "createeditmovepage", "editsiteconfig"}
    assert wanted <= set(re.findall(r"\w+", grants)), grants
    return password.group(1)


def make_activity(wiki: LocalWiki) -> None:
    """Participants sign up as anyone does; Alice and Bob write, and Carol (not listed)."""
    for name in ("Alice", "Bob", "Carol"):
        wiki.maintenance("createAndPromote.php", name, PARTICIPANT_PASSWORD)
        wiki.users[name] = PARTICIPANT_PASSWORD
    alice, bob, carol = (wiki.client(name) for name in ("Alice", "Bob", "Carol"))
    alice.edit("Ada Lovelace", "'''Ada Lovelace''' was a mathematician.", "new article")
    bob.append("Ada Lovelace", "\nShe wrote the first published algorithm.", "expand")
    bob.edit("Grace Hopper", "'''Grace Hopper''' was a computer scientist.", "new article")
    bob.edit("Talk:Grace Hopper", "Sources to check.", "talk")
    carol.append("Ada Lovelace", "\nAn edit by someone who has not joined.", "note")


def check_setup(done: list[Done], wiki: LocalWiki, store: Path) -> None:
    """Step 5: doctor asks for deploy and migrate, they do their work, doctor is content."""
    host = wiki.host
    first, deployed, migrated, second = done
    assert first.command == "programs-bot doctor" == second.command, done
    assert first.status == 1, first
    lines = doctor_lines(first.output)
    assert_ok(lines, host, first.output)
    fixes = [(where, message) for state, where, message in lines if state == "FIX"]
    assert len(fixes) == 2, first
    assert fixes[0][0] == "store" and fixes[0][1].endswith("run programs-bot migrate"), first
    assert fixes[1][0] == host and re.match(
        r"templates and gadget: \d+ missing .*: run programs-bot deploy$", fixes[1][1]
    ), first

    assert deployed.command == "programs-bot deploy" and deployed.status == 0, deployed
    changed = re.search(
        rf"(\d+) page\(s\) changed on {FAMILY}:en: templates in 'en'; the Join gadget in the "
        r"wiki-edit mode \(no Join API\)$",
        deployed.output,
    )
    assert changed, deployed
    # Before saving, deploy says what the README's put_throttle costs: on a fresh wiki every
    # page it checks is one it saves.
    estimate = re.search(
        r"checking (\d+) pages; Pywikibot waits put_throttle = 1 s between saves "
        r"\(user-config.py\), so saving all of them takes up to (\d+) min",
        deployed.output,
    )
    assert estimate and estimate[1] == changed[1], deployed
    assert int(estimate[2]) == round(int(estimate[1]) / 60), deployed
    admin = wiki.admin_client()
    for title, text in {**template_sources("en"), **category_sources("en")}.items():
        assert (admin.get_text(title) or "").rstrip() == text.rstrip(), title
        namespace, name = title.split(":", 1)
        by = latest(wiki, name, {"Template": 10, "Category": 14}[namespace])[1:]
        assert by == (BOT_NAME, 1), (title, by)
    for title, text in gadget_pages(None, "en").items():
        assert admin.get_text(title) == text, title
    assert definition_line() in (admin.get_text(DEFINITION_PAGE) or "")

    assert migrated.command == "programs-bot migrate" and migrated.status == 0, migrated
    assert "applied" in migrated.output and store.is_file(), migrated

    assert second.status == 0, second
    lines = doctor_lines(second.output)
    assert_ok(lines, host, second.output)
    assert all(state == "OK" for state, _, _ in lines), second
    assert any(
        where == host and re.match(r"the \d+ pages deploy writes are current", message)
        for _, where, message in lines
    ), second
    assert any(where == "store" for _, where, _ in lines), second


def run_the_scheduler(bot: Shell, command: str, wiki: LocalWiki, before: int) -> None:
    """Step 7 until the bot has saved the program page (its first cycles), then SIGTERM."""
    bot.start(command)
    deadline = time.monotonic() + RUN_TIMEOUT
    while latest(wiki, PROGRAM_NAME, PROJECT_NAMESPACE)[0] == before:
        if time.monotonic() > deadline:
            os.kill(bot.child(), signal.SIGTERM)
            raise AssertionError(f"{RUN_TIMEOUT} s and no save:\n{bot.finish(command, 60)}")
        time.sleep(0.5)
    os.kill(bot.child(), signal.SIGTERM)
    stopped = bot.finish(command, timeout=60)
    assert stopped.status == 0, stopped
    assert "scheduler stopped" in stopped.output, stopped
    assert latest(wiki, PROGRAM_NAME, PROJECT_NAMESPACE)[1:] == (BOT_NAME, 1)


def check_figures(wiki: LocalWiki, text: str, window: tuple[datetime, datetime]) -> None:
    """Every figure of the page against a count from the wiki's own tables."""
    rows = {row.username: dict(row.stats) for row in parse_program_page(text).rows}
    assert list(rows) == ["Alice", "Bob"], text
    for name, stats in rows.items():
        counts = db_counts(wiki, [name], *window)
        for figure in ("edits", "articles_edited", "articles_created", "bytes_added", "uploads"):
            assert stats.get(figure) == str(getattr(counts, figure)), (name, figure, text)
    group = db_counts(wiki, ["Alice", "Bob"], *window)
    assert group.edits == 4 and group.articles_created == 2  # the activity, all in the window
    outcomes = read_outcome_rows(text)
    for figure in DB_FIGURES:
        assert outcomes[wiki.host][figure] == str(getattr(group, figure)), (figure, text)
        assert outcomes["total"][figure] == str(getattr(group, figure)), (figure, text)


def join_with_the_gadget(chromium: Any, wiki: LocalWiki, before: str) -> None:
    """Carol logs in, opens the program page and clicks Join: her own edit adds her row."""
    console = Console()
    context = new_context(chromium, locale="en-US")
    log_in(context, wiki, "Carol")
    page = console.watch(context.new_page())
    page.goto(f"{wiki.index_url}?title={quote(PROGRAM_TITLE.replace(' ', '_'))}")
    page.locator(".programs-bot-panel-count", has_text="2 participants").wait_for()
    page.locator(".programs-bot-panel-join").click()
    own = page.locator("tr.programs-bot-own-row")
    own.wait_for()
    assert own.get_attribute("data-username") == "Carol"
    page.locator(".programs-bot-panel-count", has_text="3 participants").wait_for()
    context.close()
    assert not console.problems, console.problems
    joined = revisions(wiki, PROGRAM_TITLE)[0]
    assert latest(wiki, PROGRAM_NAME, PROJECT_NAMESPACE)[:2] == (joined["revid"], "Carol")
    assert joined["comment"] == EN["programs-bot-gadget-summary-join"]
    assert joined_by_gadget(before, joined["text"], "Carol"), joined["text"]
    names = [row.username for row in parse_program_page(joined["text"]).rows]
    assert names == ["Alice", "Bob", "Carol"], joined["text"]


# -- the test --------------------------------------------------------------------------------


def test_the_readme_quick_start_as_written(
    wiki: LocalWiki,
    browser: Any,  # noqa: F811 - test_gadget_browser's fixture
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    blocks = admin_blocks()
    placeholders = {
        "<wiki URL>": wiki.url,
        "<language code>": "en",
        "<bot name>": BOT_NAME,
        "<a password>": BOT_ACCOUNT_PASSWORD,
        "<program page>": PROGRAM_TITLE,
    }
    prose = section(ADMIN_SECTION)
    for placeholder in [*placeholders, "<BotPassword>"]:
        assert f"`{placeholder}`" in prose, f"the README does not name {placeholder}"
    placeholders["<BotPassword>"] = make_the_bot_account(
        wiki, blocks["account"], placeholders, tmp_path / "server-shell"
    )
    make_activity(wiki)

    # The bot's machine: every other block in one session, HOME a folder of its own.
    home = tmp_path / "home"
    home.mkdir()
    config_dir = home / "programs-bot"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYWIKIBOT", "PROGRAMS_", "VIRTUAL_ENV"))
    }
    bot = Shell(PROJECT_ROOT, {**env, "HOME": str(home)}, tmp_path / "bot-shell")
    timings: dict[str, float] = {}

    def run_block(name: str) -> list[Done]:
        begun = time.monotonic()
        done = [bot.run(substitute(command, placeholders)) for command in commands(blocks[name])]
        timings[name] = time.monotonic() - begun
        return done

    try:
        for result in run_block("install"):
            assert result.status == 0, result
        which = bot.run("command -v programs-bot pwb")
        venv = PROJECT_ROOT / ".venv" / "bin"
        assert which.output.splitlines() == [str(venv / "programs-bot"), str(venv / "pwb")]

        for result in run_block("pywikibot"):
            assert result.status == 0, result
        assert (config_dir / "families" / f"{FAMILY}_family.py").is_file()
        assert (config_dir / "user-config.py").is_file()
        assert stat.S_IMODE((config_dir / "user-password.py").stat().st_mode) == 0o600

        store = config_dir / "programs-bot.sqlite"
        check_setup(run_block("setup"), wiki, store)

        # A program page as the README's organizer part shows it, running now.
        today = datetime.now(UTC).date()
        start, end = today - timedelta(days=1), today + timedelta(days=29)
        admin = wiki.admin_client()
        admin.edit(PROGRAM_TITLE, program_page(wiki.host, str(start), str(end)), "a program")
        written = latest(wiki, PROGRAM_NAME, PROJECT_NAMESPACE)[0]
        (simulated,) = run_block("simulate")
        assert simulated.status == 0, simulated
        shown = f"{wiki.site_name}:{PROGRAM_NAME}"
        assert f"{shown}: changed (simulated, not saved)" in simulated.output, simulated
        assert re.search(r"^\+ ?\{\{Program outcomes\|", simulated.output, re.M), simulated
        assert latest(wiki, PROGRAM_NAME, PROJECT_NAMESPACE)[0] == written
        filled = {t: n for t, n in store_rows(store).items() if n and t != "alembic_version"}
        assert not filled, f"-simulate wrote into the store: {filled}"

        (run_command,) = commands(blocks["run"])
        begun = time.monotonic()
        run_the_scheduler(bot, substitute(run_command, placeholders), wiki, written)
        timings["run"] = time.monotonic() - begun
    finally:
        bot.close()

    text = admin.get_text(PROGRAM_TITLE) or ""
    window = (
        datetime.combine(start, datetime.min.time()),
        datetime.combine(end, datetime.max.time()).replace(microsecond=0),
    )
    check_figures(wiki, text, window)
    begun = time.monotonic()
    join_with_the_gadget(browser, wiki, text)
    timings["join"] = time.monotonic() - begun
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
    print(
        f"\nthe README's quick start as written: {steps}; total {time.monotonic() - started:.1f} s"
    )
