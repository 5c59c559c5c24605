"""Counting a program: every listed wiki fetched (only what changed, where the store says
what was counted before), the figures computed by the pure metrics, and what was counted
remembered for the next count."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pywikibot.site import APISite

from bot.core.contributions import Upload, WikiRecords
from bot.core.editors import RETENTION_DELAYS
from bot.core.errors import ProgramsBotError, UnknownWikiError
from bot.core.extras import Extras, article_first_days, count_file_usage
from bot.core.metrics import Outcomes, compute_outcomes
from bot.core.model import Notice, ProgramDetails, ProgramPage, Window
from bot.core.settings import BotConfig
from bot.core.wikinames import WikiName, wiki_name
from bot.store import FetchMark, Store
from bot.store.counted import Counted
from bot.wiki.fetch import fetch_editor_figures, fetch_file_usage, fetch_wiki
from bot.wiki.pageviews import source_for, user_agent_with_contact, views_since
from bot.wiki.sites import host_of, site_for_host, site_name

log = logging.getLogger(__name__)

RETENTION_7, RETENTION_30 = RETENTION_DELAYS


@dataclass(frozen=True)
class Computation:
    """Figures and notices for one program, and what to remember for the next count."""

    outcomes: Outcomes | None
    notices: tuple[Notice, ...]
    records: tuple[WikiRecords, ...]
    #: Per wiki: when its fetch started, for what, and what it found (for the next one).
    marks: tuple[tuple[str, FetchMark], ...] = ()
    #: The extra figures (full counts only; None: keep what the page has).
    extras: Extras | None = None
    #: What each counted wiki is called, by host (for the sentences and the rows).
    names: Mapping[str, WikiName] = field(default_factory=dict)
    #: Per wiki, what the store held before this count (so that only changes are written).
    previous: Mapping[str, Counted] = field(default_factory=dict)


def fingerprint(users: Iterable[str], details: ProgramDetails) -> str:
    """What an incremental fetch depends on (the listed names, the window, the scope);
    when it changes, the next fetch is full."""
    parts = [*sorted(users), repr(details.window), repr(details.scope)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def compute_extras(
    sites: Mapping[str, APISite],
    outcomes: Outcomes,
    records: Sequence[WikiRecords],
    window: Window,
    now: datetime,
    *,
    pageview_urls: Mapping[str, str | None] | None = None,
    contact: str = "",
    registrations: Sequence[Mapping[str, datetime | None]] | None = None,
    known_usage: Mapping[str, Mapping[str, set[str]]] | None = None,
) -> Extras | None:
    """The extra figures, or None when a wiki could not answer (they are then left out).

    ``registrations``: per site, in the order of ``sites``, as the account check found them;
    ``known_usage``: per site, the usage of the files asked already.
    """
    try:
        editors = fetch_editor_figures(
            list(sites.values()), outcomes.participants, window, now, known=registrations
        )
        files = sorted({u.title for r in records for u in r.uploads})
        usage: dict[str, dict[str, set[str]]] = {}
        for host, site in sites.items():
            known = (known_usage or {}).get(host, {})
            missing = [title for title in files if title not in known]
            found = fetch_file_usage(site, missing) if missing else {}
            usage[host] = {title: set(known.get(title, found.get(title, set()))) for title in files}
        views: int | None = None
        per_article: dict[tuple[str, str], int] = {}
        agent = user_agent_with_contact(contact) if contact else None
        for wiki_records in records:
            base = (pageview_urls or {}).get(wiki_records.wiki)
            source = (
                source_for(wiki_records.wiki, base, user_agent=agent)
                if agent
                else source_for(wiki_records.wiki, base)
            )
            counted = views_since(
                source, wiki_records.wiki, article_first_days(wiki_records, window), now.date()
            )
            if counted is not None:
                views = (views or 0) + sum(counted.values())
                per_article.update({(wiki_records.wiki, t): n for t, n in counted.items()})
    except ProgramsBotError as error:
        log.warning("extra figures left out this time: %s", error)
        return None
    return Extras(
        new_editors=len(editors.new),
        retained_7=editors.count(RETENTION_7),
        retained_30=editors.count(RETENTION_30),
        file_usage=count_file_usage(usage),
        pageviews=views,
        editors=editors,
        article_views=per_article,
    )


class ProgramCounter:
    """Counts programs against the wikis, with what the store remembers."""

    def __init__(self, store: Store, config: BotConfig | None = None) -> None:
        self.store = store
        self.config = config or BotConfig()

    def count(
        self,
        program: ProgramPage,
        key: str,
        *,
        full: bool = True,
        private: Iterable[str] = (),
    ) -> Computation:
        """Fetch every listed wiki and compute the figures (pure metrics at the end).

        With ``full`` False, a wiki fetched before for the same participants, window and
        scope is only asked what happened since (see fetch_wiki). The extra figures are
        asked when every wiki was fetched in full (asked to, or never counted before), so
        a program's first count writes them whichever command made it. ``private``
        participants count in the totals only: they have no row to write.
        """
        notices = list(program.notices)
        details = program.details
        if details.window is None:
            return Computation(None, tuple(notices), ())
        listed = list(program.listed)
        listed += [name for name in private if name not in listed]
        exists_somewhere: set[str] = set()
        invalid: set[str] = set()
        records = []
        marks = []
        incremental = False
        sites: dict[str, APISite] = {}
        names: dict[str, WikiName] = {}
        registrations: list[Mapping[str, datetime | None]] = []
        previous_records: dict[str, Counted] = {}
        # The files counted last time: their usage rides along in each wiki's first request
        # (a file new since then is asked on its own with the extra figures).
        files = sorted({u.title for host in details.wikis for u in self._uploads_known(key, host)})
        usage: dict[str, dict[str, set[str]]] = {}
        for host in details.wikis:
            try:
                site = site_for_host(host)
                sites[host_of(site)] = site
            except UnknownWikiError as error:
                log.warning("%s", error)
                notices.append(Notice("unknown-wiki", (host,)))
                continue
            started = datetime.now(UTC)
            wiki = host_of(site)
            names[wiki] = self.name(wiki, site)
            fprint = fingerprint(listed, details)
            previous = self.store.fetch_mark(key, wiki)
            mark = None if full else previous
            since = None
            known_at = None
            # Page states are the same for any participants, not for another scope.
            if previous is not None and (
                details.scope.is_everything or previous.fingerprint == fprint
            ):
                known_at = previous.fetched_until
            asked = frozenset(listed)
            if mark is not None and mark.fingerprint == fprint:
                # Same names, window and scope as last time: the accounts found then
                # still hold (a new account is found by the next full recount).
                since, asked = mark.fetched_until, mark.existing
                incremental = True
            elif previous is not None:
                # A name that cannot be a username never becomes one: leave it out at once
                # (it would fail its whole request).
                asked = asked - previous.invalid
            remembered, remembered_pages = self.store.remembered(key, wiki)
            remembered_uploads = self.store.remembered_uploads(key, wiki)
            previous_records[wiki] = (wiki, remembered, remembered_pages, remembered_uploads)
            fetched = fetch_wiki(
                site,
                asked,
                details.window,
                details.scope,
                remembered,
                remembered_pages,
                since=since,
                remembered_uploads=remembered_uploads if since else (),
                pages_known_at=known_at,
                check=since is None,
                files=files if since is None else (),
            )
            users = fetched.check
            usage[wiki] = fetched.file_usage
            if users is not None:
                existing = users.existing
                bad = users.invalid | (frozenset(listed) & previous.invalid if previous else set())
                registrations.append(users.registrations)
            else:
                assert mark is not None
                existing, bad = mark.existing, mark.invalid
            exists_somewhere |= existing
            invalid |= bad
            records.append(fetched.records)
            marks.append((wiki, FetchMark(started, fprint, existing, frozenset(bad))))
        if records:
            for name in program.listed:  # never name a private participant
                if name in invalid:
                    notices.append(Notice("invalid-user", (name,)))
                elif name not in exists_somewhere:
                    notices.append(Notice("unknown-user", (name,)))
            counted = [name for name in listed if name in exists_somewhere]
        else:
            counted = listed
        outcomes = compute_outcomes(counted, details.window, records)
        extras = None
        if sites and not incremental:
            extras = compute_extras(
                sites,
                outcomes,
                records,
                details.window,
                datetime.now(UTC),
                pageview_urls={h: self.config.wiki(h).pageviews_url for h in sites},
                registrations=registrations if len(registrations) == len(sites) else None,
                known_usage=usage,
            )
        return Computation(
            outcomes,
            tuple(notices),
            tuple(records),
            tuple(marks),
            extras,
            names,
            previous_records,
        )

    def _uploads_known(self, key: str, host: str) -> list[Upload]:
        """The uploads the store remembers for ``key`` on the wiki named ``host`` (as a
        program page names it; the store keys wikis by Pywikibot's host)."""
        return self.store.remembered_uploads(key, host.strip().lower())

    def name(self, wiki: str, site: APISite) -> WikiName:
        """What the wiki is called: as configured, else by the rule of bot.core.wikinames
        (the site's own name read only for a wiki that is no Wikimedia one)."""
        return wiki_name(wiki, self.config.wiki(wiki).name, lambda: site_name(site))

    def remember(self, key: str, computation: Computation) -> None:
        """Keep what was counted, for the next (incremental) count and for campaigns."""
        # One transaction: a process killed here leaves the last count's records and
        # marks, or these, never a mixture.
        self.store.remember_refresh(
            key,
            [(r.wiki, r.revisions, r.pages, r.uploads) for r in computation.records],
            computation.marks,
            computation.previous,
        )
        log.info("remembered what [[%s]] counted", key)
