"""The Pywikibot session's files, sealed for the store and restored into a fresh
directory (bot.wiki.session_files)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pywikibot import config

from bot.wiki.session_files import restore_files, session_files, session_seal

ENTRY = "apicache/" + "ab" * 32


@pytest.fixture
def directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Pywikibot directory with a password file, a cookie jar and two cache entries."""
    (tmp_path / "user-password.py").write_text("('Bot', BotPassword('app', 'secret'))\n")
    (tmp_path / "pywikibot-Bot.lwp").write_bytes(b"#LWP-Cookies-2.0\nSet-Cookie3: s=1\n")
    (tmp_path / "apicache").mkdir()
    (tmp_path / ENTRY).write_bytes(b"\x80\x04cached answer")
    (tmp_path / "apicache" / ("cd" * 32)).write_bytes(b"\x80\x04another")
    (tmp_path / "apicache" / ("ef" * 32 + "-x.tmp")).write_bytes(b"being written")
    (tmp_path / "user-config.py").write_text("family = 'x'\n")
    (tmp_path / "logs").mkdir()
    monkeypatch.setattr(config, "base_dir", str(tmp_path))
    monkeypatch.setattr(config, "password_file", "user-password.py")
    return tmp_path


def test_the_cookie_jars_and_cache_entries_are_the_session(directory: Path) -> None:
    files = session_files(directory)
    assert sorted(files) == [ENTRY, "apicache/" + "cd" * 32, "pywikibot-Bot.lwp"]
    assert files[ENTRY] == b"\x80\x04cached answer"


def test_a_sealed_bundle_opens_only_with_the_same_password_file(directory: Path) -> None:
    seal = session_seal()
    assert seal is not None
    files = session_files(directory)
    bundle = seal.seal(files)
    assert b"secret" not in bundle and b"LWP-Cookies" not in bundle
    assert seal.open(bundle) == files
    tampered = bundle[:-5] + bytes(b ^ 1 for b in bundle[-5:])
    assert seal.open(tampered) is None
    assert seal.open(b"not a bundle") is None
    (directory / "user-password.py").write_text("('Bot', BotPassword('app', 'changed'))\n")
    other = session_seal()
    assert other is not None and other.key_id != seal.key_id
    assert other.open(bundle) is None


def test_another_account_name_makes_another_seal(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seal = session_seal()
    monkeypatch.setitem(config.usernames, "somefamily", {"*": "Other bot"})
    other = session_seal()
    assert seal is not None and other is not None and seal.key_id != other.key_id


def test_no_password_file_keeps_nothing(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "password_file", None)
    assert session_seal() is None
    monkeypatch.setattr(config, "password_file", "missing.py")
    assert session_seal() is None


def test_restoring_writes_only_what_the_directory_lacks(directory: Path, tmp_path: Path) -> None:
    files = session_files(directory)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "apicache").mkdir()
    (fresh / "apicache" / ("cd" * 32)).write_bytes(b"its own, newer")
    written = restore_files(fresh, files)
    assert written == [ENTRY, "pywikibot-Bot.lwp"]
    assert (fresh / "apicache" / ("cd" * 32)).read_bytes() == b"its own, newer"
    assert (fresh / ENTRY).read_bytes() == files[ENTRY]
    assert stat.S_IMODE((fresh / "pywikibot-Bot.lwp").stat().st_mode) == 0o600
    assert sorted(p.name for p in (fresh / "apicache").iterdir()) == ["ab" * 32, "cd" * 32]
    assert restore_files(fresh, files) == []


def test_restoring_writes_nothing_outside_the_session_files(tmp_path: Path) -> None:
    hostile = {
        "../escaped.lwp": b"x",
        "user-config.py": b"x",
        "apicache/../../x": b"x",
        "/etc/pywikibot.lwp": b"x",
        "apicache/short": b"x",
    }
    assert restore_files(tmp_path / "dir", hostile) == []
    assert not (tmp_path / "escaped.lwp").exists()
    assert not (tmp_path / "dir").exists()


def test_the_newest_cache_entries_are_kept_while_they_fit(directory: Path) -> None:
    import os

    for n, name in enumerate(["11" * 32, "22" * 32, "33" * 32]):
        path = directory / "apicache" / name
        path.write_bytes(bytes(1000))
        os.utime(path, (2_000_000_000 + n, 2_000_000_000 + n))  # newer than the others
    kept = session_files(directory, budget=2500)
    assert "pywikibot-Bot.lwp" in kept
    assert {"apicache/" + "22" * 32, "apicache/" + "33" * 32} <= kept.keys()
    assert "apicache/" + "11" * 32 not in kept  # the oldest big one did not fit
    assert sum(map(len, kept.values())) <= 2500
