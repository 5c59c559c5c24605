"""The Join API's first run, as the README has an administrator make it.

The README's gunicorn command, as written (only its port is a free one), starts 4 workers
on a fresh database, 20 times on each engine: every start must be healthy. Each worker
makes or finds the schema when it loads the app, so without the store's migration lock
they raced to create the same tables and about half the starts ended with "Worker failed
to boot". A start is healthy when all 4 workers loaded the app (gunicorn reads the
``gunicorn.conf.py`` of its working directory: the one written here only reports that),
``GET /healthz`` answers 200, nothing went wrong on the way and gunicorn stops cleanly.

Also: the README's example configuration, copied as written, is refused with a message
naming the key; ``programs-bot migrate`` makes the schema, then finds nothing to do; the
README's ``export``, ``programs-bot worker`` and ``programs-bot deploy --api-url`` lines run
as written beside the gunicorn command (the rest of the quick start: test_quickstart.py).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from bot.store import Store
from harness import PROJECT_ROOT, Farm, free_port
from test_store import EVERY_MIGRATION, empty_store

README = PROJECT_ROOT / "README.md"
STARTS = 20
WORKERS = 4
BIN = Path(sys.executable).parent
#: Read by gunicorn from its working directory: one line when a worker has loaded the app.
GUNICORN_CONF = """\
import sys


def post_worker_init(worker):
    # One write: the workers share gunicorn's stderr.
    sys.stderr.write(f"first-run test: worker {worker.pid} loaded the app\\n")
    sys.stderr.flush()
"""
LOADED = re.compile(r"first-run test: worker (\d+) loaded the app")
#: What gunicorn or the app write when a start goes wrong.
TROUBLE = ("Traceback", "Exception in worker", "failed to boot", "exited with code", "ERROR")


def readme_block(language: str, first_word: str) -> str:
    """The README's first code block in ``language`` that starts with ``first_word``."""
    text = README.read_text(encoding="utf-8")
    for match in re.finditer(rf"^( *)```{language}\n(.*?)^\1```", text, re.M | re.S):
        indent, body = match.group(1), match.group(2)
        block = "\n".join(line.removeprefix(indent) for line in body.splitlines())
        if block.lstrip().startswith(first_word):
            return block + "\n"
    raise AssertionError(f"README.md has no {language} block starting with {first_word!r}")


def readme_gunicorn(port: int) -> list[str]:
    """The README's gunicorn command, with ``port`` for its own (which others may use)."""
    shell = readme_block("sh", "export PROGRAMS_API_CONFIG")
    (line,) = [line for line in shell.splitlines() if line.startswith("gunicorn ")]
    command = shlex.split(line)
    assert command[command.index("--workers") + 1] == str(WORKERS), line
    bind = command.index("--bind") + 1
    host, _, _ = command[bind].rpartition(":")
    command[bind] = f"{host}:{port}"
    return [str(BIN / "gunicorn"), *command[1:]]


def api_toml(store_url: str) -> str:
    """A configuration with real-looking values; its wiki need not answer for /healthz."""
    return (
        'secret_key = "first-run-test-Zq3x9PfA2kLm0nB7vC4d"\n'
        f'store_url = "{store_url}"\n'
        'public_url = "https://programs-bot.example.org"\n'
        "[[wikis]]\n"
        'host = "offline.wiki.test"\n'
        'api_url = "http://127.0.0.1:9/api.php"\n'
        'origin = "https://offline.wiki.test"\n'
        'oauth_url = "http://127.0.0.1:9/index.php"\n'
        'consumer_key = "0123456789abcdef0123456789abcdef"\n'
        'consumer_secret = "fedcba9876543210fedcba9876543210"\n'
    )


@dataclass
class Start:
    """One run of the README's gunicorn command, from launch to a clean stop."""

    command: list[str]
    cwd: Path
    config: Path
    lines: list[str] = field(default_factory=list)
    healthz: int | None = None
    seconds: float = 0.0
    exit_status: int | None = None

    def run(self, timeout: float = 90) -> None:
        env = {**os.environ, "PROGRAMS_API_CONFIG": str(self.config)}
        env.pop("PROGRAMS_BOT_DB", None)
        env.pop("PROGRAMS_API_SECRET_KEY", None)
        started = time.monotonic()
        process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: stopped whole below
        )
        reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        reader.start()
        url = "http://" + self.command[self.command.index("--bind") + 1] + "/healthz"
        try:
            deadline = started + timeout
            while time.monotonic() < deadline and process.poll() is None:
                if len(self.loaded()) == WORKERS:
                    self.healthz = self._get(url)
                    if self.healthz == 200:
                        break
                time.sleep(0.05)
            self.seconds = time.monotonic() - started
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                self.exit_status = process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                self.exit_status = process.wait(30)
            reader.join(10)

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    @staticmethod
    def _get(url: str) -> int | None:
        try:
            return requests.get(url, timeout=5).status_code
        except requests.RequestException:
            return None

    def loaded(self) -> set[str]:
        return set(LOADED.findall("\n".join(list(self.lines))))

    def trouble(self) -> list[str]:
        return [line for line in self.lines if any(word in line for word in TROUBLE)]

    @property
    def healthy(self) -> bool:
        return (
            len(self.loaded()) == WORKERS
            and self.healthz == 200
            and not self.trouble()
            and self.exit_status == 0
        )

    def output(self) -> str:
        return "\n".join(self.lines[-60:])


def start_on_a_fresh_database(store_url: str, run_dir: Path) -> Start:
    run_dir.mkdir(parents=True)
    (run_dir / "gunicorn.conf.py").write_text(GUNICORN_CONF, encoding="utf-8")
    config = run_dir / "api.toml"
    config.write_text(api_toml(store_url), encoding="utf-8")
    start = Start(readme_gunicorn(free_port()), run_dir, config)
    start.run()
    return start


def test_the_readme_api_command_starts_healthy_on_a_fresh_database(
    store_url: str, tmp_path: Path
) -> None:
    engine = store_url.partition(":")[0]
    seconds: list[float] = []
    for number in range(1, STARTS + 1):
        run_dir = tmp_path / f"start-{number:02d}"
        if engine == "sqlite":
            url = f"sqlite:///{run_dir / 'programs-bot.sqlite'}"
        else:
            empty_store(store_url)
            url = store_url
        start = start_on_a_fresh_database(url, run_dir)
        assert start.healthy, (
            f"start {number} of {STARTS} on {engine}: loaded {len(start.loaded())} of "
            f"{WORKERS} workers, /healthz {start.healthz}, exit {start.exit_status}\n"
            f"{start.output()}"
        )
        # The schema was made once, whole: one version row, at the newest migration.
        store = Store(url, migrate=False)
        assert store.pending_migrations() == []
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        store.engine.dispose()
        assert len(rows) == 1
        # One worker made it and said so; the others waited and found it made.
        applied = [line for line in start.lines if "lacked migrations" in line]
        assert len(applied) == 1, start.output()
        seconds.append(start.seconds)
    print(
        f"\n{STARTS} of {STARTS} starts of the README's gunicorn command healthy on {engine}; "
        f"seconds to healthy: min {min(seconds):.2f}, mean {sum(seconds) / len(seconds):.2f}, "
        f"max {max(seconds):.2f}"
    )


def test_the_readme_example_configuration_is_refused_naming_the_key(tmp_path: Path) -> None:
    """Copied as written, the README's example stops the start with one line per worker
    naming a placeholder key, and gunicorn stops instead of starting workers again."""
    example = readme_block("toml", "secret_key")
    example = re.sub(
        r'^store_url = ".*?"', f'store_url = "sqlite:///{tmp_path}/s.sqlite"', example, flags=re.M
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "gunicorn.conf.py").write_text(GUNICORN_CONF, encoding="utf-8")
    config = run_dir / "api.toml"
    config.write_text(example, encoding="utf-8")
    start = Start(readme_gunicorn(free_port()), run_dir, config)
    start.run(timeout=60)
    assert not start.loaded() and start.healthz is None
    assert start.exit_status not in (None, 0)
    refusals = [line for line in start.lines if line.startswith("programs-bot Join API: ")]
    assert refusals, start.output()
    assert all(
        re.search(r"'(secret_key|consumer_key|consumer_secret)' is a placeholder", line)
        for line in refusals
    )
    assert any("App failed to load" in line for line in start.lines), start.output()
    assert not (tmp_path / "s.sqlite").exists()  # nothing was made


@pytest.mark.wiki
def test_programs_bot_migrate_makes_the_schema_then_finds_nothing_to_do(
    farm: Farm, store_url: str
) -> None:
    """``programs-bot migrate --db URL`` with the bot's Pywikibot directory, as the README has
    it run before the API's first start."""

    def migrate() -> str:
        done = subprocess.run(
            [str(BIN / "programs-bot"), "migrate", "--db", store_url],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ},
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    assert Store(store_url, migrate=False).pending_migrations() == EVERY_MIGRATION
    assert f"applied {', '.join(EVERY_MIGRATION)}" in migrate()
    assert Store(store_url, migrate=False).pending_migrations() == []
    assert "nothing to apply" in migrate()


@pytest.mark.wiki
def test_the_readme_worker_and_deploy_api_url_as_written(wikis: Farm, tmp_path: Path) -> None:
    """The rest of the README's Join API steps, as written: its ``export`` line, gunicorn (on a
    free port), ``programs-bot worker`` beside it, then ``programs-bot deploy --api-url`` with
    only ``<Join API URL>`` replaced. The bot's Pywikibot directory is ``$HOME/programs-bot``
    as the quick start makes it (here the farm's configuration), and the API's store is the
    bot's, in that directory. A join recorded by the API lands on the page through the
    worker, which SIGTERM stops cleanly. The local wikis have no Extension:OAuth (it cannot
    be installed here), so deploy keeps the wiki-edit mode and says why."""
    from bot.core.gadget_pages import SCRIPT_PAGE
    from bot.core.program_page import parse_program_page
    from join_load import join_url, mint_tokens

    home = tmp_path / "home"
    config_dir = home / "programs-bot"
    farm_config = Path(os.environ["PYWIKIBOT_DIR"])
    shutil.copytree(farm_config / "families", config_dir / "families")
    for name in ("user-config.py", "user-password.py"):
        shutil.copy2(farm_config / name, config_dir / name)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROGRAMS_")}
    env.update(HOME=str(home), PYWIKIBOT_DIR=str(config_dir))

    export, gunicorn_line, worker_line = readme_block("sh", "export PROGRAMS_API_CONFIG").split(
        "\n"
    )[:3]
    assert gunicorn_line.startswith("gunicorn ")
    named = subprocess.run(
        ["bash", "-c", f'{export}\nprintf %s "$PROGRAMS_API_CONFIG"'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert named == str(config_dir / "api.toml")
    public_url = "https://programs-bot.example.org"
    store_url = f"sqlite:///{config_dir / 'programs-bot.sqlite'}"
    content = wikis.content
    Path(named).write_text(
        'secret_key = "first-run-test-Zq3x9PfA2kLm0nB7vC4d"\n'
        f'store_url = "{store_url}"\npublic_url = "{public_url}"\n[[wikis]]\n'
        f'host = "{content.host}"\napi_url = "{content.api_url}"\n'
        f'origin = "{content.url}"\noauth_url = "{content.index_url}"\n'
        'consumer_key = "0123456789abcdef0123456789abcdef"\n'
        'consumer_secret = "fedcba9876543210fedcba9876543210"\n',
        encoding="utf-8",
    )
    env["PROGRAMS_API_CONFIG"] = named
    title = "Content Wiki:Quick start join"
    today = datetime.now(UTC).date()
    admin = content.admin_client()
    admin.edit(
        title,
        "{{Program details\n|name=Quick start join\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=5)}\n"
        f"|wikis={content.host}\n|registration=open\n}}}}\n\n{{{{Participants table}}}}\n"
        "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{End of participants table}}\n",
    )

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    command = readme_gunicorn(free_port())
    api_url = "http://" + command[command.index("--bind") + 1]
    api_log, worker_log = (run_dir / "api.log").open("w"), (run_dir / "worker.log").open("w")
    api = subprocess.Popen(
        command,
        cwd=run_dir,
        env=env,
        stdout=api_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while Start._get(api_url + "/healthz") != 200:
            assert api.poll() is None and time.monotonic() < deadline, (
                run_dir / "api.log"
            ).read_text()
            time.sleep(0.1)
        (token,) = mint_tokens(Store(store_url), content.host, ["Bob"]).values()
        joined = requests.post(
            join_url(api_url, content.host, title),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert joined.status_code == 202, joined.text

        program, *args = shlex.split(worker_line)
        assert (program, args) == ("programs-bot", ["worker"]), worker_line
        worker = subprocess.Popen(
            [str(BIN / program), *args], env=env, stdout=worker_log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while "Bob" not in [
            row.username for row in parse_program_page(admin.get_text(title) or "").rows
        ]:
            assert worker.poll() is None and time.monotonic() < deadline, (
                run_dir / "worker.log"
            ).read_text()
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0, (run_dir / "worker.log").read_text()
        assert "running; SIGTERM stops it" in (run_dir / "worker.log").read_text()
        assert admin.history(title)[-1]["user"] == content.bot_username
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait(30)
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(30)
        api_log.close()
        worker_log.close()

    deploy_line = readme_block("sh", "programs-bot deploy --api-url").strip()
    program, *args = shlex.split(deploy_line.replace("<Join API URL>", public_url))
    deployed = subprocess.run(
        [str(BIN / program), *args], env=env, capture_output=True, text=True, timeout=300
    )
    said = deployed.stdout + deployed.stderr
    assert deployed.returncode == 0, said
    assert "wiki-edit mode: the wiki has no Extension:OAuth" in said, said
    assert '"mode":"wiki-edit"' in (admin.get_text(SCRIPT_PAGE) or "").replace(" ", "")
