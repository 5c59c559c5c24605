"""Saving and restoring a wiki's SQLite files and uploads (LocalWiki.snapshot/reset).

What a snapshot holds: every ``*.sqlite`` file under ``data/`` (the wiki's tables, its job
queue, and ``wikicache.sqlite`` with the parser, message and main-stash caches, so no cached
page outlives the revisions it was rendered from), and the upload folder. What it leaves
out: the localisation cache (derived from MediaWiki's code only) and the session store,
which settings.py puts outside ``data/`` so that logins survive a reset.

Restoring while ``php -S`` keeps running is safe between requests: PHP keeps no state from
one request to the next (APCu is disabled, connections are not persistent), so the next
request opens the restored files. Each file is swapped in by rename, and the stale
``-wal``/``-shm``/``-journal`` companions are removed first, because SQLite would otherwise
replay another database's write-ahead log into the restored file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

from .errors import LocalWikiError

#: Files under data/ that are caches of MediaWiki's code, not of the wiki's content.
SKIPPED_SUFFIX = "_l10n_cache.sqlite"
COMPANIONS = ("-wal", "-shm", "-journal")


def _databases(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.glob("*.sqlite") if not p.name.endswith(SKIPPED_SUFFIX))


def take_snapshot(data_dir: Path, upload_dir: Path, target: Path) -> None:
    """Copy the wiki's databases and uploads into ``target`` (replacing an older snapshot)."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "data").mkdir(parents=True)
    for db in _databases(data_dir):
        # The backup API gives a consistent copy even of a WAL-mode file (wikicache.sqlite),
        # whose latest commits may still be in its -wal companion.
        source = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            dest = sqlite3.connect(partial / "data" / db.name)
            try:
                source.backup(dest)
            finally:
                dest.close()
        finally:
            source.close()
    if upload_dir.is_dir():
        shutil.copytree(upload_dir, partial / "images", symlinks=True)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)


def restore_snapshot(data_dir: Path, upload_dir: Path, source: Path) -> None:
    """Put the databases and uploads saved in ``source`` back in place."""
    saved = source / "data"
    if not saved.is_dir():
        raise LocalWikiError(f"no snapshot at {source}; call snapshot() first")
    wanted = {p.name for p in saved.glob("*.sqlite")}
    for db in _databases(data_dir):
        if db.name not in wanted:  # created after the snapshot: drop it with its companions
            _remove_with_companions(db)
    for copy in sorted(saved.glob("*.sqlite")):
        target = data_dir / copy.name
        staged = data_dir / f".{copy.name}.restoring"
        shutil.copyfile(copy, staged)
        for suffix in COMPANIONS:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{target}{suffix}")
        os.replace(staged, target)
    saved_uploads = source / "images"
    if saved_uploads.is_dir() or upload_dir.exists():
        shutil.rmtree(upload_dir, ignore_errors=True)
        if saved_uploads.is_dir():
            shutil.copytree(saved_uploads, upload_dir, symlinks=True)
        else:
            upload_dir.mkdir(parents=True)


def _remove_with_companions(db: Path) -> None:
    for suffix in ("", *COMPANIONS):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{db}{suffix}")
