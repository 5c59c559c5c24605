"""Writing user-config.py and user-password.py for Pywikibot (this module never imports it).

Pywikibot reads user-config.py from ``$PYWIKIBOT_DIR`` once, when ``pywikibot`` is first
imported, but reads the password file only when it logs in. So user-config.py (which needs
nothing but names and ports) can be written before the wikis exist, and user-password.py
(which needs the generated BotPasswords) afterwards: see write_user_config.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from .errors import LocalWikiError
from .wiki import BOT_USERNAME, LocalWiki

USER_CONFIG = "user-config.py"
PASSWORD_FILE = "user-password.py"


FAMILY_DIR = "families"


def family_file_text(name: str, api_url: str) -> str:
    """A Pywikibot family file for one wiki, as ``generate_family_file`` would write it.

    A family file, not ``family_files[name] = api_url``: for such a URL Pywikibot builds an
    ``AutoFamily``, and for an AutoFamily it raises SiteDefinitionError on an answer that is
    not JSON instead of waiting and trying again (Pywikibot 11.9, Request._json_loads).
    """
    parts = urlsplit(api_url)
    if not parts.path.endswith("/api.php"):
        raise LocalWikiError(f"{api_url} is not an api.php URL")
    return "\n".join(
        [
            "# Written by harness for a throw-away local wiki.",
            "from pywikibot import family",
            "",
            "",
            "class Family(family.SingleSiteFamily):",
            f"    name = {name!r}",
            f"    domain = {parts.netloc!r}",
            "",
            "    def protocol(self, code):",
            f"        return {parts.scheme!r}",
            "",
            "    def scriptpath(self, code):",
            f"        return {parts.path.removesuffix('/api.php')!r}",
            "",
        ]
    )


def user_config_text(
    families: Mapping[str, str],
    home: str,
    *,
    usernames: Mapping[str, str] | None = None,
    extra: str = "",
    family_dir: Path | None = None,
) -> str:
    """user-config.py for ``families`` (family name -> api.php URL), defaulting to ``home``.

    With ``family_dir`` each family is the file ``<family_dir>/<name>_family.py`` (see
    family_file_text), else the api.php URL itself.
    """
    if home not in families:
        raise LocalWikiError(f"home family {home!r} is not among {sorted(families)}")
    lines = [
        "# Written by harness for throw-away local wikis.",
        f"family = {home!r}",
        # An AutoFamily made from family_files has one site whose code is the family name.
        f"mylang = {home!r}",
    ]
    for name, api_url in families.items():
        username = (usernames or {}).get(name, BOT_USERNAME)
        source = str(family_dir / f"{name}_family.py") if family_dir else api_url
        lines.append(f"family_files[{name!r}] = {source!r}")
        lines.append(f"usernames[{name!r}]['*'] = {username!r}")
    lines += [
        f"password_file = {PASSWORD_FILE!r}",
        "put_throttle = 0",
        "minthrottle = 0",
        "write_maxlag = 5",  # "maxlag" is deprecated since Pywikibot 11.8
        "max_retries = 2",
        "retry_wait = 1",
        "console_encoding = 'utf-8'",
    ]
    if extra:
        lines += ["", extra.rstrip()]
    return "\n".join(lines) + "\n"


def user_password_text(wikis: Sequence[LocalWiki]) -> str:
    """user-password.py lines: ``(code, family, user, BotPassword(app id, password))``.

    Pywikibot 11.9 parses each line as a literal tuple of 2 to 4 items and uses the last
    line matching (code, family, user), so the 4-item form gives each wiki its own password.
    """
    lines = ["# Written by harness."]
    for wiki in wikis:
        if not wiki.bot_password:
            raise LocalWikiError(f"{wiki.name} has no bot password yet")
        lines.append(
            f"({wiki.name!r}, {wiki.name!r}, {wiki.bot_username!r}, "
            f"BotPassword({wiki.bot_app_id!r}, {wiki.bot_password!r}))"
        )
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, mode)  # os.open's mode does not apply to an existing file


def write_user_config(
    directory: Path, families: Mapping[str, str], home: str, *, extra: str = ""
) -> Path:
    """Write only user-config.py (enough for ``import pywikibot``); return ``directory``."""
    directory = Path(directory)
    family_dir = _write_families(directory, families)
    text = user_config_text(families, home, extra=extra, family_dir=family_dir)
    _write(directory / USER_CONFIG, text, 0o600)
    return directory


def _write_families(directory: Path, families: Mapping[str, str]) -> Path:
    family_dir = directory / FAMILY_DIR
    family_dir.mkdir(parents=True, exist_ok=True)
    for name, api_url in families.items():
        _write(family_dir / f"{name}_family.py", family_file_text(name, api_url), 0o644)
    return family_dir


def write_pywikibot_config(
    directory: Path, wikis: Sequence[LocalWiki], home: LocalWiki, *, extra: str = ""
) -> Path:
    """Write user-config.py and user-password.py (mode 0600) for ``wikis``; return ``directory``.

    Each wiki is a family named ``wiki.name`` whose only site has code ``wiki.name``, so
    ``pywikibot.Site(name, name)`` selects it and logs in as ``ProgramsBot@programs``.
    """
    if home not in wikis:
        raise LocalWikiError("home must be one of wikis")
    families = {w.name: w.api_url for w in wikis}
    if len(families) != len(wikis):
        raise LocalWikiError("wiki names must be distinct")
    usernames = {w.name: w.bot_username for w in wikis}
    directory = Path(directory)
    family_dir = _write_families(directory, families)
    text = user_config_text(
        families, home.name, usernames=usernames, extra=extra, family_dir=family_dir
    )
    _write(directory / USER_CONFIG, text, 0o600)
    _write(directory / PASSWORD_FILE, user_password_text(wikis), 0o600)
    return directory
