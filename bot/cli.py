"""programs-bot: keeps the outcome figures of program pages up to date.

Usage:
    programs-bot [global options] refresh PAGE [PAGE ...]
    programs-bot [global options] refresh --all
    programs-bot [global options] deploy [--lang LANG] [--api-url URL]
    programs-bot [global options] worker [--once] [--interval SECONDS]
    programs-bot [global options] run [--interval SECONDS] [--edit-interval MINUTES]
                                      [--db URL] [--stop-page TITLE]
    programs-bot [global options] status [--db URL]
    programs-bot [global options] report PAGE [--format csv|json] [--out DIR] [--db URL]

refresh   reads each program page, counts its participants' contributions on the
          wikis it lists and writes the figures back as a bot edit (none when nothing
          changed). --all refreshes every page that uses {{Program details}}, then
          every campaign page ({{Campaign details}}), whose table of programs counts
          each participant and article once. A campaign page may also be named.
deploy    puts the project's templates on the wiki in its language (--lang to choose)
          and, with the Join API's URL (--api-url, or api_url in programs-bot.toml),
          the Join gadget and its Gadgets-definition line. A second run edits nothing.
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
report    a program's (or a campaign's) full report: a summary (per wiki, totals, new and retained
          editors, file usage, pageviews), its participants (per-wiki columns and
          retention), its articles (pageviews, deleted flag) and its uploads; as four
          CSV files in --out (default: the current directory) or one JSON document.

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
import sys
import time
from collections.abc import Sequence
from pathlib import Path

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
    report = commands.add_parser("report", add_help=False)
    report.add_argument("page")
    report.add_argument("--format", choices=("csv", "json"), default="csv")
    report.add_argument("--out", default=".")
    report.add_argument("--db")
    return parser


def main(*args: str) -> int:
    """Entry point of the ``programs-bot`` command."""
    argv = list(args) or sys.argv[1:]
    return _run_pywikibot_command(argv)


def _run_pywikibot_command(argv: Sequence[str]) -> int:
    import pywikibot

    from bot.core.errors import ProgramsBotError

    if {"-help", "-h", "--help"} & set(argv):
        pywikibot.info(__doc__)
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
        if options.command == "deploy":
            return _deploy(options)
        if options.command == "refresh":
            return _refresh(options)
        if options.command == "worker":
            return _worker(options)
        if options.command == "run":
            return _run(options)
        if options.command == "status":
            return _status(options)
        if options.command == "report":
            return _report(options)
    except ProgramsBotError as error:
        pywikibot.error(str(error))
        return EXIT_FAILED
    return EXIT_USAGE


def _refresh(options: argparse.Namespace) -> int:
    import pywikibot

    from bot.core.errors import ProgramsBotError
    from bot.core.messages import Messages
    from bot.core.render import notice_plain
    from bot.core.settings import load_bot_config
    from bot.jobs.campaigns import CampaignResult, find_campaign_pages, refresh_campaign
    from bot.jobs.refresh import Refresher, RefreshResult
    from bot.store import Store, default_url
    from bot.wiki.sites import RequestCounter

    if bool(options.pages) == bool(options.all):
        pywikibot.error("give either program page titles or --all")
        return EXIT_USAGE
    site = pywikibot.Site()
    store = Store(options.db or default_url(_config_dir()))
    messages = Messages()
    refresher = Refresher(
        store,
        messages=messages,
        stop_page=options.stop_page,
        simulate=bool(pywikibot.config.simulate),
        config=load_bot_config(_config_dir()),
    )
    if options.all:
        template = pywikibot.Page(site, "Template:Program details")
        pages = [
            p
            for p in template.getReferences(only_template_inclusion=True, content=False)
            if p.namespace() != template.namespace()
        ]
        # Campaigns after their programs: their totals come from the programs' counts.
        campaigns = find_campaign_pages(site)
    else:
        pages = [pywikibot.Page(site, title) for title in options.pages]
        campaigns = [page for page in pages if _is_campaign(page)]
        pages = [page for page in pages if page not in campaigns]
    pages += campaigns
    campaign_titles = {page.title() for page in campaigns}

    failed = 0
    for number, page in enumerate(pages, 1):
        prefix = f"[{number}/{len(pages)}] {page.title()}"
        started = time.monotonic()
        result: RefreshResult | CampaignResult
        with RequestCounter() as counter:
            try:
                if page.title() in campaign_titles:
                    result = refresh_campaign(
                        site,
                        page.title(),
                        store,
                        simulate=bool(pywikibot.config.simulate),
                        messages=messages,
                        stop_page=options.stop_page,
                    )
                else:
                    result = refresher.refresh(page, full=options.full)
            except ProgramsBotError as error:
                failed += 1
                pywikibot.error(f"{prefix}: {error}")
                continue
        for notice in result.notices:
            pywikibot.warning(f"{prefix}: {notice_plain(notice, messages)}")
        if not result.changed:
            state = "unchanged, no edit"
        elif result.simulated:
            state = "changed (simulated, not saved)"
        else:
            state = f"saved as revision {result.saved_revid}"
        pywikibot.info(
            f"{prefix}: {state}; {counter.count} API requests, {time.monotonic() - started:.1f} s"
        )
    if failed:
        pywikibot.error(f"{failed} of {len(pages)} page(s) failed")
    return EXIT_FAILED if failed else EXIT_OK


def _report(options: argparse.Namespace) -> int:
    import pywikibot

    from bot.core.campaign import campaign_outcomes, is_campaign_page
    from bot.core.errors import NotAProgramError
    from bot.core.exports import campaign_tables, program_tables
    from bot.core.settings import load_bot_config
    from bot.core.wikitext import parse_program_page
    from bot.jobs.campaigns import gather_programs
    from bot.jobs.refresh import Refresher
    from bot.store import Store, default_url
    from bot.wiki.sites import host_of

    site = pywikibot.Site()
    page = pywikibot.Page(site, options.page)
    try:
        text = page.get()
    except pywikibot.exceptions.Error as error:
        raise NotAProgramError(f"[[{options.page}]] cannot be read: {error}") from error
    store = Store(options.db or default_url(_config_dir()))
    if is_campaign_page(text):
        programs = gather_programs(site, page.title(), store)
        tables = campaign_tables(campaign_outcomes(programs), programs)
        return _write_tables(tables, options, host_of(site), page.title())
    program = parse_program_page(text)
    refresher = Refresher(store, config=load_bot_config(_config_dir()))
    private = store.private_participants(host_of(site), page.title())
    key = f"{host_of(site)}#{page.pageid}"
    computation = refresher.compute(program, key, full=True, private=private)
    if computation.outcomes is None or program.details.window is None:
        raise NotAProgramError(f"[[{page.title()}]] has no usable dates; see its notices")
    tables = program_tables(
        computation.outcomes,
        computation.records,
        program.details.window,
        computation.extras,
        hidden=private,
    )
    return _write_tables(tables, options, host_of(site), page.title())


def _write_tables(
    tables: dict[str, list[dict[str, object]]], options: argparse.Namespace, wiki: str, title: str
) -> int:
    import pywikibot

    from bot.core.exports import TABLES, columns_of, tables_as_json, to_csv

    if options.format == "json":
        print(tables_as_json(tables, wiki=wiki, title=title))
        return EXIT_OK
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "_" for c in title)
    for table in TABLES:
        path = out / f"{slug}-{table}.csv"
        path.write_text(to_csv(tables[table], columns_of(tables[table], table)), "utf-8")
        pywikibot.info(f"wrote {path} ({len(tables[table])} rows)")
    return EXIT_OK


def _is_campaign(page: object) -> bool:
    """Whether a page named on the command line is a campaign page (else: a program)."""
    from pywikibot.exceptions import Error as PywikibotError

    from bot.core.campaign import is_campaign_page

    try:
        return is_campaign_page(page.text)  # type: ignore[attr-defined]
    except PywikibotError:
        return False  # the refresh reports what is wrong with the page


def _deploy(options: argparse.Namespace) -> int:
    import pywikibot

    from bot.core.settings import load_bot_config
    from bot.jobs.deploy import deploy, wiki_language
    from bot.wiki.sites import host_of

    site = pywikibot.Site()
    settings = load_bot_config(_config_dir()).wiki(host_of(site))
    lang = wiki_language(site, options.lang or settings.language)
    api_url = options.api_url or settings.api_url
    changed = deploy(site, lang=lang, api_url=api_url)
    for title in changed:
        pywikibot.info(f"saved {title}")
    what = "templates and gadget" if api_url else "templates (no --api-url: no gadget)"
    pywikibot.info(f"{len(changed)} page(s) changed on {site}: {what} in {lang!r}")
    return EXIT_OK


def _worker(options: argparse.Namespace) -> int:
    import signal

    import pywikibot

    from bot.core.settings import load_bot_config
    from bot.jobs.joins import Worker
    from bot.store import Store, default_url

    store = Store(options.db or default_url(_config_dir()))
    worker = Worker(store, stop_page=options.stop_page, config=load_bot_config(_config_dir()))
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
    from datetime import timedelta

    import pywikibot

    from bot.core.cadence import Cadence
    from bot.core.settings import load_bot_config
    from bot.jobs.scheduler import Scheduler
    from bot.store import Store, default_url

    # What the scheduler does, line by line, for the people who run and watch it.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    store = Store(options.db or default_url(_config_dir()))
    scheduler = Scheduler(
        store,
        pywikibot.Site(),
        config=load_bot_config(_config_dir()),
        stop_page=options.stop_page,
        cadence=Cadence(edit_interval=timedelta(minutes=options.edit_interval)),
    )
    pywikibot.info(f"scheduler {scheduler.worker_id} running; SIGTERM stops it")
    scheduler.run_forever(options.interval)
    pywikibot.info("scheduler stopped")
    return EXIT_OK


def _status(options: argparse.Namespace) -> int:
    import pywikibot

    from bot.core.dates import format_moment
    from bot.store import Store, default_url

    store = Store(options.db or default_url(_config_dir()))
    entries = store.schedule_entries()
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


def _config_dir() -> Path:
    import pywikibot

    return Path(pywikibot.config.base_dir)


if __name__ == "__main__":
    sys.exit(main())
