"""The sandbox demo (``bash .ci/sandbox``): two local wikis, a program with real activity,
the bot run on it, and its figures beside an independent count from the wikis' databases.

Everything runs on loopback with the test harness; the wikis keep running after the command
so the page can be looked at, until ``bash .ci/sandbox --stop``.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from harness import PROJECT_ROOT, Farm, LocalWiki, start_farm, tiny_png, write_pywikibot_config
from harness.dbcount import DB_FIGURES, db_counts
from harness.wiki import STATE_FILE

DEFAULT_DIR = PROJECT_ROOT / ".sandbox"
PROGRAM_TITLE = "Project:Demo edit-a-thon"
LISTED = ("Alice", "Bob", "Carol", "Dave", "Zed")


def _program_text(farm: Farm, start: str, end: str) -> str:
    rows = "\n".join(
        f"{{{{Participant table row|username={name}|joined={start}}}}}" for name in LISTED
    )
    return f"""A demo edit-a-thon on women in computing, made by the sandbox command.

{{{{Program details
|name=Women in computing edit-a-thon (demo)
|organizer=Admin
|facilitators=Eve
|start={start}
|end={end}
|wikis={farm.content.host}, {farm.media.host}
|registration=open
}}}}

== Participants ==
{{{{Participants table}}}}
{rows}
{{{{End of participants table}}}}

Organizers' notes stay as they are: the bot only fills in the figures.
"""


def _make_activity(farm: Farm) -> None:
    """Edits and uploads by participants (and one non-participant), as real users make them."""
    content, media = farm.content, farm.media
    alice, bob, carol, eve = (content.client(n) for n in ("Alice", "Bob", "Carol", "Eve"))
    alice.edit("Ada Lovelace", "'''Ada Lovelace''' was a mathematician.", "new article")
    alice.edit("Grace Hopper", "'''Grace Hopper''' was a computer scientist. " * 5, "new")
    alice.append("Ada Lovelace", "\nShe wrote the first published algorithm.", "expand")
    alice.edit("Talk:Ada Lovelace", "Sources to check.", "talk")
    bob.append("Ada Lovelace", "\n== Legacy ==\nAda, a programming language, is named after her.")
    bob.edit("Hopper", "#REDIRECT [[Grace Hopper]]", "redirect")
    bob.edit("Grace Hopper", "'''Grace Hopper''' was a computer scientist.", "trim repetition")
    carol.edit("User:Carol/Katherine Johnson", "'''Katherine Johnson''' was a mathematician.")
    carol.move("User:Carol/Katherine Johnson", "Katherine Johnson")
    eve.append("Ada Lovelace", "\nAn edit by someone who did not join.")
    media.client("Alice").upload("Demo-1.png", tiny_png(1), "A demo file", "upload")
    media.client("Alice").upload("Demo-2.png", tiny_png(2), "Another demo file", "upload")
    media.client("Bob").upload("Demo-3.png", tiny_png(3), "Bob's file", "upload")
    media.client("Bob").upload("Demo-1.png", tiny_png(4), "", "overwrite: not a new file")


def _bot(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYWIKIBOT_DIR": str(config_dir)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        text=True,
        capture_output=True,
        check=False,
    )


def _stop(directory: Path) -> None:
    for name in ("content", "media"):
        root = directory / "wikis" / name
        # A sandbox whose creation was interrupted may hold a wiki folder with no server.
        if (root / STATE_FILE).exists():
            LocalWiki.load(root).stop()


def run_sandbox(directory: str | None, *, stop: bool = False) -> int:
    """Run the demo and print the page's URL, the bot's diff and an independent count."""
    root = Path(directory or DEFAULT_DIR).resolve()
    if root.exists():
        _stop(root)
        if stop:
            print(f"Sandbox wikis under {root} stopped.")
            return 0
        shutil.rmtree(root)
    elif stop:
        print(f"No sandbox under {root}.")
        return 0
    print(f"Creating two MediaWiki wikis under {root} ...", flush=True)
    farm = start_farm(root / "wikis")
    config_dir = write_pywikibot_config(root / "pywikibot", farm.wikis, farm.content)
    today = datetime.now(UTC).date()
    start, end = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()

    steps = [("deploy",), ("refresh", PROGRAM_TITLE)]
    deployed = _bot(config_dir, *steps[0])
    if deployed.returncode:
        print(deployed.stdout + deployed.stderr)
        return 1
    print("Participants are editing and uploading ...", flush=True)
    _make_activity(farm)
    admin = farm.content.admin_client()
    admin.edit(PROGRAM_TITLE, _program_text(farm, start, end), "A demo program")
    before = admin.get_text(PROGRAM_TITLE) or ""

    print(f"Running: programs-bot refresh {PROGRAM_TITLE!r}", flush=True)
    refreshed = _bot(config_dir, *steps[1])
    # Pywikibot's own diff goes to stderr too; the unified diff below is easier to read.
    for line in (refreshed.stdout + refreshed.stderr).splitlines():
        if line.startswith(("[", "WARNING: [", "ERROR", "CRITICAL")):
            print(line)
    after = admin.get_text(PROGRAM_TITLE) or ""
    print("\nWhat the bot changed:")
    print(
        "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                "before",
                "after",
            )
        )
    )
    _print_check(farm, after, datetime.fromisoformat(start), datetime.fromisoformat(end))
    url = f"{farm.content.index_url}?title={quote(PROGRAM_TITLE.replace(' ', '_'))}"
    print(f"\nThe program page: {url}")
    print(f"Run the bot yourself: PYWIKIBOT_DIR={config_dir} .venv/bin/programs-bot refresh --all")
    where = "" if directory is None else f" --dir {root}"
    print(f"Stop the wikis with: bash .ci/sandbox{where} --stop")
    return refreshed.returncode


def _print_check(farm: Farm, text: str, start: datetime, end: datetime) -> None:
    """The bot's figures beside an independent count from each wiki's own database."""
    from bot.core.program_page import read_outcome_rows

    rows = read_outcome_rows(text)
    end = end.replace(hour=23, minute=59, second=59)
    listed = [name for name in LISTED if name != "Zed"]
    print("Check against the wikis' own databases (revision, page, logging tables):")
    print(f"{'wiki':24} {'figure':18} {'bot':>6} {'database':>9}")
    mismatches = 0
    for wiki in farm.wikis:
        counts = db_counts(wiki, listed, start, end)
        for field in DB_FIGURES:
            bot_value = rows.get(wiki.host, {}).get(field, "?")
            db_value = str(getattr(counts, field))
            mismatches += bot_value != db_value
            mark = "" if bot_value == db_value else "  <-- differs"
            print(f"{wiki.host:24} {field:18} {bot_value:>6} {db_value:>9}{mark}")
    print("All figures match." if not mismatches else f"{mismatches} figure(s) differ.")


def main() -> int:
    parser = argparse.ArgumentParser(prog="bash .ci/sandbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", help="where the sandbox lives (default: .sandbox/)")
    parser.add_argument("--stop", action="store_true", help="stop the sandbox's wikis")
    options = parser.parse_args()
    return run_sandbox(options.dir, stop=options.stop)


if __name__ == "__main__":
    sys.exit(main())
