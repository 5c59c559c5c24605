"""programs-bot: keeps the outcome figures of program pages up to date.

Usage:
    programs-bot [global options] refresh PAGE [PAGE ...]
    programs-bot [global options] refresh --all
    programs-bot [global options] deploy [--lang LANG] [--api-url URL] [--stop-page TITLE]
    programs-bot [global options] worker [--once] [--interval SECONDS] [--db URL]
                                         [--stop-page TITLE]
    programs-bot [global options] run [--interval SECONDS] [--edit-interval MINUTES]
                                      [--db URL] [--stop-page TITLE]
    programs-bot [global options] status [--db URL]
    programs-bot [global options] migrate [--db URL]
    programs-bot [global options] report PAGE [--format csv|json|grant] [--out DIR]
                                         [--db URL]
    programs-bot [global options] doctor [--db URL] [--stop-page TITLE]

refresh   reads each program page, counts its participants' contributions on the
          wikis it lists and writes the figures back as a bot edit (none when nothing
          changed). --all refreshes every page that uses {{Program details}}, then
          every campaign page ({{Campaign details}}), whose table of programs counts
          each participant and article once. A campaign page may also be named.
deploy    puts the project's templates on the wiki in its language (--lang to choose)
          and the Join gadget with its Gadgets-definition line: through the Join API
          with its URL (--api-url, or api_url in programs-bot.toml) where the wiki has
          Extension:OAuth, else as the logged-in reader's own edit. A second run edits
          nothing.
worker    writes the joins and leaves the Join API recorded onto the program pages
          and runs the statistics updates people asked for; loops until SIGTERM
          (--once: one round). Several workers may run at once.
run       the scheduler: discovers program pages, writes joins, runs requested
          updates at once, spots activity in recent changes and refreshes each
          program on its cadence (running: every 5 min; page edits at most every
          --edit-interval minutes, default 10); stops cleanly on SIGTERM. It finds
          pages on the home wiki and on every wiki of programs-bot.toml. Several
          may run against one store.
status    per program: phase, last refresh, its duration and requests, next due,
          pending edit, last problem.
migrate   creates the SQL store's tables, or brings them to this release's schema, and
          says what it applied. Every command and the Join API do the same when they
          open the store, one process at a time under the database's lock; run it
          before the Join API's first start and after installing a new release.
report    a program's (or a campaign's) full report: a summary (per wiki, totals, new and retained
          editors, file usage, pageviews), its participants (per-wiki columns and
          retention), its articles (pageviews, deleted flag) and its uploads; as four
          CSV files in --out (default: the current directory) or one JSON document.
          --format grant: the figures a Wikimedia grant report asks for (participants,
          editors, new editors, content created or improved per project) as a
          wikitable, on standard output or in --out.
doctor    checks, for the home wiki and every wiki of programs-bot.toml, what an
          administrator would otherwise find by trial: the wiki answers, the bot logs
          in with the bot flag and high-volume access, ParserFunctions and Gadgets are
          installed, the templates and the gadget are deployed and current, the stop
          page lets the bot edit; the store is reachable and migrated; with
          PROGRAMS_API_CONFIG, each OAuth consumer of the Join API is accepted. Each line
          says OK or what to do; exit status 1 when anything needs fixing.

Options of refresh:
    --all              every page transcluding {{Program details}}
    --stop-page TITLE  the emergency stop page (default: User:<bot>/Stop); the bot
                       edits only while it is missing, empty or says "run"
    --db URL           the SQL store (default: $PROGRAMS_BOT_DB or a SQLite file in
                       the Pywikibot config directory)
    --full             recount everything instead of fetching only what changed since
                       the last refresh (which is the default once a page was counted)

Pywikibot's global options apply (-simulate shows the diffs and saves nothing,
-family:, -lang:, -user:, -dir:, -help, ...). The exit status is 0 when every page
was refreshed (notices included), 1 when any page failed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pywikibot

from bot.core.cadence import Cadence
from bot.core.dates import format_moment
from bot.core.errors import ProgramsBotError
from bot.core.exports import TABLES, Row, columns_of, tables_as_json, to_csv
from bot.core.grant_report import grant_report, grant_wikitext
from bot.core.messages import Messages
from bot.core.render import notice_plain
from bot.core.settings import BotConfig
from bot.core.titles import file_slug
from bot.jobs.batch import pages_to_refresh, refresh_pages
from bot.jobs.deploy import deploy, gadget_plan, planned_pages, wiki_language
from bot.jobs.doctor import api_config_path, diagnose
from bot.jobs.environment import load_bot_config, open_store, pace_garbage_collector, store_url
from bot.jobs.joins import Worker
from bot.jobs.refresh import Refresher
from bot.jobs.reports import report_tables
from bot.jobs.scheduler import Scheduler
from bot.jobs.session import KeptSession, kept_session
from bot.store import Store
from bot.wiki.changes import PollingFeed
from bot.wiki.edit import show_diff
from bot.wiki.sites import home_site, host_of
from bot.wiki.stream import CompositeFeed, StreamFeed

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="programs-bot", add_help=False)
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser("refresh", add_help=False)
    refresh.add_argument("pages", nargs="*")
    refresh.add_argument("--all", action="store_true")
    refresh.add_argument("--stop-page")
    refresh.add_argument("--db")
    refresh.add_argument("--full", action="store_true")
    deploy = commands.add_parser("deploy", add_help=False)
    deploy.add_argument("--lang")
    deploy.add_argument("--api-url")
    deploy.add_argument("--stop-page")
    worker = commands.add_parser("worker", add_help=False)
    worker.add_argument("--once", action="store_true")
    worker.add_argument("--interval", type=float, default=2.0)
    worker.add_argument("--stop-page")
    worker.add_argument("--db")
    run = commands.add_parser("run", add_help=False)
    run.add_argument("--interval", type=float, default=30.0)
    run.add_argument("--edit-interval", type=float, default=10.0)
    run.add_argument("--stop-page")
    run.add_argument("--db")
    status = commands.add_parser("status", add_help=False)
    status.add_argument("--db")
    migrate = commands.add_parser("migrate", add_help=False)
    migrate.add_argument("--db")
    report = commands.add_parser("report", add_help=False)
    report.add_argument("page")
    report.add_argument("--format", choices=("csv", "json", "grant"), default="csv")
    report.add_argument("--out")
    report.add_argument("--db")
    doctor = commands.add_parser("doctor", add_help=False)
    doctor.add_argument("--db")
    doctor.add_argument("--stop-page")
    return parser


def main(*args: str) -> int:
    """Entry point of the ``programs-bot`` command."""
    pace_garbage_collector()
    argv = list(args) or sys.argv[1:]
    if {"-help", "-h", "--help"} & set(argv):
        # "deploy --help" is about deploy: the command named, if one is, else everything.
        named = [arg for arg in argv if arg in _COMMANDS]
        pywikibot.info(help_text(named[0] if named else None))
        return EXIT_OK
    local_args = pywikibot.handle_args(list(argv))
    if not local_args:
        pywikibot.error("no command given; run programs-bot -help")
        return EXIT_USAGE
    try:
        options = _parser().parse_args(local_args)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    try:
        return int(_COMMANDS[options.command](options))
    except ProgramsBotError as error:
        pywikibot.error(str(error))
        return EXIT_FAILED


def help_text(command: str | None = None) -> str:
    """The -help text: all of it, or one command's usage, description and options."""
    doc = __doc__ or ""
    if command is None:
        return doc
    usage: list[str] = []
    described: list[str] = []
    options: list[str] = []
    common: list[str] = []
    section, current = "", ""
    for line in doc.splitlines():
        if not line.strip():
            section = "common" if section == "options" else ""
            continue
        if line == "Usage:":
            section = "usage"
        elif line.startswith("Options of "):
            section, current = "options", line.removeprefix("Options of ").rstrip(":")
        elif section == "usage" and line.strip().startswith("programs-bot "):
            current = line.split()[3] if "[global options]" in line else line.split()[1]
        elif re.match(r"^\w+ {2,}", line):
            section, current = "described", line.split()[0]
        elif line.startswith("Pywikibot's global options"):
            section = "common"
        found = {"usage": usage, "described": described, "options": options}.get(section)
        if section == "common":
            common.append(line)
        elif found is not None and current == command and line != "Usage:":
            found.append(line)
    parts = [["Usage:", *usage], described, options, common]
    return "\n\n".join("\n".join(part) for part in parts if part)


def _simulate() -> bool:
    return bool(pywikibot.config.simulate)


def _refresh(options: argparse.Namespace) -> int:
    if bool(options.pages) == bool(options.all):
        pywikibot.error("give either program page titles or --all")
        return EXIT_USAGE
    store = open_store(options.db)
    with kept_session(store):
        return _refresh_pages(store, options)


def _refresh_pages(store: Store, options: argparse.Namespace) -> int:
    site = home_site()
    messages = Messages()
    refresher = Refresher(
        store,
        messages=messages,
        stop_page=options.stop_page,
        simulate=_simulate(),
        config=load_bot_config(),
    )
    # An incremental refresh asks the wikis what changed while the page is parsed.
    ahead = None if options.full else refresher.read_ahead
    programs, campaigns = pages_to_refresh(site, options.pages, ahead)
    total = len(programs) + len(campaigns)
    failed = 0
    for number, run in enumerate(
        refresh_pages(refresher, programs, campaigns, full=options.full), 1
    ):
        prefix = f"[{number}/{total}] {run.title}"
        if run.error is not None or run.result is None:
            failed += 1
            pywikibot.error(f"{prefix}: {run.error}")
            continue
        result = run.result
        for notice in result.notices:
            pywikibot.warning(f"{prefix}: {notice_plain(notice, messages)}")
        if not result.changed:
            state = "unchanged, no edit"
        elif result.simulated:
            state = "changed (simulated, not saved)"
        else:
            state = f"saved as revision {result.saved_revid}"
        pywikibot.info(f"{prefix}: {state}; {run.requests} API requests, {run.seconds:.1f} s")
        if result.changed:  # after its page's status line, never before the next one's
            show_diff(result.old_text, result.new_text)
    if failed:
        pywikibot.error(f"{failed} of {total} page(s) failed")
    return EXIT_FAILED if failed else EXIT_OK


def _report(options: argparse.Namespace) -> int:
    store = open_store(options.db)
    with kept_session(store):
        site = home_site()
        title, tables = report_tables(site, options.page, store, load_bot_config())
    if options.format == "json":
        print(tables_as_json(tables, wiki=host_of(site), title=title))
        return EXIT_OK
    if options.format == "grant":
        text = grant_wikitext(grant_report(tables), title, Messages())
        if options.out is None:
            print(text, end="")
            return EXIT_OK
        out = Path(options.out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{file_slug(title)}-grant.wiki"
        path.write_text(text, "utf-8")
        pywikibot.info(f"wrote {path}")
        return EXIT_OK
    _write_csv(tables, Path(options.out or "."), title)
    return EXIT_OK


def _write_csv(tables: dict[str, list[Row]], out: Path, title: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        path = out / f"{file_slug(title)}-{table}.csv"
        path.write_text(to_csv(tables[table], columns_of(tables[table], table)), "utf-8")
        pywikibot.info(f"wrote {path} ({len(tables[table])} rows)")


def _deploy(options: argparse.Namespace) -> int:
    site = home_site()
    settings = load_bot_config().wiki(host_of(site))
    lang = wiki_language(site, options.lang or settings.language)
    plan = gadget_plan(site, options.api_url or settings.api_url)
    pages = len(planned_pages(lang, plan.api_url, gadget=plan.install))
    throttle = float(pywikibot.config.put_throttle)
    if throttle and not _simulate():
        # Pywikibot waits put_throttle seconds between saves: on a fresh wiki, minutes.
        pywikibot.info(
            f"checking {pages} pages; Pywikibot waits put_throttle = {throttle:g} s between "
            f"saves (user-config.py), so saving all of them takes up to "
            f"{pages * throttle / 60:.0f} min"
        )
    changed = deploy(
        site,
        lang=lang,
        api_url=plan.api_url,
        gadget=plan.install,
        stop_page=options.stop_page,
        simulate=_simulate(),
    )
    verb = "would save" if _simulate() else "saved"
    for title in changed:
        pywikibot.info(f"{verb} {title}")
    pywikibot.info(f"{len(changed)} page(s) changed on {site}: templates in {lang!r}; {plan.note}")
    return EXIT_OK


def _worker(options: argparse.Namespace) -> int:
    store = open_store(options.db)
    with kept_session(store):
        return _work(Worker(store, stop_page=options.stop_page, config=load_bot_config()), options)


def _work(worker: Worker, options: argparse.Namespace) -> int:
    if options.once:
        result = worker.run_once()
        pywikibot.info(
            f"joins applied {result.applied}, failed {result.failed}, waiting "
            f"{result.waiting}; pages refreshed {result.refreshed}"
        )
        return EXIT_FAILED if result.failed else EXIT_OK
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    pywikibot.info(f"worker {worker.worker_id} running; SIGTERM stops it")
    try:
        worker.run(options.interval)
    except KeyboardInterrupt:
        worker.stopping.set()
    return EXIT_OK


def _run(options: argparse.Namespace) -> int:
    # What the scheduler does, line by line, for the people who run and watch it.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Their own steps (each migration's context, each job added) are not the operator's.
    for chatty in ("alembic", "apscheduler.scheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    config = load_bot_config()
    store = open_store(options.db)
    with kept_session(store) as session:
        _schedule(store, session, config, options)
    pywikibot.info("scheduler stopped")
    return EXIT_OK


def _schedule(
    store: Store, session: KeptSession, config: BotConfig, options: argparse.Namespace
) -> None:
    site = home_site()
    # With [stream] in programs-bot.toml, one EventStreams connection for the wikis it
    # covers, polling for the others.
    settings = config.stream
    stream = StreamFeed(settings.url, settings.covers, site=site) if settings else None
    scheduler = Scheduler(
        store,
        site,
        config=config,
        stop_page=options.stop_page,
        cadence=Cadence(edit_interval=timedelta(minutes=options.edit_interval)),
        feed=CompositeFeed(stream, PollingFeed()) if stream is not None else None,
        session=session,
    )
    pywikibot.info(f"scheduler {scheduler.worker_id} running; SIGTERM stops it")
    if settings is not None and stream is not None:
        stream.start()
        pywikibot.info(f"recent changes of {', '.join(settings.hosts)} from {stream.url}")
    try:
        scheduler.run_forever(options.interval)
    finally:
        if stream is not None:
            stream.close()


def _status(options: argparse.Namespace) -> int:
    entries = open_store(options.db).schedule_entries()
    if not entries:
        pywikibot.info("no program known yet (programs-bot run discovers them)")
    for entry in entries:
        last = format_moment(entry.last_refreshed) if entry.last_refreshed else "never"
        took = f"{entry.last_duration_ms} ms" if entry.last_duration_ms is not None else "-"
        pywikibot.info(
            f"{entry.wiki} {entry.title}: {entry.phase}; last refreshed {last} ({took}, "
            f"{entry.last_requests if entry.last_requests is not None else '-'} requests); "
            f"next {format_moment(entry.next_due)}"
            + ("; page edit pending" if entry.edit_pending else "")
            + (f"; problem: {entry.last_error}" if entry.last_error else "")
        )
    return EXIT_OK


def _migrate(options: argparse.Namespace) -> int:
    applied = open_store(options.db, migrate=False).migrate()
    if applied:
        pywikibot.info(f"the store's schema is up to date: applied {', '.join(applied)}")
    else:
        pywikibot.info("the store's schema is up to date: nothing to apply")
    return EXIT_OK


def _doctor(options: argparse.Namespace) -> int:
    findings = diagnose(
        pywikibot.Site(),
        load_bot_config(),
        store_url=store_url(options.db),
        stop_page=options.stop_page,
        api_config=api_config_path(),
    )
    for finding in findings:
        pywikibot.info(finding.line())
    return EXIT_OK if all(finding.ok for finding in findings) else EXIT_FAILED


_COMMANDS = {
    "refresh": _refresh,
    "deploy": _deploy,
    "worker": _worker,
    "run": _run,
    "status": _status,
    "migrate": _migrate,
    "report": _report,
    "doctor": _doctor,
}


if __name__ == "__main__":
    sys.exit(main())
