"""Concurrent editing: organizers edit program pages while the bot refreshes and writes joins.

Two parts. A systematic one: every bot operation (a refresh, a join written by the worker,
a leave) against every kind of organizer edit (prose above and below, a row added or removed
by hand, details changed, the very row the bot rewrites edited, rows reordered), with the
organizer's save landing before the bot reads, between the bot's read and its save (once,
or on the bot's retry too), or after. And a random one: organizer, joins and the bot in
three threads at once. Afterwards no organizer edit may be missing, no join missing, and no
row listed twice. The organizer saves as the wiki's editor does: against the revision they
read, and on an edit conflict they read again and redo their change.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness import Farm, ParticipantClient
from reliability import TALLY, scaled
from test_refresh import program_text

pytestmark = [pytest.mark.wiki, pytest.mark.reliability]
pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page  # noqa: E402
from bot.jobs.joins import Worker  # noqa: E402
from bot.jobs.refresh import Refresher  # noqa: E402
from bot.store import JOIN, LEAVE, Store  # noqa: E402

TITLE = "Content Wiki:Interleaved program"
LISTED = ["Alice", "Bob", "Dave"]


# -- organizer edits: a change to the text, and how to see it survived -----------------------------


@dataclass(frozen=True)
class OrganizerEdit:
    name: str
    change: Callable[[str], str]
    kept: Callable[[str], bool]


def rows_of(text: str) -> list[str]:
    return [row.username for row in parse_program_page(text).rows]


def _replace_once(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        if old not in text:
            raise AssertionError(f"{old!r} is not on the page")
        return text.replace(old, new, 1)

    return change


def _remove_row(user: str) -> Callable[[str], str]:
    return lambda text: re.sub(
        r"\{\{Participant table row\|username=" + user + r"\|[^\n]*\}\}\n", "", text, count=1
    )


def _move_row_first(user: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        match = re.search(r"\{\{Participant table row\|username=" + user + r"\|[^\n]*\}\}\n", text)
        assert match is not None, f"no row of {user}"
        text = text[: match.start()] + text[match.end() :]
        at = text.index("{{Participants table}}\n") + len("{{Participants table}}\n")
        return text[:at] + match.group(0) + text[at:]

    return change


ORGANIZER_EDITS = [
    OrganizerEdit(
        "prose above",
        _replace_once("Organizer prose before.", "Organizer prose before, revised."),
        lambda t: t.count("Organizer prose before, revised.") == 1,
    ),
    OrganizerEdit(
        "prose below",
        lambda t: t + "\nAn organizer note.",
        lambda t: t.count("An organizer note.") == 1,
    ),
    OrganizerEdit(
        "row added by hand",
        _replace_once(
            "{{End of participants table}}",
            "{{Participant table row|username=Frank|joined=2026-11-02}}\n"
            "{{End of participants table}}",
        ),
        lambda t: rows_of(t).count("Frank") == 1,
    ),
    OrganizerEdit("row removed by hand", _remove_row("Bob"), lambda t: "Bob" not in rows_of(t)),
    OrganizerEdit(
        "details changed",
        _replace_once("|name=Test program", "|name=Renamed program"),
        lambda t: parse_program_page(t).details.name == "Renamed program",
    ),
    OrganizerEdit(
        "the bot's own row edited",
        _replace_once("username=Alice|joined=2026-11-01", "username=Alice|joined=2026-11-03"),
        lambda t: "username=Alice|joined=2026-11-03" in t,
    ),
    OrganizerEdit(
        "rows reordered",
        _move_row_first("Dave"),
        lambda t: rows_of(t)[0] == "Dave",
    ),
]
POINTS = ("before the bot reads", "between read and save", "on the retry too", "after the save")


def organizer_saves(client: ParticipantClient, change: Callable[[str], str]) -> int:
    """Read, change, save against the revision read; on a conflict read again and redo."""
    return client.edit_as_read(TITLE, change, "organizer")


# -- the bot's side ---------------------------------------------------------------------------


def start_page(
    wikis: Farm, store: Store, refresh: Callable[[], object], work: Callable[[], object]
) -> None:
    """Alice, Bob and Dave listed by hand; Eve joined through the flow; figures written."""
    wikis.content.client("Alice").edit("Interleaved article", "Alice wrote this.")
    wikis.content.client("Bob").edit("Interleaved other", "Bob wrote this.")
    wikis.content.admin_client().edit(TITLE, program_text(wikis, LISTED, wikis=wikis.content.host))
    store.record_join(wikis.content.host, TITLE, "Eve", JOIN, datetime.now(UTC))
    work()
    refresh()


class SaveHook:
    """Runs the organizer's save inside the bot's Page.save (up to ``times`` saves), first."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, times: int, act: Callable[[], Any]) -> None:
        self.monkeypatch = monkeypatch
        self.left = times
        self.act = act
        self.original = pywikibot.page.BasePage.save

    def __enter__(self) -> SaveHook:
        original = self.original

        def save(page: Any, *args: Any, **kwargs: Any) -> Any:
            if self.left > 0 and page.title() == TITLE:
                self.left -= 1
                self.act()
            return original(page, *args, **kwargs)

        self.monkeypatch.setattr(pywikibot.page.BasePage, "save", save)
        return self

    def __exit__(self, *exc: object) -> None:
        self.monkeypatch.setattr(pywikibot.page.BasePage, "save", self.original)


BOT_OPERATIONS = ("refresh", "join", "leave")


def interleave(
    wikis: Farm,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    edit: OrganizerEdit,
    point: str,
) -> list[str]:
    """One interleaving on a freshly reset wiki; the problems found (none is the goal)."""
    organizer = wikis.content.admin_client()
    host = wikis.content.host
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    worker = Worker(store, worker_id="interleaving")

    def refresh() -> object:
        return Refresher(store).refresh(pywikibot.Page(site, TITLE))

    start_page(wikis, store, refresh, worker.run_once)
    # The bot's edit: a refresh with new figures, Carol's join, or Eve's leave.
    wikis.content.client("Alice").edit("Interleaved article", "Alice wrote more.")
    if operation == "join":
        store.record_join(host, TITLE, "Carol", JOIN, datetime.now(UTC))
    elif operation == "leave":
        store.record_join(host, TITLE, "Eve", LEAVE, datetime.now(UTC))
    run_bot = refresh if operation == "refresh" else worker.run_once
    organizer_changes = [edit.change, lambda t: t + "\nA second organizer note."]
    made = []

    def organizer_edit() -> None:
        change = organizer_changes[len(made)]
        made.append(organizer_saves(organizer, change))

    if point == "before the bot reads":
        organizer_edit()
        run_bot()
    elif point == "after the save":
        run_bot()
        organizer_edit()
    else:
        times = 1 if point == "between read and save" else 2
        with SaveHook(monkeypatch, times, organizer_edit):
            run_bot()
    # A last clean pass of both, as the scheduler would make.
    worker.run_once()
    refresh()

    text = organizer.get_text(TITLE) or ""
    listed = rows_of(text)
    problems = []
    if not edit.kept(text):
        problems.append("organizer edit lost")
    if len(made) == 2 and text.count("A second organizer note.") != 1:
        problems.append("organizer edit lost (the second one)")
    if len(listed) != len(set(listed)):
        problems.append(f"a row listed twice: {listed}")
    if operation == "join" and listed.count("Carol") != 1:
        problems.append("join lost")
    if operation == "leave" and "Eve" in listed:
        problems.append("leave not applied")
    for name in LISTED:
        removed_by_organizer = edit.name == "row removed by hand" and name == "Bob"
        if not removed_by_organizer and name not in listed:
            problems.append(f"{name}'s row dropped")
    return problems


@pytest.mark.parametrize("operation", BOT_OPERATIONS)
def test_every_organizer_edit_at_every_point_of_a_bot_edit_survives(
    wikis: Farm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    failures: list[str] = []
    runs = 0
    for edit, point in itertools.product(ORGANIZER_EDITS, POINTS):
        wikis.reset()
        store = Store(f"sqlite:///{tmp_path / f'run{runs}.sqlite'}")
        problems = interleave(wikis, store, monkeypatch, operation, edit, point)
        runs += 1
        if problems:
            failures.append(f"{edit.name} / {point}: {', '.join(problems)}")
        TALLY.add(
            "overwritten organizer edits", sum(p.startswith("organizer edit") for p in problems)
        )
        TALLY.add("lost joins", sum(p in ("join lost", "leave not applied") for p in problems))
        TALLY.add("duplicated joins", sum(p.startswith("a row listed twice") for p in problems))
        TALLY.add("interleavings run", 1, kind=f"systematic {operation}")
    assert not failures, "\n".join(failures)
    assert runs == len(ORGANIZER_EDITS) * len(POINTS)


def test_organizers_joins_and_the_bot_all_at_once(wikis: Farm, tmp_path: Path) -> None:
    """Three threads for a while: an organizer, people joining, the bot; then the checks."""
    seconds = scaled(12, 120)
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    worker = Worker(store, worker_id="stress")
    start_page(
        wikis, store, lambda: Refresher(store).refresh(pywikibot.Page(site, TITLE)), worker.run_once
    )
    host = wikis.content.host
    stop = threading.Event()
    errors: list[BaseException] = []
    chance = random.Random(2026)
    organizer_saves_made = [0]
    expected: dict[str, Any] = {"notes": [], "hand": set(), "removed": set(), "name": None}
    joined: list[str] = []
    overlapped = [0]
    bot_runs = [0]

    def organizer() -> None:
        client = wikis.content.admin_client()
        number = itertools.count()
        while not stop.is_set():
            n = next(number)
            choice = chance.choice(["note", "row", "remove", "rename"])
            if choice == "note":
                note = f"Organizer note {n}."
                organizer_saves(client, lambda t, note=note: t + "\n" + note)
                expected["notes"].append(note)
            elif choice == "row":
                user = f"Hand {n}"
                organizer_saves(
                    client,
                    _replace_once(
                        "{{End of participants table}}",
                        f"{{{{Participant table row|username={user}|joined=2026-11-05}}}}\n"
                        "{{End of participants table}}",
                    ),
                )
                expected["hand"].add(user)
            elif choice == "remove" and expected["hand"] - expected["removed"]:
                user = sorted(expected["hand"] - expected["removed"])[0]
                organizer_saves(client, _remove_row(re.escape(user)))
                expected["removed"].add(user)
            else:
                name = f"Program name {n}"
                organizer_saves(
                    client,
                    lambda t, name=name: re.sub(r"\|name=[^\n]*", f"|name={name}", t, count=1),
                )
                expected["name"] = name
            organizer_saves_made[0] += 1
            time.sleep(chance.uniform(0.0, 0.3))

    def joiner() -> None:
        number = itertools.count()
        while not stop.is_set():
            user = f"Joiner {next(number)}"
            store.record_join(host, TITLE, user, JOIN, datetime.now(UTC))
            joined.append(user)
            time.sleep(chance.uniform(0.05, 0.4))

    def the_bot() -> None:
        while not stop.is_set():
            before = organizer_saves_made[0]
            if bot_runs[0] % 3 == 2:
                Refresher(store).refresh(pywikibot.Page(site, TITLE))
            else:
                worker.run_once()
            bot_runs[0] += 1
            overlapped[0] += organizer_saves_made[0] != before

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as error:  # reported by the test, not lost in a thread
                errors.append(error)
                stop.set()

        return run

    threads = [threading.Thread(target=guarded(f)) for f in (organizer, joiner, the_bot)]

    def busy_enough() -> bool:
        return overlapped[0] > 0 and organizer_saves_made[0] > 5 and len(joined) > 5

    for thread in threads:
        thread.start()
    time.sleep(seconds)
    # On a slow machine a save can take seconds: the threads go on until the checks below
    # have something to check, not for a fixed time only (bounded, so a stall still fails).
    deadline = time.monotonic() + 10 * seconds
    while not busy_enough() and not errors and time.monotonic() < deadline:
        time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    worker.run_once()
    Refresher(store).refresh(pywikibot.Page(site, TITLE))

    text = wikis.content.admin_client().get_text(TITLE) or ""
    listed = rows_of(text)
    lost_notes = sum(1 for note in expected["notes"] if text.count(note) != 1)
    hand_kept = expected["hand"] - expected["removed"]
    lost_hand = sum(1 for user in hand_kept if listed.count(user) != 1)
    resurrected = sum(1 for user in expected["removed"] if user in listed)
    renamed_lost = expected["name"] is not None and (
        parse_program_page(text).details.name != expected["name"]
    )
    overwritten = lost_notes + lost_hand + resurrected + int(renamed_lost)
    lost_joins = sum(1 for user in joined if user not in listed)
    duplicated = len(listed) - len(set(listed))
    TALLY.add("overwritten organizer edits", overwritten)
    TALLY.add("lost joins", lost_joins)
    TALLY.add("duplicated joins", duplicated)
    TALLY.add("interleavings run", overlapped[0], kind="concurrent threads")
    print(
        f"\n{organizer_saves_made[0]} organizer saves, {len(joined)} joins, {bot_runs[0]} bot "
        f"runs ({overlapped[0]} overlapping an organizer save)"
    )
    assert (overwritten, lost_joins, duplicated) == (0, 0, 0), (expected, joined, listed)
    assert all(name in listed for name in LISTED)
    assert busy_enough(), (overlapped[0], organizer_saves_made[0], len(joined))
