"""create_wiki: install a fresh MediaWiki (SQLite) into a folder with the harness's settings."""

from __future__ import annotations

import logging
import re
import secrets
import time
from pathlib import Path

from .errors import LocalWikiError
from .mediawiki import MAINTENANCE_DIR, available_extensions, run_php
from .settings import EXTENSIONS, local_settings_addition, router_script
from .wiki import BOT_GRANTS, LocalWiki

log = logging.getLogger(__name__)

_BOT_PASSWORD_RE = re.compile(r"password:'([0-9a-z]{32,})'")


def run_installer(wiki: LocalWiki) -> None:
    """MediaWiki's own installer (SQLite, no script path) into ``wiki.root``, as it ships."""
    run_php(
        [
            str(MAINTENANCE_DIR / "install.php"),
            "--dbtype=sqlite",
            f"--dbpath={wiki.data_dir}",
            f"--dbname={wiki.dbname}",
            f"--server={wiki.url}",
            "--scriptpath=",
            f"--confpath={wiki.root}",
            f"--pass={wiki.admin_password}",
            f"--lang={wiki.lang}",
            wiki.site_name,
            wiki.admin_username,
        ],
        settings=None,
        cwd=wiki.root,
    )


def create_wiki(
    root: Path,
    name: str,
    port: int,
    *,
    site_name: str,
    uploads: bool = False,
    lang: str = "en",
) -> LocalWiki:
    """Install a wiki into ``root`` (which must not hold one yet); it is not started.

    Besides ``Admin`` it has the bot account ``ProgramsBot`` with the BotPassword
    ``ProgramsBot@programs``. The result is also saved to ``root/localwiki.json``.
    """
    started = time.monotonic()
    wiki = LocalWiki(root, name, port, site_name=site_name, uploads=uploads, lang=lang)
    root = wiki.root
    if wiki.settings_path.exists():
        raise LocalWikiError(f"{root} already holds a wiki")
    for sub in ("data", "images", "sessions", "logs", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    run_installer(wiki)
    with wiki.settings_path.open("a", encoding="utf-8") as fh:
        fh.write(
            local_settings_addition(
                root=root,
                url=wiki.url,
                uploads=uploads,
                extensions=available_extensions(EXTENSIONS),
            )
        )
    (root / "router.php").write_text(router_script(wiki.upload_dir), encoding="utf-8")

    wiki.bot_account_password = "Bot-" + secrets.token_hex(16)
    wiki.create_users(
        [wiki.bot_username], password=wiki.bot_account_password, groups=["bot", "interface-admin"]
    )
    # The users dict lists participants; the bot's main password has its own attribute.
    wiki.users.pop(wiki.bot_username, None)
    # Let the script generate the BotPassword: one it is given must match ^[0-9a-w]{32,}$,
    # or it is silently taken for a main-account password and the login fails later.
    out = run_php(
        [
            str(MAINTENANCE_DIR / "createBotPassword.php"),
            f"--grants={','.join(BOT_GRANTS)}",
            f"--appid={wiki.bot_app_id}",
            wiki.bot_username,
        ],
        settings=wiki.settings_path,
        cwd=root,
    )
    match = _BOT_PASSWORD_RE.search(out)
    if match is None:
        raise LocalWikiError(f"createBotPassword.php printed no password: {out.strip()}")
    wiki.bot_password = match.group(1)
    wiki.save_state()
    log.info("created wiki %s in %s (%.2f s)", name, root, time.monotonic() - started)
    return wiki
