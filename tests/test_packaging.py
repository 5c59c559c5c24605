"""The package as it ships: a wheel of the checkout, installed into a fresh environment.

Everything else in tests/ runs the checkout itself (an editable install, with tests/ on
sys.path). Here the wheel is built from a copy of the checkout's files (what git sees: no
stale build/ or egg-info), its file list is checked, and it is installed with its
dependencies into a virtual environment outside the checkout, where the Join API must
import without Pywikibot and the installed ``programs-bot`` command must deploy the
templates and refresh a program page on the real local wikis, with figures equal to the
wikis' own tables. PyPI must be reachable; pip's cache makes later runs quick.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import PROJECT_ROOT, Farm, tiny_png
from harness.dbcount import db_counts

ParticipantFactory = Callable[..., Any]

#: Names of the test harness, its stand-ins and the sandbox: none may be in the wheel.
NOT_SHIPPED = (
    "harness",
    "localwiki",
    "sandbox",
    "oauth_provider",
    "faultproxy",
    "pageviews_server",
)
#: The checkout's folders of package data: where they land in the wheel, and their files.
PACKAGE_DATA = {
    "i18n": ("bot/i18n", ("*/*.json",)),
    "wikitemplates": (
        "bot/wikitemplates",
        (
            "templates/*.wikitext",
            "templates/*/*.wikitext",
            "categories/*.wikitext",
            "categories/*/*.wikitext",
            "gadget/*.js",
            "gadget/*.css",
        ),
    ),
    "bot/store/migrations": ("bot/store/migrations", ("*.py", "*.mako", "versions/*.py")),
}
TITLE = "Project:Packaged program"
USERS = ["Alice", "Bob", "Carol"]


def run(
    command: list[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def matches(name: str, pattern: str) -> bool:
    """Whether the relative path ``name`` matches ``pattern`` part by part (``*`` never
    crosses a ``/``)."""
    parts, wanted = name.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(map(fnmatch.fnmatchcase, parts, wanted))


def outside_checkout(path: Path) -> Path:
    resolved = path.resolve()
    assert not resolved.is_relative_to(PROJECT_ROOT), f"{resolved} is inside the checkout"
    return resolved


# -- the wheel -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkout_files() -> list[str]:
    """The checkout's files as git sees them: tracked and new, never ignored ones (build/,
    *.egg-info, .venv, caches), nor tracked files deleted from the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({p for p in listed.split("\0") if p and (PROJECT_ROOT / p).is_file()})


@pytest.fixture(scope="module")
def wheel(checkout_files: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built, the way pip builds one, from a copy of the checkout's files."""
    source = outside_checkout(tmp_path_factory.mktemp("source"))
    for name in checkout_files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    built = run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)],
        cwd=dist,
        env=os.environ,
    )
    assert built.returncode == 0, output_of(built)
    (wheel_file,) = dist.glob("programs_bot-*.whl")
    return wheel_file


def test_the_wheel_holds_the_code_and_its_data_and_nothing_of_the_tests(
    wheel: Path, checkout_files: list[str]
) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = "-".join(wheel.name.split("-")[:2]) + ".dist-info"  # name-version
    assert {name.split("/")[0] for name in names} == {"bot", "gadget_api", dist_info}

    # Every module of the two packages (a subpackage missing from setup.cfg would be lost).
    modules = {
        name
        for name in checkout_files
        if name.endswith(".py") and name.startswith(("bot/", "gadget_api/"))
    }
    assert modules - names == set()

    # The templates, the gadget, the messages and the store's migrations.
    expected = {
        f"{target}/{name.removeprefix(folder + '/')}"
        for folder, (target, patterns) in PACKAGE_DATA.items()
        for name in checkout_files
        if any(matches(name.removeprefix(folder + "/"), p) for p in patterns)
        and name.startswith(folder + "/")
    }
    for must in (
        "bot/wikitemplates/templates/Program details.wikitext",
        "bot/wikitemplates/templates/de/Programmdetails.wikitext",
        "bot/wikitemplates/gadget/programs-bot.js",
        "bot/wikitemplates/gadget/programs-bot.css",
        "bot/i18n/bot/en.json",
        "bot/i18n/gadget/en.json",
        "bot/i18n/templates/en.json",
        "bot/store/migrations/env.py",
        "bot/store/migrations/script.py.mako",
        "bot/store/migrations/versions/0001_initial_schema.py",
    ):
        assert must in expected, must
    assert expected - names == set()

    # Nothing of tests/, the harness, the stand-ins or the sandbox.
    leaked = sorted(
        name
        for name in names
        if name.startswith("tests/") or any(word in name.lower() for word in NOT_SHIPPED)
    )
    assert leaked == []


# -- the wheel installed ---------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    venv: Path
    #: A working directory outside the checkout.
    cwd: Path
    env: dict[str, str]

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return run([str(self.venv / "bin" / "python"), "-c", code], cwd=self.cwd, env=self.env)

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([str(self.venv / "bin" / "programs-bot"), *args], cwd=self.cwd, env=self.env)


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh virtual environment outside the checkout with the wheel and its `api` extra."""
    venv = outside_checkout(tmp_path_factory.mktemp("installed") / "venv")
    cwd = outside_checkout(tmp_path_factory.mktemp("cwd"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONNOUSERSITE"] = "1"
    made = run([sys.executable, "-m", "venv", str(venv)], cwd=cwd, env=env)
    assert made.returncode == 0, output_of(made)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    done = run([*pip, f"{wheel}[api]"], cwd=cwd, env=env, timeout=600)
    assert done.returncode == 0, output_of(done)
    the_env = Installed(venv=venv, cwd=cwd, env=env)
    # The packages come from the environment, not from the checkout.
    where = the_env.python(
        "from importlib.util import find_spec as f; "
        "print(f('bot').origin); print(f('gadget_api').origin); print(f('bot.i18n').origin)"
    )
    assert where.returncode == 0, output_of(where)
    for origin in where.stdout.splitlines():
        assert Path(origin).resolve().is_relative_to(venv), origin
    return the_env


def test_the_installed_join_api_imports_without_pywikibot(installed: Installed) -> None:
    result = installed.python(
        "import sys\n"
        "import gadget_api\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('bot', 'gadget_api'))\n"
        "assert 'pywikibot' not in sys.modules, f'pywikibot imported; loaded: {loaded}'\n"
    )
    assert result.returncode == 0, output_of(result)


@pytest.mark.wiki
def test_the_installed_command_deploys_and_refreshes(
    wikis: Farm, participant: ParticipantFactory, installed: Installed, tmp_path: Path
) -> None:
    # test_refresh's helpers, and the page parser where test_refresh takes it from.
    from test_refresh import FIGURES, as_strings, program_text, read_outcome_rows, window_of

    env = {**installed.env, "PYWIKIBOT_DIR": os.environ["PYWIKIBOT_DIR"]}
    cli = Installed(venv=installed.venv, cwd=installed.cwd, env=env)
    admin = wikis.content.admin_client()

    deployed = cli.command("deploy")
    assert deployed.returncode == 0, output_of(deployed)
    templates = sorted((PROJECT_ROOT / "wikitemplates" / "templates").glob("*.wikitext"))
    assert "Program details.wikitext" in [t.name for t in templates]
    for template in templates:
        title = f"Template:{template.stem}"
        on_wiki = admin.get_text(title)
        assert on_wiki is not None, f"{title} was not saved"
        assert on_wiki.rstrip() == template.read_text(encoding="utf-8").rstrip(), title

    # Some activity on both wikis, then a program page listing both.
    alice, bob = participant("Alice"), participant("Bob")
    alice.edit("Packaged article", "'''Packaged article''' is new.")
    alice.append("Packaged article", "\nMore of it.")
    bob.edit("Other article", "'''Other article''' too.")
    bob.edit("Talk:Other article", "Not mainspace.")
    participant("Alice", wiki=wikis.media).upload("Packaged.png", tiny_png(21), "a file")
    admin.edit(TITLE, program_text(wikis, USERS))

    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    refreshed = cli.command("refresh", TITLE, "--db", db)
    assert refreshed.returncode == 0, output_of(refreshed)

    text = admin.get_text(TITLE)
    assert text is not None
    start, end = window_of(text)
    outcome_rows = read_outcome_rows(text)
    for wiki in wikis.wikis:
        figures = outcome_rows[wiki.host]
        assert {k: figures[k] for k in FIGURES} == as_strings(db_counts(wiki, USERS, start, end))
    # The activity is in the figures (not all zeros on both sides).
    assert outcome_rows[wikis.content.host]["articles_created"] == "2"
    assert outcome_rows[wikis.media.host]["uploads"] == "1"
