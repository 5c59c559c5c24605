"""Wiki faults: the bot and the Join API behind a proxy that fails a random fifth of requests.

The proxy (bot/localwiki/faultproxy.py) sits between the code under test and the real local
wikis and answers with HTTP 500/503, timeouts, dropped connections, malformed JSON, and
MediaWiki's own ``maxlag`` and ``readonly`` errors, some of them after the wiki has already
acted (an edit saved, its answer lost). The organizer's own edits (the harness's client)
pass untouched. Refreshes must end with the figures of the wikis' own tables and with the
page a fault-free run would write; no bot revision may be partial or garbage; joins must all
land, once each; failed requests are retried after a growing wait.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from api_support import SECRET_KEY, wiki_entry
from harness import Farm, LocalWiki, tiny_png
from harness.client import USER_AGENT as HARNESS_AGENT
from harness.dbcount import DB_FIGURES, db_counts
from harness.faultproxy import KINDS, FaultPlan, FaultProxy, Seen, api_error_body
from join_load import ServedApp, join_url, mint_tokens
from reliability import TALLY, scaled
from test_refresh import as_strings, program_text, window_of

pytestmark = [pytest.mark.wiki, pytest.mark.reliability]
pywikibot = pytest.importorskip("pywikibot")

from bot.core.program_page import parse_program_page, read_outcome_rows  # noqa: E402
from bot.jobs.joins import Worker  # noqa: E402
from bot.jobs.refresh import Refresher  # noqa: E402
from bot.store import Store  # noqa: E402
from gadget_api import create_app  # noqa: E402

TITLE = "Project:Faulty program"
JOIN_TITLE = "Content Wiki:Faulty joins"  # as the wiki normalizes it (the store keeps that)
USERS = ["Alice", "Bob", "Carol", "Dave"]
PROSE_BEFORE = "Organizer prose before.\n"
PROSE_AFTER = "\n\nAfter."
#: The figures of a participant's row (mainspace_edits is a total only).
ROW_FIGURES = ("edits", "articles_edited", "articles_created", "bytes_added", "uploads")
#: Pywikibot's retry wait in these tests (its default, 5 s, would make them slow).
RETRY_WAIT = 0.1


# -- the proxy in front of the wikis ---------------------------------------------------------


def wiki_requests_of_the_code(farm: Farm) -> Callable[[Seen], bool]:
    """Faults go to the bot's and the API's requests to the wikis, not the organizer's."""
    hosts = {urlsplit(w.api_url).netloc for w in farm.wikis}
    return lambda seen: urlsplit(seen.url).netloc in hosts and seen.agent != HARNESS_AGENT


@pytest.fixture
def behind_proxy(
    wikis: Farm, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., FaultProxy]]:
    """``behind_proxy(rate=…, seed=…, kinds=…)`` routes all HTTP through a new fault proxy."""
    started: list[FaultProxy] = []
    config = pywikibot.config
    # Short waits so that faults cost little time; the read timeout is below the proxy's hold.
    monkeypatch.setattr(config, "socket_timeout", (5.0, 1.0))
    monkeypatch.setattr(config, "retry_wait", RETRY_WAIT)
    monkeypatch.setattr(config, "retry_max", 1.6)
    monkeypatch.setattr(config, "max_retries", 12)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)

    def start(**plan: Any) -> FaultProxy:
        plan.setdefault("eligible", wiki_requests_of_the_code(wikis))
        plan.setdefault("hold", 1.5)
        proxy = FaultProxy(FaultPlan(**plan))
        proxy.start()
        started.append(proxy)
        for name in ("http_proxy", "HTTP_PROXY"):
            monkeypatch.setenv(name, proxy.url)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()
        for kind, count in proxy.faults().items():
            TALLY.add("faults injected", count, kind=kind)
    # A maxlag answer leaves its Retry-After on the site's throttle; later tests need none.
    for wiki in wikis.wikis:
        pywikibot.Site(wiki.name, wiki.name).throttle.retry_after = 0


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'store.sqlite'}")


def content_site(farm: Farm) -> Any:
    return pywikibot.Site(farm.content.name, farm.content.name)


def activity(farm: Farm, round_: int) -> None:
    """Edits on both wikis by the participants (and one who is not), made directly."""
    clients = {name: farm.content.client(name) for name in ("Alice", "Bob", "Carol", "Eve")}
    clients["Alice"].edit(f"Article {round_} A", f"'''Article {round_} A''' is an article.")
    clients["Alice"].append(f"Article {round_} A", "\nMore text.")
    clients["Bob"].edit(f"Article {round_} B", "B " * (20 + round_))
    clients["Carol"].edit(f"User:Carol/Draft {round_}", "A draft.")
    clients["Eve"].edit(f"Eve {round_}", "Eve is no participant.")
    media = farm.media.client("Bob")
    media.upload(f"Faulty {round_}.png", tiny_png(40 + round_), "an upload")
    for client in clients.values():
        client.close()
    media.close()


def bot_revisions(wiki: LocalWiki, title: str) -> list[str]:
    """The text of every revision of ``title`` saved by the bot, oldest first."""
    return [r["text"] for r in wiki.admin_client().history(title) if r["user"] == wiki.bot_username]


def garbage_in(texts: list[str], organizer_text: str) -> int:
    """How many bot revisions are not a whole program page keeping the organizer's bytes."""
    organizer = parse_program_page(organizer_text)
    head = organizer_text[: organizer_text.index("{{Participants table}}")]
    bad = 0
    for text in texts:
        try:
            page = parse_program_page(text)
        except Exception:
            bad += 1
            continue
        whole = (
            text.startswith(head)
            and text.endswith(PROSE_AFTER.strip())
            and [r.username for r in page.rows] == [r.username for r in organizer.rows]
            and "{{End of participants table}}" in text
        )
        bad += 0 if whole else 1
    return bad


def wrong_figures(farm: Farm, text: str) -> int:
    """Figures on the page that differ from the wikis' own tables (0 when all are right)."""
    start, end = window_of(text)
    outcome_rows = read_outcome_rows(text)
    wrong = 0
    for wiki in farm.wikis:
        expected = as_strings(db_counts(wiki, USERS, start, end))
        found = {k: outcome_rows.get(wiki.host, {}).get(k) for k in DB_FIGURES}
        wrong += sum(1 for k in DB_FIGURES if found[k] != expected[k])
        if found != expected:
            print(f"{wiki.host}: page {found} != database {expected}")
    rows = {row.username: dict(row.stats) for row in parse_program_page(text).rows}
    for user in USERS:
        expected_user = dict.fromkeys(ROW_FIGURES, 0)
        for wiki in farm.wikis:
            counts = db_counts(wiki, [user], start, end)
            for k in ROW_FIGURES:
                expected_user[k] += getattr(counts, k)
        mismatched = [k for k in ROW_FIGURES if rows[user].get(k) != str(expected_user[k])]
        if mismatched:
            print(f"{user}: page {rows[user]} != database {expected_user}")
        wrong += len(mismatched)
    return wrong


def retry_gaps(proxy: FaultProxy) -> list[float]:
    """For each faulted request of the code, seconds until the same request was sent again."""

    def key(seen: Seen) -> tuple[Any, ...]:
        # Pywikibot halves *limit parameters after a malformed answer; the rest is the same.
        return (seen.url.split("?")[0], tuple(p for p in seen.params if not p[0].endswith("limit")))

    gaps = []
    seen = list(proxy.seen)
    for i, first in enumerate(seen):
        if first.fault is None:
            continue
        for later in seen[i + 1 :]:
            if key(later) == key(first):
                gaps.append(later.at - first.at)
                break
    return gaps


# -- the fault answers are MediaWiki's -----------------------------------------------------------


def test_the_injected_api_errors_have_the_shape_of_real_ones(wikis: Farm) -> None:
    """An error the real wiki gives, next to the proxy's: same keys, same docref text."""
    for formatversion in ("1", "2"):
        real = requests.get(
            wikis.content.api_url,
            params={
                "action": "nonesuch",
                "format": "json",
                "formatversion": formatversion,
                "errorformat": "bc",
            },
            timeout=30,
        )
        assert real.headers["MediaWiki-API-Error"] == real.json()["error"]["code"]
        real_error = real.json()["error"]
        made = api_error_body("readonly", "x", wikis.content.api_url, formatversion)
        import json

        fake_error = json.loads(made)["error"]
        doc_key = "docref" if formatversion == "2" else "*"
        assert fake_error[doc_key] == real_error[doc_key]
        assert set(fake_error) == {"code", "info", doc_key}
        assert set(real_error) >= {"code", "info", doc_key}


# -- each kind of fault, on the edit itself --------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_fault_on_the_save_is_survived(
    wikis: Farm, store: Store, behind_proxy: Callable[..., FaultProxy], kind: str
) -> None:
    """The fault hits the bot's edit request (the worst moment); one good revision results."""
    activity(wikis, 0)
    admin = wikis.content.admin_client()
    organizer_text = program_text(wikis, USERS)
    admin.edit(TITLE, organizer_text)
    organizer_text = admin.get_text(TITLE) or ""
    target = wiki_requests_of_the_code(wikis)
    hits = {"n": 0}

    def the_first_edit(seen: Seen) -> bool:
        if target(seen) and seen.param("action") == "edit" and hits["n"] == 0:
            hits["n"] += 1
            return True
        return False

    proxy = behind_proxy(rate=1.0, kinds=(kind,), eligible=the_first_edit)
    result = Refresher(store).refresh(pywikibot.Page(content_site(wikis), TITLE))
    assert proxy.faults() == {kind: 1}
    assert result.saved_revid is not None

    text = admin.get_text(TITLE) or ""
    assert admin.latest_revid(TITLE) == result.saved_revid  # the revision the bot reports
    revisions = bot_revisions(wikis.content, TITLE)
    assert len(revisions) == 1, f"{len(revisions)} bot revisions after one {kind} fault"
    assert garbage_in(revisions, organizer_text) == 0
    assert wrong_figures(wikis, text) == 0


# -- a random fifth of all requests ----------------------------------------------------------


def test_refreshes_under_random_faults_end_like_a_run_without_them(
    wikis: Farm, store: Store, tmp_path: Path, behind_proxy: Callable[..., FaultProxy]
) -> None:
    rounds = scaled(2, 12)
    admin = wikis.content.admin_client()
    organizer_text = program_text(wikis, USERS)
    admin.edit(TITLE, organizer_text)
    organizer_text = admin.get_text(TITLE) or ""
    proxy = behind_proxy(rate=0.2, seed=7)
    site = content_site(wikis)
    garbage = wrong = 0
    for round_ in range(rounds):
        proxy.enabled = False
        activity(wikis, round_)
        proxy.enabled = True
        # Full recount first, incremental ones after: both paths under faults.
        Refresher(store).refresh(pywikibot.Page(site, TITLE), full=round_ == 0)
        text = admin.get_text(TITLE) or ""
        wrong += wrong_figures(wikis, text)
    proxy.enabled = False
    garbage = garbage_in(bot_revisions(wikis.content, TITLE), organizer_text)
    TALLY.add("garbage or partial pages", garbage)
    TALLY.add("wrong figures", wrong)

    # A fault-free full run on an empty store has nothing to change: the page is what it
    # would have written.
    clean = Refresher(Store(f"sqlite:///{tmp_path / 'clean.sqlite'}")).refresh(
        pywikibot.Page(site, TITLE), edit=False
    )
    text = admin.get_text(TITLE) or ""
    assert clean.new_text == text, "the faulted run wrote another page than a clean run"
    assert (garbage, wrong) == (0, 0)
    injected = proxy.injected()
    assert injected >= rounds, f"only {injected} faults in {proxy.requests()} requests"

    gaps = retry_gaps(proxy)
    # Every faulted request was sent again, after at least Pywikibot's first wait.
    assert len(gaps) == injected
    assert min(gaps) >= RETRY_WAIT * 0.9, gaps


def asks_contributions(seen: Seen) -> bool:
    """The request reads usercontribs (alone or with other list modules)."""
    return "usercontribs" in str(seen.param("list") or "").split("|")


def test_a_request_failing_again_and_again_waits_longer_each_time(
    wikis: Farm, store: Store, behind_proxy: Callable[..., FaultProxy]
) -> None:
    """Backoff: five 503s in a row on one request; the waits double (up to retry_max).
    The program lists both wikis, which are asked at once: the faults go to one wiki's
    requests, whose sequence is timed."""
    wikis.content.client("Alice").edit("Backoff", "An edit.")
    wikis.content.admin_client().edit(TITLE, program_text(wikis, USERS))
    target = wiki_requests_of_the_code(wikis)
    content = urlsplit(wikis.content.api_url).netloc
    counter = itertools.count()

    def on_content(seen: Seen) -> bool:
        return urlsplit(seen.url).netloc == content and asks_contributions(seen)

    def five_contribs(seen: Seen) -> bool:
        return target(seen) and on_content(seen) and next(counter) < 5

    proxy = behind_proxy(rate=1.0, kinds=("http-503",), eligible=five_contribs)
    Refresher(store).refresh(pywikibot.Page(content_site(wikis), TITLE))
    contribs = [s for s in proxy.seen if on_content(s)]
    assert [s.fault for s in contribs[:6]] == ["http-503"] * 5 + [None]
    waits = [b.at - a.at for a, b in itertools.pairwise(contribs[:6])]
    expected = [min(RETRY_WAIT * 2**n, 1.6) for n in range(5)]
    for wait, floor in zip(waits, expected, strict=True):
        assert wait >= floor * 0.9, (waits, expected)
    assert waits[3] > waits[0] * 4  # it grows, it is not a fixed pause


# -- joins under faults ----------------------------------------------------------------------------


def join_program(farm: Farm) -> str:
    today = datetime.now(UTC).date()
    return (
        "Organizer prose that must survive.\n{{Program details\n|name=Faulty joins\n"
        f"|start={today - timedelta(days=1)}\n|end={today + timedelta(days=7)}\n"
        f"|wikis={farm.content.host}\n|registration=open\n}}}}\n\n"
        "{{Participants table}}\n"
        "{{Participant table row|username=Alice|joined=2026-11-01}}\n"
        "{{End of participants table}}\n\nOrganizer notes:\n"
    )


def test_joins_under_random_faults_all_land_once_each(
    wikis: Farm, tmp_path: Path, behind_proxy: Callable[..., FaultProxy]
) -> None:
    host = wikis.content.host
    users = [f"Faulty joiner {n:02d}" for n in range(scaled(24, 120))]
    wikis.content.create_users(users)
    admin = wikis.content.admin_client()
    admin.edit(JOIN_TITLE, join_program(wikis))
    config = {
        "secret_key": SECRET_KEY,
        "store_url": f"sqlite:///{tmp_path / 'api.sqlite'}",
        "public_url": "http://127.0.0.1",
        "wikis": [wiki_entry(wikis.content)],
        "wiki_timeout_seconds": 1.0,
        "rate_limits": {"joins_per_user_per_minute": 100},
    }
    served = ServedApp(create_app(config))
    store = Store(config["store_url"])
    tokens = mint_tokens(store, host, users)
    proxy = behind_proxy(rate=0.2, seed=11)
    session = requests.Session()
    session.trust_env = False  # the test's own calls to the API go straight to it
    answers: dict[str, int] = {}
    fivexx = 0
    try:
        worker = Worker(store, worker_id="faulty-worker")
        for number, user in enumerate(users):
            for _attempt in range(10):  # the gadget lets the user click again
                response = session.post(
                    join_url(served.url, host, JOIN_TITLE),
                    headers={"Authorization": f"Bearer {tokens[user]}"},
                    timeout=60,
                )
                if response.status_code < 500:
                    break
                fivexx += 1
                assert response.json()["error"]["code"] == "wiki-unavailable"
            answers[user] = response.status_code
            if number % 6 == 5:  # the worker runs between bursts, under faults too
                worker.run_once()
            if number == len(users) // 2:
                proxy.enabled = False
                admin.append(JOIN_TITLE, "\nAn organizer note written meanwhile.")
                proxy.enabled = True
        for _round in range(20):
            if not store.pending_pages():
                break
            worker.run_once()
    finally:
        proxy.enabled = False
        served.stop()

    text = admin.get_text(JOIN_TITLE) or ""
    listed = [row.username for row in parse_program_page(text).rows]
    recorded = [u for u in users if store.latest_join(host, JOIN_TITLE, u) is not None]
    lost = sum(1 for u in recorded if u not in listed)
    duplicated = sum(listed.count(u) - 1 for u in set(listed))
    overwritten = 0 if "An organizer note written meanwhile." in text else 1
    overwritten += 0 if text.startswith("Organizer prose that must survive.\n") else 1
    TALLY.add("lost joins", lost)
    TALLY.add("duplicated joins", duplicated)
    TALLY.add("overwritten organizer edits", overwritten)
    assert set(answers.values()) == {202}, answers
    assert recorded == users
    assert (lost, duplicated, overwritten) == (0, 0, 0)
    assert proxy.injected() > 0
    # A 503 from the API only ever meant "the wiki could not be read, try again".
    print(
        f"\n{proxy.injected()} faults in {proxy.requests()} requests; "
        f"{fivexx} join answers were 503 and retried"
    )
