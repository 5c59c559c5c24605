"""Counting a program: every listed wiki fetched (only what changed, where the store says
what was counted before), the figures computed by the pure metrics, and what was counted
remembered for the next count."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial

from pywikibot.site import APISite

from bot.core.contributions import PageState, Revision, Upload, WikiRecords
from bot.core.dates import format_moment
from bot.core.editors import RETENTION_DELAYS
from bot.core.errors import EventRegistrationError, ProgramsBotError, UnknownWikiError
from bot.core.event_registration import EventParticipants
from bot.core.extras import (
    Extras,
    article_first_days,
    count_file_usage,
    created_titles,
    split_views,
)
from bot.core.hashtags import tag_keys
from bot.core.metrics import Outcomes, article_revision_ids, compute_outcomes
from bot.core.model import EventRef, Notice, ProgramDetails, ProgramPage, Window
from bot.core.references import RevisionReferences
from bot.core.renames import (
    renamed_accounts,
    revisions_to_wiki_names,
    to_page_names,
    to_wiki_names,
)
from bot.core.settings import BotConfig, recent_changes_days
from bot.core.wikinames import WikiName, wiki_name
from bot.jobs.at_once import Handoff, each_wiki
from bot.store import FetchMark, Store
from bot.wiki.event_registration import fetch_event_participants, rest_base
from bot.wiki.fetch import (
    OVERLAP,
    EarlyRead,
    Fetched,
    fetch_editor_figures,
    fetch_file_usage,
    fetch_pages,
    fetch_renames,
    fetch_revision_references,
    fetch_tagged_edits,
    fetch_wiki,
    merge_fetched,
)
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
    previous: Mapping[str, WikiRecords] = field(default_factory=dict)
    #: Participants without a row, named in the bot's block: (source, name).
    sourced: tuple[tuple[str, str], ...] = ()
    #: Participants counted in the totals only, never named (private joins, private
    #: registrations of the Event Registration).
    private: tuple[str, ...] = ()
    #: Per wiki, what the revision texts read by this count hold (kept by ``remember``).
    texts: tuple[tuple[str, Mapping[int, RevisionReferences]], ...] = ()


@dataclass(frozen=True)
class _WikiPlan:
    """One wiki's part of a count, as read from the store before its requests."""

    site: APISite
    started: datetime
    fingerprint: str
    previous: FetchMark | None
    mark: FetchMark | None
    since: datetime | None
    known_at: datetime | None
    asked: frozenset[str]
    renames: Mapping[str, str]
    aliases: Mapping[str, str]
    remembered_uploads: Sequence[Upload]
    files: tuple[str, ...]
    #: The incremental fetch's first requests, sent before the page was parsed.
    early: EarlyRead | None = None
    #: What the store remembers of the last count (read while the wiki answers).
    recalled: Handoff[WikiRecords] = field(default_factory=lambda: Handoff())

    @property
    def wiki(self) -> str:
        return host_of(self.site)

    @property
    def before(self) -> WikiRecords:
        """What the store held for this wiki (so that only changes are written)."""
        return self.recalled.take()


def fingerprint(users: Iterable[str], details: ProgramDetails) -> str:
    """What an incremental fetch depends on (the listed names, the window, the scope);
    when it changes, the next fetch is full."""
    parts = [*sorted(users), repr(details.window), repr(details.scope), repr(details.hashtags)]
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
        created: set[tuple[str, str]] = set()
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
                wiki = wiki_records.wiki
                created |= {(wiki, t) for t in created_titles(wiki_records, window)}
    except ProgramsBotError as error:
        log.warning("extra figures left out this time: %s", error)
        return None
    of_created, of_improved = (None, None) if views is None else split_views(per_article, created)
    return Extras(
        new_editors=len(editors.new),
        retained_7=editors.count(RETENTION_7),
        retained_30=editors.count(RETENTION_30),
        file_usage=count_file_usage(usage),
        pageviews=views,
        editors=editors,
        article_views=per_article,
        pageviews_created=of_created,
        pageviews_improved=of_improved,
    )


class ProgramCounter:
    """Counts programs against the wikis, with what the store remembers."""

    def __init__(self, store: Store, config: BotConfig | None = None) -> None:
        self.store = store
        self.config = config or BotConfig()
        #: The early reads of the program counted next (its key -> per wiki), one at most.
        self._early: dict[str, dict[str, EarlyRead]] = {}
        self._early_lock = threading.Lock()

    def read_ahead(self, key: str) -> None:
        """Send the first requests of an incremental count of ``key`` now, as its fetch
        marks say (their names, window and moment), while the caller reads and parses the
        page; the count uses their answers where it asks the same (see EarlyRead). One
        program's at a time: asking for another drops those not taken."""
        with self._early_lock:
            if key in self._early:
                return
            self._early = {key: {}}
        reads: dict[str, EarlyRead] = {}
        for wiki, mark in self.store.fetch_marks(key).items():
            window = mark.window
            if window is None:
                continue  # a mark written before windows were kept
            try:
                site = site_for_host(wiki)
            except ProgramsBotError:
                continue  # the count meets the error itself
            names = mark.existing | {new for new in mark.renames.values() if new}
            reads[wiki] = EarlyRead(site, frozenset(names), window, mark.fetched_until)
        with self._early_lock:
            if key in self._early:
                self._early[key] = reads

    def _take_early(self, key: str) -> dict[str, EarlyRead]:
        with self._early_lock:
            return self._early.pop(key, {})

    def count(
        self,
        program: ProgramPage,
        key: str,
        *,
        full: bool = True,
        private: Iterable[str] = (),
        home: str = "",
    ) -> Computation:
        """Fetch every listed wiki and compute the figures (pure metrics at the end).

        With ``full`` False, a wiki fetched before for the same participants, window and
        scope is only asked what happened since (see fetch_wiki). The extra figures are
        asked when every wiki was fetched in full (asked to, or never counted before), so
        a program's first count writes them whichever command made it. ``private``
        participants count in the totals only: they have no row to write. ``home``: the
        program page's wiki (by host), where an Event Registration named by id lives.
        """
        notices = list(program.notices)
        details = program.details
        if details.window is None:
            return Computation(None, tuple(notices), ())
        listed = list(program.listed)
        private = list(private)
        sourced: list[tuple[str, str]] = []
        if details.event is not None:
            found = self._event_participants(details.event, home, notices)
            if found is not None:
                sourced += [("event", name) for name in found.public if name not in listed]
                private = [*private, *found.private]
        listed += [name for _, name in sourced]
        hidden = [name for name in dict.fromkeys(private) if name not in listed]
        listed += [name for name in private if name not in listed]
        wikis = details.wikis
        if not wikis and details.dashboard and home:
            wikis = (home,)  # a page the Programs & Events Dashboard wrote: its own wiki
        exists_somewhere: set[str] = set()
        invalid: set[str] = set()
        records = []
        marks = []
        incremental = False
        sites: dict[str, APISite] = {}
        names: dict[str, WikiName] = {}
        registrations: list[Mapping[str, datetime | None]] = []
        previous_records: dict[str, WikiRecords] = {}
        renamed: dict[str, str] = {}
        # The files counted last time: their usage rides along in each wiki's first request
        # (a file new since then is asked on its own with the extra figures).
        files = sorted({u.title for host in wikis for u in self._uploads_known(key, host)})
        usage: dict[str, dict[str, set[str]]] = {}
        plans: list[_WikiPlan] = []
        early = self._take_early(key)
        for host in wikis:
            try:
                site = site_for_host(host)
                sites[host_of(site)] = site
            except UnknownWikiError as error:
                log.warning("%s", error)
                notices.append(Notice("unknown-wiki", (host,)))
                continue
            plans.append(
                self._plan(site, key, listed, details, full, files, early.get(host_of(site)))
            )
        # The wikis answer at once (each one request at a time): the slowest wiki, not their
        # sum, is the count's wait.
        # Meanwhile the store gives what it remembers (with what it knew of the texts
        # counted last time), which the fetch needs only once the first answers are in.
        fetched_all = each_wiki(
            [partial(self._fetch, plan, listed, details) for plan in plans],
            partial(self._recall, key, plans),
        )
        texts_known = {plan.wiki: plan.before.references for plan in plans}
        for plan, (fetched, renames, aliases, wiki_records, complete_from) in zip(
            plans, fetched_all, strict=True
        ):
            wiki, previous, mark = plan.wiki, plan.previous, plan.mark
            names[wiki] = self.name(wiki, plan.site)
            previous_records[wiki] = plan.before
            users = fetched.check
            usage[wiki] = fetched.file_usage
            if users is not None:
                existing = users.existing | frozenset(aliases)
                bad = users.invalid | (frozenset(listed) & previous.invalid if previous else set())
                back = {new: old for old, new in aliases.items()}
                registrations.append({back.get(n, n): r for n, r in users.registrations.items()})
            else:
                assert mark is not None
                existing, bad = mark.existing, mark.invalid
            incremental |= plan.since is not None
            exists_somewhere |= existing
            invalid |= bad
            renamed.update(aliases)
            if details.hashtags:
                for user in sorted({rev.user for rev in wiki_records.revisions} - set(listed)):
                    if ("hashtag", user) not in sourced:
                        sourced.append(("hashtag", user))
                if complete_from is not None:
                    notices.append(
                        Notice("hashtag-complete-from", (format_moment(complete_from), wiki))
                    )
            records.append(wiki_records)
            marks.append(
                (
                    wiki,
                    FetchMark(
                        plan.started,
                        plan.fingerprint,
                        existing,
                        frozenset(bad),
                        FetchMark.rename_lines(renames),
                        complete_from,
                        details.hashtags,
                        details.window.start,
                        details.window.end,
                    ),
                )
            )
        if records:
            named = [*program.listed, *(name for _, name in sourced)]
            for name in named:  # never name a private participant
                if name in renamed:
                    notices.append(Notice("renamed-user", (name, renamed[name])))
                elif name in invalid:
                    notices.append(Notice("invalid-user", (name,)))
                elif name not in exists_somewhere:
                    notices.append(Notice("unknown-user", (name,)))
            counted = [name for name in listed if name in exists_somewhere]
            counted += [name for source, name in sourced if source == "hashtag"]
        else:
            counted = listed
        # What the texts of the counted article edits hold: from the store, and for
        # revisions it does not know yet from the wikis (at once, as above); ``remember``
        # keeps those read now, so that no text is read twice.
        revids = [article_revision_ids(counted, details.window, r) for r in records]
        known = [
            self.store.references_of_revisions(r.wiki, ids, texts_known.get(r.wiki, {}))
            for r, ids in zip(records, revids, strict=True)
        ]
        read = each_wiki(
            [
                partial(fetch_revision_references, sites[r.wiki], ids, have, r.parents)
                for r, ids, have in zip(records, revids, known, strict=True)
            ]
        )
        texts = [(r.wiki, fresh) for r, fresh in zip(records, read, strict=True) if fresh]
        records = [
            replace(r, references={**have, **fresh})
            for r, have, fresh in zip(records, known, read, strict=True)
        ]
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
            tuple(sourced),
            tuple(hidden),
            tuple(texts),
        )

    def _plan(
        self,
        site: APISite,
        key: str,
        listed: Sequence[str],
        details: ProgramDetails,
        full: bool,
        files: Sequence[str],
        early: EarlyRead | None = None,
    ) -> _WikiPlan:
        """What one wiki's fetch needs from the store (read here, in the calling thread)."""
        started = datetime.now(UTC)
        wiki = host_of(site)
        fprint = fingerprint(listed, details)
        previous = self.store.fetch_mark(key, wiki)
        mark = None if full else previous
        since = None
        known_at = None
        # Page states are the same for any participants, not for another scope.
        if (
            previous is not None
            and (details.scope.is_everything or previous.fingerprint == fprint)
            and self.store.has_live_pages(key, wiki)
        ):
            known_at = previous.fetched_until
        asked = frozenset(listed)
        if mark is not None and mark.fingerprint == fprint:
            # Same names, window and scope as last time: the accounts found then
            # still hold (a new account is found by the next full recount).
            since, asked = mark.fetched_until, mark.existing
            if early is not None:
                # The fetch may use what was asked then: the next one starts from then.
                started = min(started, early.started)
        elif previous is not None:
            # A name that cannot be a username never becomes one: leave it out at once
            # (it would fail its whole request).
            asked = asked - previous.invalid
        renames = previous.renames if previous else {}
        aliases = renamed_accounts(renames, listed)
        asked |= frozenset(aliases.values())
        remembered_uploads = self.store.remembered_uploads(key, wiki)
        return _WikiPlan(
            site,
            started,
            fprint,
            previous,
            mark,
            since,
            known_at,
            asked,
            renames,
            aliases,
            remembered_uploads,
            tuple(files) if since is None else (),
            early=early if since is not None else None,
        )

    def _recall(self, key: str, plans: Sequence[_WikiPlan]) -> None:
        """Hand each wiki's fetch what the store remembers; a fetch waiting for what could
        not be read fails with the same error."""
        try:
            for plan in plans:
                plan.recalled.give(self.store.remembered(key, plan.wiki))
        except BaseException as error:
            for plan in plans:
                plan.recalled.fail(error)
            raise

    def _fetch(
        self, plan: _WikiPlan, listed: Sequence[str], details: ProgramDetails
    ) -> tuple[Fetched, dict[str, str], Mapping[str, str], WikiRecords, datetime | None]:
        """One wiki's requests (no store access: this may run beside other wikis'):
        the fetch, the rename log for missing accounts, the hashtag edits. Returns the
        fetch, the rename findings, the renamed accounts counted (listed name -> account),
        the records under the rows' names and from when the hashtag edits are complete."""
        assert details.window is not None

        def recall() -> tuple[Sequence[Revision], dict[int, PageState]]:
            kept = plan.recalled.take()
            return revisions_to_wiki_names(kept.revisions, plan.aliases), dict(kept.pages)

        fetch = partial(
            fetch_wiki,
            plan.site,
            window=details.window,
            scope=details.scope,
            recall=recall,
            pages_known_at=plan.known_at,
        )
        fetched = fetch(
            users=plan.asked,
            since=plan.since,
            remembered_uploads=(
                to_wiki_names(plan.remembered_uploads, plan.aliases) if plan.since else ()
            ),
            check=plan.since is None,
            files=plan.files,
            early=plan.early,
        )
        renames = dict(plan.renames)
        aliases = plan.aliases
        if fetched.check is not None:
            fetched, renames = self._follow_renames(plan.site, fetched, fetch, listed, renames)
            now = fetched.check.existing if fetched.check else frozenset()
            aliases = {
                old: new
                for old, new in renamed_accounts(renames, listed).items()
                if old not in now and new in now
            }
        wiki_records = to_page_names(fetched.records, aliases)
        complete_from = None
        if details.hashtags:
            kept = plan.recalled.take()
            wiki_records, complete_from = self._hashtag_edits(
                plan.site,
                details,
                wiki_records,
                listed,
                kept.revisions,
                kept.pages,
                plan.previous,
                plan.started,
            )
        return fetched, renames, aliases, wiki_records, complete_from

    def _hashtag_edits(
        self,
        site: APISite,
        details: ProgramDetails,
        records: WikiRecords,
        listed: Sequence[str],
        remembered: Sequence[Revision],
        remembered_pages: Mapping[int, PageState],
        previous: FetchMark | None,
        now: datetime,
    ) -> tuple[WikiRecords, datetime | None]:
        """The wiki's records with every edit of the window whose summary carries one of
        the program's hashtags, whoever made it (the listed participants' edits are there
        already), and from when they are complete (None: the whole window).

        They come from the wiki's recent changes: the first count reads them as far back as
        the wiki keeps them, later counts only since the last one (recent changes only
        grow); the tagged edits found before, by people who are not listed, are kept as
        the store remembers them.
        """
        assert details.window is not None
        days = recent_changes_days(host_of(site), self.config.wiki(host_of(site)))
        horizon = now - timedelta(days=days)
        same_tags = previous is not None and tag_keys(previous.hashtags) == tag_keys(
            details.hashtags
        )
        scan_from, kept = horizon, []
        if previous is not None and same_tags:
            scan_from = max(horizon, previous.fetched_until - OVERLAP)
            # The people who had no row last time: their remembered edits are tagged ones.
            names = set(listed) | previous.existing
            kept = [rev for rev in remembered if rev.user not in names]
        tagged = fetch_tagged_edits(site, details.hashtags, details.window, scan_from)
        known = {rev.revid for rev in records.revisions}
        new = {rev.revid: rev for rev in (*kept, *tagged) if rev.revid not in known}
        pages = dict(records.pages)
        wanted = {rev.pageid for rev in new.values()} - pages.keys()
        if scan_from == horizon:  # a full scan: every page's state asked afresh
            pages.update(fetch_pages(site, wanted, details.scope))
        else:
            found = {pid: remembered_pages[pid] for pid in wanted if pid in remembered_pages}
            fresh = {rev.pageid for rev in tagged} | (wanted - found.keys())
            pages.update(found)
            pages.update(fetch_pages(site, fresh - records.pages.keys(), details.scope))
        revisions = sorted((*records.revisions, *new.values()), key=lambda rev: rev.revid)
        earlier = previous.complete_from if previous and same_tags else None
        complete = min(horizon, earlier) if earlier else horizon
        return (
            replace(records, revisions=tuple(revisions), pages=pages),
            complete if complete > details.window.start else None,
        )

    def _event_participants(
        self, ref: EventRef, home: str, notices: list[Notice]
    ) -> EventParticipants | None:
        """The participants of the Event Registration the page names; on a failure, a
        notice (and None: the rows are counted alone)."""
        host = ref.wiki or home
        label = str(ref.event_id)
        try:
            site = site_for_host(host)
            base = rest_base(site, self.config.wiki(host_of(site)).campaignevents_url)
            found = fetch_event_participants(base, ref)
        except UnknownWikiError as error:
            log.warning("%s", error)
            notices.append(Notice("event-wiki-unknown", (label, host)))
            return None
        except EventRegistrationError as error:
            log.warning("Event Registration %s on %s: %s", label, host, error)
            notices.append(Notice(error.key, (label,)))
            return None
        if found.private_hidden:
            notices.append(Notice("event-private-hidden", (label,)))
        if found.unnamed:
            notices.append(Notice("event-unnamed", (label, str(found.unnamed))))
        return found

    @staticmethod
    def _follow_renames(
        site: APISite,
        fetched: Fetched,
        fetch: Callable[..., Fetched],
        listed: Sequence[str],
        renames: Mapping[str, str],
    ) -> tuple[Fetched, dict[str, str]]:
        """After a full fetch: the listed names whose account is missing are looked up in
        the rename log (once: the finding is remembered), as are renamed accounts missing
        again (renamed once more); the accounts they became are fetched in one more pass.
        Returns the merged fetch and every finding (listed name -> name now, or "")."""
        assert fetched.check is not None
        missing = fetched.check.missing
        # A listed name with an account (again: renamed back) is itself.
        found = {old: new for old, new in renames.items() if old not in fetched.check.existing}
        ask = [name for name in listed if name in missing and name not in found]
        ask += [found[n] for n in listed if found.get(n) in missing]
        if not ask:
            return fetched, found
        looked_up = fetch_renames(site, dict.fromkeys(ask))
        for name in listed:
            target = found.get(name)
            if name in looked_up:
                found[name] = looked_up[name]
            elif target and target in looked_up and looked_up[target]:
                found[name] = looked_up[target]
        asked = fetched.check.existing | missing | fetched.check.invalid
        new = frozenset(n for n in found.values() if n and n not in asked)
        if new:
            fetched = merge_fetched(fetched, fetch(users=new, check=True))
        return fetched, found

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
            key, computation.records, computation.marks, computation.previous
        )
        for wiki, texts in computation.texts:
            self.store.remember_revision_references(wiki, texts)
        log.info("remembered what [[%s]] counted", key)
