"""LocalWiki: one throw-away MediaWiki installed in its own folder and served on loopback."""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from .client import ParticipantClient
from .errors import LocalWikiError
from .mediawiki import EXTENSIONS_DIR, MAINTENANCE_DIR, maintenance_script, run_php
from .server import PhpServer
from .settings import CREATE_USERS_PHP
from .snapshot import restore_snapshot, take_snapshot

log = logging.getLogger(__name__)

BOT_USERNAME = "ProgramsBot"
BOT_APP_ID = "programs"
BOT_GRANTS = (
    "basic",
    "highvolume",
    "editpage",
    "createeditmovepage",
    "uploadfile",
    "uploadeditmovefile",
    "editprotected",
    # Deploying the gadget edits MediaWiki:*.js/.css, which needs interface-admin rights.
    "editsiteconfig",
)
ADMIN_USERNAME = "Admin"
ADMIN_PASSWORD = "Localwiki-admin-passw0rd-4d1b"
DEFAULT_USER_PASSWORD = "Localwiki-user-passw0rd-7c2e"
STATE_FILE = "localwiki.json"
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,30}$")


def _decode(value: Any) -> Any:
    # MediaWiki's SQLite schema declares timestamps and many texts as BLOB.
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


class LocalWiki:
    """A MediaWiki wiki under ``root`` (made by create_wiki), served on 127.0.0.1:port.

    Folder layout: ``LocalSettings.php``, ``data/`` (SQLite files), ``images/`` (uploads),
    ``sessions/`` (session store kept out of snapshots), ``snapshot/``, ``server.log``.
    """

    def __init__(
        self,
        root: Path,
        name: str,
        port: int,
        *,
        site_name: str,
        uploads: bool = False,
        lang: str = "en",
        bot_password: str = "",
        bot_account_password: str = "",
        admin_password: str = ADMIN_PASSWORD,
        users: dict[str, str] | None = None,
    ) -> None:
        if not NAME_RE.match(name):
            raise LocalWikiError(f"wiki name must match {NAME_RE.pattern}: {name!r}")
        self.root = Path(root).resolve()
        self.name = name
        self.port = port
        self.site_name = site_name
        self.uploads = uploads
        self.lang = lang
        self.dbname = f"{name}wiki"
        self.bot_username = BOT_USERNAME
        self.bot_app_id = BOT_APP_ID
        self.bot_password = bot_password
        self.bot_account_password = bot_account_password
        self.admin_username = ADMIN_USERNAME
        self.admin_password = admin_password
        #: Accounts created through this object (and create_wiki), name -> password.
        self.users: dict[str, str] = dict(users or {})
        self._server = PhpServer(
            port=port,
            settings=self.settings_path,
            router=self.root / "router.php",
            log_path=self.root / "server.log",
            pid_path=self.root / "server.pid",
        )

    # -- addresses and paths ---------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def api_url(self) -> str:
        return self.api_url_for(self.port)

    @staticmethod
    def api_url_for(port: int) -> str:
        """api.php URL of a local wiki served on ``port``."""
        return f"http://127.0.0.1:{port}/api.php"

    @property
    def index_url(self) -> str:
        return f"{self.url}/index.php"

    @property
    def bot_login_name(self) -> str:
        """The BotPassword login name, ``ProgramsBot@programs``."""
        return f"{self.bot_username}@{self.bot_app_id}"

    @property
    def settings_path(self) -> Path:
        return self.root / "LocalSettings.php"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def upload_dir(self) -> Path:
        return self.root / "images"

    @property
    def db_path(self) -> Path:
        """The wiki's main SQLite database."""
        return self.data_dir / f"{self.dbname}.sqlite"

    @property
    def snapshot_dir(self) -> Path:
        return self.root / "snapshot"

    def __repr__(self) -> str:
        return f"LocalWiki({self.name!r}, {self.url!r}, root={str(self.root)!r})"

    # -- persistence, so that another process (the sandbox command) can reopen a wiki ------

    def save_state(self) -> None:
        """Write ``localwiki.json`` (mode 0600: it holds passwords) describing this wiki."""
        state = {
            "name": self.name,
            "port": self.port,
            "site_name": self.site_name,
            "uploads": self.uploads,
            "lang": self.lang,
            "bot_password": self.bot_password,
            "bot_account_password": self.bot_account_password,
            "admin_password": self.admin_password,
            "users": self.users,
        }
        path = self.root / STATE_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state, fh, indent=2, sort_keys=True)

    @classmethod
    def load(cls, root: Path) -> LocalWiki:
        """Reopen a wiki that create_wiki made under ``root`` (its server may be running)."""
        try:
            state = json.loads((Path(root) / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LocalWikiError(f"no local wiki under {root}: {exc}") from exc
        return cls(
            Path(root),
            state["name"],
            int(state["port"]),
            site_name=state["site_name"],
            uploads=bool(state["uploads"]),
            lang=state["lang"],
            bot_password=state["bot_password"],
            bot_account_password=state["bot_account_password"],
            admin_password=state["admin_password"],
            users=dict(state["users"]),
        )

    # -- server ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server.running

    def start(self, timeout: float = 30.0) -> None:
        """Serve the wiki with ``php -S`` and return once api.php answers."""
        started = time.monotonic()
        self._server.start(self.api_url, timeout)
        log.info("%s serving on %s (%.2f s)", self.name, self.url, time.monotonic() - started)

    def stop(self) -> None:
        """Stop the server (the whole process group); harmless when it is not running."""
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def server_log_tail(self, chars: int = 2000) -> str:
        return self._server.log_tail(chars)

    # -- snapshot and reset ----------------------------------------------------------------

    def snapshot(self) -> None:
        """Save the current databases and uploads; reset() returns to this state."""
        started = time.monotonic()
        take_snapshot(self.data_dir, self.upload_dir, self.snapshot_dir)
        log.debug("%s snapshot taken in %.3f s", self.name, time.monotonic() - started)

    def reset(self, *, restart: bool = False) -> None:
        """Return to the last snapshot.

        The server keeps running (see snapshot.py for why that is safe between requests);
        call it only while no request to this wiki is in flight. Sessions survive, so
        clients logged in as accounts that existed at snapshot time stay logged in.
        ``restart=True`` stops the server around the restore instead.
        """
        started = time.monotonic()
        was_running = self.running
        if restart and was_running:
            self.stop()
        restore_snapshot(self.data_dir, self.upload_dir, self.snapshot_dir)
        if restart and was_running:
            self.start()
        log.debug("%s reset in %.3f s", self.name, time.monotonic() - started)

    # -- database and maintenance ----------------------------------------------------------

    def sql(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query on the wiki's main SQLite database; bytes come back as str."""
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute(query, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise LocalWikiError(f"sql failed on {self.name}: {exc}") from exc
        finally:
            conn.close()
        return [tuple(_decode(v) for v in row) for row in rows]

    def maintenance(self, script: str, *args: str, stdin: str | None = None) -> str:
        """Run a maintenance script (``runJobs`` or ``runJobs.php`` or a path) on this wiki."""
        path = maintenance_script(script)
        return run_php([str(path), *args], settings=self.settings_path, stdin=stdin, cwd=self.root)

    def run_jobs(self) -> None:
        """Run every queued job now (e.g. refreshLinks after a template edit)."""
        self.maintenance("runJobs.php", "--quiet")

    # -- accounts --------------------------------------------------------------------------

    def rename_user(self, old: str, new: str, *, performer: str = "Admin") -> None:
        """Rename an account as a wiki's bureaucrat does, with the script MediaWiki ships
        (core's since 1.40, Extension:Renameuser's before): its edits, log entry and all."""
        core = MAINTENANCE_DIR / "renameUser.php"
        if (MAINTENANCE_DIR.parent / "includes" / "RenameUser").is_dir() and core.is_file():
            self.maintenance(str(core), old, new, "--performer", performer)
        else:
            script = EXTENSIONS_DIR / "Renameuser" / "maintenance" / "renameUser.php"
            self.maintenance(
                str(script), "--oldname", old, "--newname", new, "--performer", performer
            )
        self.run_jobs()

    def create_users(
        self,
        names: Iterable[str],
        *,
        password: str | None = None,
        groups: Sequence[str] = (),
    ) -> dict[str, str]:
        """Create accounts in one PHP process; return ``{name: password}``."""
        chosen = password or DEFAULT_USER_PASSWORD
        names = list(names)
        if not names:
            return {}
        specs = [{"name": n, "password": chosen, "groups": list(groups)} for n in names]
        script = self.root / "createUsers.php"
        if not script.is_file():
            script.write_text(CREATE_USERS_PHP, encoding="utf-8")
        run_php(
            [str(script)],
            settings=self.settings_path,
            stdin=json.dumps(specs),
            cwd=self.root,
        )
        created = dict.fromkeys(names, chosen)
        self.users.update(created)
        if (self.root / STATE_FILE).exists():
            self.save_state()
        return created

    def create_user(
        self, name: str, password: str | None = None, *, groups: Sequence[str] = ()
    ) -> str:
        """Create one account (like createAndPromote.php without --bot); return its password."""
        return self.create_users([name], password=password, groups=groups)[name]

    def password_of(self, username: str) -> str:
        """The password of an account made by the harness (Admin, ProgramsBot, participants)."""
        if username == self.admin_username:
            return self.admin_password
        if username == self.bot_username:
            return self.bot_account_password
        try:
            return self.users[username]
        except KeyError:
            raise LocalWikiError(f"{username} was not created by the harness") from None

    def client(self, username: str, password: str | None = None) -> ParticipantClient:
        """A logged-in plain ``requests`` client for an account of this wiki."""
        return ParticipantClient(self, username, password or self.password_of(username))

    def admin_client(self) -> ParticipantClient:
        """A logged-in client for ``Admin`` (sysop, bureaucrat, interface-admin)."""
        return ParticipantClient(self, self.admin_username, self.admin_password)
