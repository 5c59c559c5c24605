"""Where the Debian MediaWiki package and PHP live, and how to run PHP against one wiki."""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import LocalWikiError, MediaWikiMissingError

log = logging.getLogger(__name__)

#: The code tree: by default the one Debian 12's ``mediawiki`` package installs (1.39 LTS);
#: .ci/setup also unpacks 1.43 LTS into /opt/mediawiki-1.43.
MEDIAWIKI_DIR = Path(os.environ.get("LOCALWIKI_MEDIAWIKI_DIR", "/usr/share/mediawiki"))
MAINTENANCE_DIR = MEDIAWIKI_DIR / "maintenance"
EXTENSIONS_DIR = MEDIAWIKI_DIR / "extensions"
#: PHP modules the harness relies on (SQLite through PDO, and what MediaWiki requires).
REQUIRED_PHP_MODULES = ("pdo_sqlite", "mbstring", "xml", "intl")
#: The LTS branches the harness runs (the tests run on each in CI).
SUPPORTED_BRANCHES = ("1.39", "1.43")
_MW_VERSION_RE = re.compile(r"""define\(\s*'MW_VERSION',\s*'([^']+)'\s*\)""")


def php_binary() -> str | None:
    """Return the path of the ``php`` CLI, or None when it is not installed."""
    return shutil.which(os.environ.get("LOCALWIKI_PHP", "php"))


@functools.cache
def mediawiki_missing() -> str | None:
    """Say why no local wiki can run here, or return None when everything is present."""
    php = php_binary()
    if php is None:
        return "php is not installed (Debian packages php-cli, php-sqlite3; see .ci/setup)"
    if not (MAINTENANCE_DIR / "install.php").is_file():
        return f"MediaWiki is not installed under {MEDIAWIKI_DIR} (see .ci/setup)"
    try:
        out = subprocess.run(
            [php, "-m"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"php -m failed: {exc}"
    modules = {line.strip().lower() for line in out.splitlines()}
    missing = [m for m in REQUIRED_PHP_MODULES if m not in modules]
    if missing:
        return f"PHP modules missing: {', '.join(missing)} (see .ci/setup)"
    return None


@functools.cache
def mediawiki_version() -> str:
    """The version of the code tree (``MW_VERSION`` in includes/Defines.php), e.g. ``1.43.9``."""
    defines = MEDIAWIKI_DIR / "includes" / "Defines.php"
    try:
        text = defines.read_text(encoding="utf-8")
    except OSError as exc:
        raise MediaWikiMissingError(f"cannot read {defines}: {exc}") from exc
    match = _MW_VERSION_RE.search(text)
    if match is None:
        raise LocalWikiError(f"{defines} defines no MW_VERSION")
    return match.group(1)


def require_mediawiki() -> str:
    """Return the php binary, or raise MediaWikiMissingError saying what is missing."""
    reason = mediawiki_missing()
    php = php_binary()
    if reason is not None or php is None:
        raise MediaWikiMissingError(reason or "php is not installed")
    return php


def php_env(settings: Path | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for PHP processes of one wiki (MW_CONFIG_FILE selects its LocalSettings)."""
    env = dict(os.environ)
    env["MW_INSTALL_PATH"] = str(MEDIAWIKI_DIR)
    if settings is not None:
        env["MW_CONFIG_FILE"] = str(settings)
    if extra:
        env.update(extra)
    return env


def run_php(
    args: Sequence[str],
    *,
    settings: Path | None,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> str:
    """Run ``php ARGS`` for one wiki and return its stdout; raise LocalWikiError on failure."""
    php = require_mediawiki()
    cmd = [php, *args]
    log.debug("running %s", " ".join(cmd))
    try:
        proc = subprocess.run(
            cmd,
            input=stdin,
            capture_output=True,
            text=True,
            env=php_env(settings),
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LocalWikiError(f"{Path(args[0]).name} timed out after {timeout} s") from exc
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip())[-2000:]
        raise LocalWikiError(f"{Path(args[0]).name} failed ({proc.returncode}): {detail}")
    return proc.stdout


def maintenance_script(script: str) -> Path:
    """Resolve ``runJobs``, ``runJobs.php`` or a path to a maintenance script file."""
    path = Path(script)
    if path.is_absolute():
        candidate = path
    else:
        name = script if script.endswith(".php") else f"{script}.php"
        candidate = MAINTENANCE_DIR / name
    if not candidate.is_file():
        raise LocalWikiError(f"no such maintenance script: {candidate}")
    return candidate


def available_extensions(names: Sequence[str]) -> list[str]:
    """Return those of ``names`` that the MediaWiki package ships."""
    return [n for n in names if (EXTENSIONS_DIR / n / "extension.json").is_file()]
