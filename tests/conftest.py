"""Shared fixtures: two real local MediaWiki wikis (a "farm") and Pywikibot's config for them.

Import order matters. ``import pywikibot`` executes ``$PYWIKIBOT_DIR/user-config.py`` once,
at import time; family_files and usernames set later in that file are never seen. Test
modules (and the bot modules they import) are imported after this conftest, so everything
Pywikibot reads at import time is settled right here, at module level, before the wikis
exist: the two ports are chosen now, and user-config.py (which needs only names and ports)
is written now. The BotPasswords exist only once the wikis are installed; they go into
user-password.py, which Pywikibot reads when it logs in, not when it is imported. Nothing
in this file may import pywikibot (harness never does).

A port chosen here could in principle be taken by another process before the farm starts;
the farm fixture then fails with "port ... already in use".
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import (
    ADMIN_USERNAME,
    CONTENT_NAME,
    PARTICIPANTS,
    Farm,
    LocalWiki,
    ParticipantClient,
    farm_families,
    free_ports,
    mediawiki_missing,
    mediawiki_version,
    start_farm,
    write_pywikibot_config,
    write_user_config,
)
from reliability import TALLY, long_mode, set_long

if "pywikibot" in sys.modules:  # it would already have read some other user-config.py
    raise RuntimeError("pywikibot was imported before tests/conftest.py configured it")

TEST_ROOT = Path(tempfile.mkdtemp(prefix="programs-bot-tests-"))
_content_port, _media_port = free_ports(2)
FARM_PORTS = (_content_port, _media_port)
PYWIKIBOT_DIR = TEST_ROOT / "pywikibot"

os.environ["PYWIKIBOT_DIR"] = str(PYWIKIBOT_DIR)
write_user_config(PYWIKIBOT_DIR, farm_families(FARM_PORTS), CONTENT_NAME)

# Registered before pywikibot is imported, so it runs after Pywikibot's own exit handlers
# (atexit is last in, first out), which may still write into PYWIKIBOT_DIR.
if not os.environ.get("LOCALWIKI_KEEP"):
    atexit.register(shutil.rmtree, TEST_ROOT, True)


def _mediawiki_or_skip() -> None:
    """Skip when MediaWiki is missing; under CI=true fail instead, so nothing passes silently."""
    reason = mediawiki_missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"local MediaWiki required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"local MediaWiki not available: {reason}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        help="the reliability suite's longer mode (also PROGRAMS_BOT_LONG=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    set_long(bool(config.getoption("--long")))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The reliability summary: what was tried, and every count of harm (all must be 0)."""
    if not any(TALLY.counts.values()):
        return
    mode = "long" if long_mode() else "quick"
    terminalreporter.section(f"reliability summary ({mode} mode)")
    for line in TALLY.lines():
        terminalreporter.write_line(line)
    verdict = "all harm counts are zero" if TALLY.harm() == 0 else "HARM FOUND"
    terminalreporter.write_line(verdict)
    target = os.environ.get("PROGRAMS_BOT_SUMMARY")
    if target:
        TALLY.write(Path(target))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("wiki") is not None:
        _mediawiki_or_skip()


@pytest.fixture(scope="session")
def farm() -> Iterator[Farm]:
    """The content and media wikis, started once per session and snapshotted after setup."""
    _mediawiki_or_skip()
    started = time.monotonic()
    the_farm = start_farm(TEST_ROOT / "farm", ports=FARM_PORTS)
    try:
        write_pywikibot_config(PYWIKIBOT_DIR, the_farm.wikis, the_farm.content)
        the_farm.snapshot()
        print(
            f"\nlocal wiki farm (MediaWiki {mediawiki_version()}) ready in "
            f"{time.monotonic() - started:.2f} s under {TEST_ROOT}"
        )
        yield the_farm
    finally:
        the_farm.stop()


@pytest.fixture
def wikis(farm: Farm) -> Farm:
    """The farm, reset to its snapshot before the test."""
    farm.reset()
    return farm


@pytest.fixture(scope="session")
def _client_cache() -> Iterator[dict[tuple[str, str], ParticipantClient]]:
    cache: dict[tuple[str, str], ParticipantClient] = {}
    yield cache
    for client in cache.values():
        client.close()


ParticipantFactory = Callable[..., ParticipantClient]


@pytest.fixture
def participant(
    wikis: Farm, _client_cache: dict[tuple[str, str], ParticipantClient]
) -> ParticipantFactory:
    """``participant("Alice", wiki=wikis.media)`` -> a logged-in ParticipantClient.

    Logins of the farm's own accounts (the participants and Admin) are cached for the
    session: reset() keeps the session store, and those accounts exist in the snapshot, so
    their sessions stay valid (a client logs in again by itself if one ever is not). Other
    accounts, made by a test after the snapshot, vanish at reset, so they are not cached.
    """

    def make(
        username: str, *, wiki: LocalWiki | None = None, password: str | None = None
    ) -> ParticipantClient:
        target = wiki or wikis.content
        cacheable = password is None and username in (*PARTICIPANTS, ADMIN_USERNAME)
        key = (target.name, username)
        if cacheable and key in _client_cache:
            return _client_cache[key]
        client = target.client(username, password)
        if cacheable:
            _client_cache[key] = client
        return client

    return make


# -- SQL databases for the store's contract tests ---------------------------------------

#: The engines the store must work on. MariaDB and PostgreSQL run on this machine kind
#: (and in CI) on loopback; each test session gets its own database on them.
SERVER_URLS = {
    "mariadb": os.environ.get(
        "PROGRAMS_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/{db}?charset=utf8mb4"
    ),
    "postgresql": os.environ.get(
        "PROGRAMS_TEST_POSTGRESQL", "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
    ),
}
SESSION_DB = f"programs_test_{os.getpid()}"


def _server_database(engine_name: str) -> Iterator[str]:
    """Create this session's database on a server, yield its URL, drop it afterwards."""
    import sqlalchemy

    admin_url = SERVER_URLS[engine_name].format(
        db="test" if engine_name == "mariadb" else "postgres"
    )
    try:
        admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {SESSION_DB}")
            conn.exec_driver_sql(f"CREATE DATABASE {SESSION_DB}")
    except Exception as error:  # any driver error means: no server here
        if os.environ.get("CI") == "true":
            pytest.fail(f"{engine_name} required under CI=true: {error}", pytrace=False)
        pytest.skip(f"{engine_name} not available: {error}")
    try:
        yield SERVER_URLS[engine_name].format(db=SESSION_DB)
    finally:
        # Stores opened by the tests may still hold pooled connections.
        force = " WITH (FORCE)" if engine_name == "postgresql" else ""
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {SESSION_DB}{force}")
        admin.dispose()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    yield from _server_database("mariadb")


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    yield from _server_database("postgresql")


@pytest.fixture(params=["sqlite", "mariadb", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database on each engine the store supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    url = request.getfixturevalue(f"{request.param}_url")
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    metadata = sqlalchemy.MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()
    yield url
