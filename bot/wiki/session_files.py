"""The Pywikibot directory's session: the bot's cookies and the site and parameter
information Pywikibot caches, sealed so that they can be kept outside that directory.

A process that starts in a fresh Pywikibot directory (a new container, a new machine, a
cleared cookie jar) otherwise logs in again and asks every wiki for its site information,
about eight requests per wiki. Restored from a sealed bundle before the first request, the
directory is as a warm one: the session logs the bot in (while the wiki keeps it) and the
cached answers are found.

The seal is Fernet (authenticated encryption) under a key derived (HKDF) from the password
file and the account names of user-config.py: only a process that could log the bot in
anyway can open a bundle, and a bundle of another bot or another account never opens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pywikibot import config

#: The files kept: cookie jars at the top of the directory, Pywikibot's API cache entries.
_NAME = re.compile(r"^(?:pywikibot[^/\\]*\.lwp|apicache/[0-9a-f]{64})$")
#: At most this much of the files is kept (the cookie jars, then the newest cache entries);
#: sealing makes them about 1.8 times bigger. A bot on a few wikis caches a few hundred kB.
MAX_FILES = 4 * 1024 * 1024
#: A bundle bigger than this is not kept (the store's column holds 16 MB).
MAX_BUNDLE = 8 * 1024 * 1024


@dataclass(frozen=True)
class SessionSeal:
    """Seals and opens bundles of one bot's session files."""

    #: Which bot the bundles are of (a digest of the key, not the key).
    key_id: str
    fernet: Fernet

    def seal(self, files: Mapping[str, bytes]) -> bytes:
        """``files`` (name -> content) as one sealed bundle."""
        plain = {name: base64.b64encode(data).decode("ascii") for name, data in files.items()}
        return self.fernet.encrypt(json.dumps(plain, sort_keys=True).encode())

    def open(self, bundle: bytes) -> dict[str, bytes] | None:
        """The files of a bundle sealed with this seal; None for any other bytes."""
        try:
            plain = json.loads(self.fernet.decrypt(bundle))
            files = {str(name): base64.b64decode(data) for name, data in plain.items()}
        except (InvalidToken, ValueError, TypeError, AttributeError):
            return None
        return {name: data for name, data in files.items() if _NAME.match(name)}


def session_seal() -> SessionSeal | None:
    """The seal of the bot user-config.py describes; None without a password file (a
    session that cannot be made again from the directory is not kept)."""
    if not config.password_file:
        return None
    try:
        secret = Path(config.base_dir, config.password_file).read_bytes()
    except OSError:
        return None
    accounts = sorted((family, sorted(codes.items())) for family, codes in config.usernames.items())
    info = b"programs-bot session\n" + repr(accounts).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)
    return SessionSeal(hashlib.sha256(key).hexdigest(), Fernet(base64.urlsafe_b64encode(key)))


def session_files(base_dir: Path, budget: int = MAX_FILES) -> dict[str, bytes]:
    """The directory's cookie jars and API cache entries, by name relative to it: the jars,
    then the newest entries while they fit in ``budget`` bytes (a bot on many wikis caches
    more than a bundle should hold; an entry left out is asked again when needed)."""
    jars = sorted(base_dir.glob("pywikibot*.lwp"))
    entries = sorted((base_dir / "apicache").glob("*"), key=_modified, reverse=True)
    found: dict[str, bytes] = {}
    size = 0
    for path in [*jars, *entries]:
        name = path.relative_to(base_dir).as_posix()
        if not _NAME.match(name):
            continue
        try:
            data = path.read_bytes()
        except OSError:  # removed meanwhile (Pywikibot replaces cache files)
            continue
        if name.startswith("apicache/") and size + len(data) > budget:
            continue
        found[name] = data
        size += len(data)
    return found


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def fingerprint(files: Mapping[str, bytes]) -> str:
    """A digest of the files (so that an unchanged session is not written again)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def restore_files(base_dir: Path, files: Mapping[str, bytes]) -> list[str]:
    """Write the files the directory lacks (never one it has: its own are as new or
    newer); the names written."""
    written = []
    for name, data in sorted(files.items()):
        path = base_dir / name
        if not _NAME.match(name) or path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own (two processes may restore into one directory at once), made
        # readable by its owner only, as Pywikibot makes its cookie jars and cache entries.
        handle, partial = tempfile.mkstemp(prefix=path.name + "-", dir=path.parent)
        with open(handle, "wb") as out:
            out.write(data)
        os.replace(partial, path)
        written.append(name)
    return written
