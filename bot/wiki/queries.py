"""The Action API requests the bot makes, each split into building the request and reading
its answer: pure functions, so requests can be merged and every reading tested alone.

A builder returns the parameters of one ``action=query`` request (bot.wiki.sites adds
``action``, ``formatversion=2`` and the continuation); a reader takes the ``query`` part of
one answer. Names are compared as MediaWiki normalizes them; readers that are given the
names as asked answer with those names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.changes import RecentChange
from bot.core.contributions import MAIN_NAMESPACE, Revision, Upload
from bot.core.dates import format_moment
from bot.core.hashtags import carries
from bot.core.model import Window
from bot.core.references import RevisionReferences, count_references
from bot.core.titles import normalize_title
from bot.core.wikibase import summary_action

Params = dict[str, Any]
Answer = Mapping[str, Any]


def together(requests: Sequence[Params]) -> Params:
    """Several requests as one: ``list=`` modules, and ``prop=`` modules of one set of pages
    (``titles``), have parameters of their own prefixes, and the API continues each module
    until it is done, so the readers of each take the answers as if they had asked alone."""
    merged: Params = {}
    for request in requests:
        clash = (merged.keys() & request.keys()) - {"list", "prop"}
        if clash:
            raise ValueError(f"requests share parameters {sorted(clash)}")
        merged.update({k: v for k, v in request.items() if k not in ("list", "prop")})
    for module in ("list", "prop"):
        names = [str(request[module]) for request in requests if module in request]
        if names:
            merged[module] = "|".join(names)
    return merged


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def as_asked(names: Iterable[str]) -> dict[str, str]:
    """Normalized name -> the name as asked, to answer with the caller's names."""
    return {normalize_title(name): name for name in names}


# -- accounts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserCheck:
    """Which names have an account on a wiki, which are missing, and which are invalid;
    and when each existing account was registered (None: too old to be recorded)."""

    existing: frozenset[str]
    missing: frozenset[str]
    invalid: frozenset[str]
    registrations: Mapping[str, datetime | None] = field(default_factory=dict)


def users_request(names: Sequence[str], *, registration: bool = False) -> Params:
    """``list=users`` for a batch of names (and their registration dates)."""
    params: Params = {"list": "users", "ususers": list(names)}
    if registration:
        params["usprop"] = "registration"
    return params


def read_user_check(answer: Answer, asked: Mapping[str, str]) -> UserCheck:
    """Existing, missing and invalid names among those asked."""
    existing, missing, invalid = set(), set(), set()
    for user in answer.get("users", []):
        name = normalize_title(str(user.get("name", "")))
        original = asked.get(name, name)
        if user.get("invalid"):
            invalid.add(original)
        elif user.get("missing"):
            missing.add(original)
        else:
            existing.add(original)
    return UserCheck(frozenset(existing), frozenset(missing), frozenset(invalid))


def read_registrations(answer: Answer, asked: Mapping[str, str]) -> dict[str, datetime | None]:
    """Each existing user's registration (None: too old to be recorded); missing and
    invalid names left out."""
    found: dict[str, datetime | None] = {}
    for user in answer.get("users", []):
        if user.get("missing") or user.get("invalid") or "name" not in user:
            continue
        name = normalize_title(str(user["name"]))
        registration = user.get("registration")
        found[asked.get(name, name)] = _time(registration) if registration else None
    return found


def rename_log_request(name: str) -> Params:
    """The renames of one account (``list=logevents``, ``renameuser``): MediaWiki files
    each under the old name's user page, with ``olduser`` and ``newuser``."""
    return {
        "list": "logevents",
        "letype": "renameuser",
        "letitle": "User:" + name,
        "leprop": "title|details|timestamp",
        "lelimit": "max",
    }


def read_renamed_to(answer: Answer, name: str) -> str:
    """The name the account ``name`` was last renamed to ("" if never)."""
    wanted = normalize_title(name)
    found = [
        (str(entry.get("timestamp", "")), normalize_title(str(params.get("newuser", ""))))
        for entry in answer.get("logevents", [])
        if isinstance(params := entry.get("params"), Mapping)
        and normalize_title(str(params.get("olduser", ""))) == wanted
    ]
    return max(found)[1] if found else ""


# -- contributions and uploads ----------------------------------------------------------------


def contributions_request(users: Sequence[str], window: Window) -> Params:
    """``list=usercontribs`` for a batch of users over the window, what the figures need."""
    return {
        "list": "usercontribs",
        "ucuser": list(users),
        "ucstart": format_moment(window.start),
        "ucend": format_moment(window.end),
        "ucdir": "newer",
        # The summary: Wikibase's name what an edit added (bot.core.wikibase).
        "ucprop": "ids|title|timestamp|sizediff|flags|comment",
        "uclimit": "max",
    }


def read_contributions(answer: Answer) -> list[Revision]:
    """The revisions of one usercontribs answer."""
    return [
        Revision(
            revid=int(row["revid"]),
            user=normalize_title(row["user"]),
            pageid=int(row["pageid"]),
            namespace=int(row["ns"]),
            title=str(row["title"]),
            timestamp=_time(row["timestamp"]),
            sizediff=int(row.get("sizediff", 0)),
            new=bool(row.get("new", False)),
            wikibase=summary_action(str(row.get("comment", ""))),
        )
        for row in answer.get("usercontribs", [])
    ]


def read_contribution_parents(answer: Answer) -> dict[int, int]:
    """Revision id -> its parent's (0: it created its page), from one usercontribs answer:
    a revision's text and its parent's can then be read in one pass."""
    return {
        int(row["revid"]): int(row.get("parentid", 0)) for row in answer.get("usercontribs", [])
    }


def edited_since_request(users: Sequence[str], since: datetime) -> Params:
    """``list=usercontribs`` from ``since`` on, timestamps only: who edited at all."""
    return {
        "list": "usercontribs",
        "ucuser": list(users),
        "ucstart": format_moment(since),
        "ucdir": "newer",
        "ucprop": "timestamp",
        "uclimit": "max",
    }


def read_editors(answer: Answer, asked: Mapping[str, str]) -> set[str]:
    """The users with at least one row in a usercontribs answer, as asked."""
    return {
        asked.get(name, name)
        for name in (
            normalize_title(str(row.get("user", ""))) for row in answer.get("usercontribs", [])
        )
    }


def upload_log_request(window: Window) -> Params:
    """``list=logevents`` for the window's whole upload log: it takes a single ``leuser``,
    so one read of the log serves every participant."""
    return {
        "list": "logevents",
        "letype": "upload",
        "lestart": format_moment(window.start),
        "leend": format_moment(window.end),
        "ledir": "newer",
        "leprop": "user|title|timestamp|type",
        "lelimit": "max",
    }


def read_uploads(answer: Answer, users: Iterable[str]) -> list[Upload]:
    """New files (``upload/upload``, not overwrites) uploaded by these users."""
    wanted = set(users)
    uploads = []
    for event in answer.get("logevents", []):
        user = normalize_title(str(event.get("user", "")))
        if event.get("action") == "upload" and user in wanted and "title" in event:
            uploads.append(Upload(user, str(event["title"]), _time(event["timestamp"])))
    return uploads


# -- pages ------------------------------------------------------------------------------------


def subcategories_request(category: str) -> Params:
    """``list=categorymembers``: the subcategories of one category (full title)."""
    return {"list": "categorymembers", "cmtitle": category, "cmtype": "subcat", "cmlimit": "max"}


def read_members(answer: Answer) -> set[str]:
    """The titles of a categorymembers answer."""
    return {str(member["title"]) for member in answer.get("categorymembers", [])}


def page_ids_request(titles: Sequence[str]) -> Params:
    """``prop=info`` by title, redirects followed: the page ids of articles named by title."""
    return {"prop": "info", "titles": list(titles), "redirects": 1}


def read_page_ids(answer: Answer) -> set[int]:
    """The ids of the existing pages of an answer."""
    return {int(page["pageid"]) for page in answer.get("pages", []) if "pageid" in page}


def page_states_request(
    pageids: Sequence[int], categories: Sequence[str] = (), templates: Sequence[str] = ()
) -> Params:
    """``prop=info`` for a batch of page ids (namespace, title, redirect, missing), with
    membership in the scope's categories and templates asked in the same request, so that
    whole categories are never enumerated."""
    props = ["info"]
    params: Params = {"pageids": list(pageids)}
    if categories:
        props.append("categories")
        params.update(clcategories=list(categories), cllimit="max")
    if templates:
        props.append("templates")
        params.update(tltemplates=list(templates), tllimit="max")
    return {"prop": "|".join(props), **params}


def history_request(title: str) -> Params:
    """A page's whole history, oldest first: who saved each revision, when, its size."""
    return {
        "prop": "revisions",
        "titles": title,
        "rvprop": "ids|timestamp|user|size|comment",
        "rvdir": "newer",
        "rvlimit": "max",
    }


def read_history(answer: Answer, previous_size: int = 0) -> tuple[list[Revision], int]:
    """The revisions of one history answer, and the last one's size (the next answer's
    first revision's parent). A revision whose user is hidden is left out, as the
    contributions leave it out."""
    found = []
    size = previous_size
    for page in answer.get("pages", []):
        for revision in page.get("revisions", []):
            parent_size = 0 if int(revision.get("parentid", 0)) == 0 else size
            size = int(revision.get("size", 0))
            if "user" not in revision or revision.get("userhidden"):
                continue
            found.append(
                Revision(
                    revid=int(revision["revid"]),
                    user=normalize_title(str(revision["user"])),
                    pageid=int(page["pageid"]),
                    namespace=int(page.get("ns", 0)),
                    title=str(page.get("title", "")),
                    timestamp=_time(str(revision["timestamp"])),
                    sizediff=size - parent_size,
                    new=int(revision.get("parentid", 0)) == 0,
                    wikibase=summary_action(str(revision.get("comment", ""))),
                )
            )
    return found, size


def read_history_parents(answer: Answer) -> dict[int, int]:
    """Revision id -> its parent's (0: it created its page), from one history answer."""
    return {
        int(revision["revid"]): int(revision.get("parentid", 0))
        for page in answer.get("pages", [])
        for revision in page.get("revisions", [])
    }


def revision_texts_request(revids: Sequence[int]) -> Params:
    """The texts of a batch of revisions, with their parents' ids."""
    return {"prop": "revisions", "revids": list(revids), "rvprop": "ids|content", "rvslots": "main"}


def read_revision_texts(answer: Answer) -> dict[int, RevisionReferences]:
    """Revision id -> its parent and the references its text holds; a revision whose text
    cannot be read (deleted with its page, or hidden) holds None."""
    found: dict[int, RevisionReferences] = {}
    for page in answer.get("pages", []):
        for revision in page.get("revisions", []):
            slot = (revision.get("slots") or {}).get("main") or {}
            content = slot.get("content")
            hidden = slot.get("texthidden") or slot.get("textmissing") or content is None
            refs = None if hidden else count_references(str(content))
            found[int(revision["revid"])] = RevisionReferences(
                int(revision.get("parentid", 0)), refs
            )
    bad = answer.get("badrevids") or []
    for entry in bad.values() if isinstance(bad, Mapping) else bad:
        found[int(entry["revid"])] = RevisionReferences(0, None)
    return found


def revision_pages_request(revids: Sequence[int]) -> Params:
    """The pages of a batch of revisions (a source of changes without page ids), with
    their state."""
    return {"prop": "info|revisions", "revids": list(revids), "rvprop": "ids"}


def read_revision_pages(answer: Answer) -> dict[int, dict[str, Any]]:
    """Revision id -> its page's fields (``pageid``, ``ns``, ``title``, ``redirect``)."""
    found: dict[int, dict[str, Any]] = {}
    for page in answer.get("pages", []):
        fields = {k: v for k, v in page.items() if k != "revisions"}
        for revision in page.get("revisions", []):
            found[int(revision["revid"])] = fields
    return found


def merge_page_states(found: dict[int, dict[str, Any]], answer: Answer) -> None:
    """Add one answer's pages to ``found`` (page id -> fields and ``hits``, the number of
    scope categories and templates seen): a page's categories and templates may come in
    several continued answers."""
    for page in answer.get("pages", []):
        merged = found.setdefault(int(page["pageid"]), {"hits": 0})
        merged.update({k: v for k, v in page.items() if k not in {"categories", "templates"}})
        merged["hits"] += len(page.get("categories", [])) + len(page.get("templates", []))


def file_usage_request(files: Sequence[str]) -> Params:
    """``prop=fileusage`` for a batch of file titles: main-namespace pages, no redirects."""
    return {
        "prop": "fileusage",
        "titles": list(files),
        "fuprop": "title",
        "funamespace": MAIN_NAMESPACE,
        "fushow": "!redirect",
        "fulimit": "max",
    }


def read_file_usage(answer: Answer, given: dict[str, str], usage: dict[str, set[str]]) -> None:
    """Add one answer's users of each file to ``usage``, under the file title as given.

    The API answers under its own form of a title (the namespace in the wiki's language,
    first letter upper-case, spaces) and says which title it normalized to which:
    ``given`` (the API's title -> the title as given) learns those pairs.
    """
    for entry in answer.get("normalized", []):
        if entry.get("from") in given:
            given[str(entry["to"])] = given[entry["from"]]
    for page in answer.get("pages", []):
        title = str(page.get("title", ""))
        users = usage.setdefault(given.get(title, title), set())
        users.update(
            str(user["title"])
            for user in page.get("fileusage", [])
            if int(user.get("ns", MAIN_NAMESPACE)) == MAIN_NAMESPACE
        )


# -- recent changes -----------------------------------------------------------------------------


def recent_changes_request(since: datetime, bot_user: str) -> Params:
    """``list=recentchanges`` from ``since`` on, oldest first, with what the figures need
    (user, page, revision, sizes, time, log action); the bot's own changes left out: its
    statistics edits must not make their page due again."""
    return {
        "rcexcludeuser": bot_user,
        "list": "recentchanges",
        "rcstart": format_moment(since),
        "rcdir": "newer",
        "rcprop": "user|title|ids|sizes|timestamp|loginfo|comment|flags",
        "rctype": "edit|new|log",
        "rclimit": "max",
    }


def tagged_changes_request(window: Window, until: datetime) -> Params:
    """Every edit of the window (up to ``until``) with its summary, oldest first, bots'
    edits left out (as the Hashtags tool leaves them out): the hashtags are found in the
    summaries (the API cannot search them)."""
    return {
        "list": "recentchanges",
        "rcstart": format_moment(window.start),
        "rcend": format_moment(min(window.end, until)),
        "rcdir": "newer",
        "rcprop": "user|title|ids|sizes|timestamp|comment",
        "rctype": "edit|new",
        "rcshow": "!bot",
        "rclimit": "max",
    }


def read_tagged_edits(answer: Answer, tags: Sequence[str]) -> list[Revision]:
    """The edits whose summary carries one of ``tags`` (hidden users and summaries left
    out: nobody may see who made them or what they say)."""
    found = []
    for change in answer.get("recentchanges", []):
        if change.get("userhidden") or change.get("commenthidden") or "revid" not in change:
            continue
        if not carries(str(change.get("comment", "")), tags):
            continue
        found.append(
            Revision(
                int(change["revid"]),
                normalize_title(str(change.get("user", ""))),
                int(change.get("pageid", 0)),
                int(change.get("ns", 0)),
                str(change.get("title", "")),
                _time(str(change["timestamp"])),
                int(change.get("newlen", 0)) - int(change.get("oldlen", 0)),
                change.get("type") == "new",
                summary_action(str(change.get("comment", ""))),
            )
        )
    return found


def read_recent_changes(wiki: str, answer: Answer, after_id: int) -> list[RecentChange]:
    """The changes of one answer after change ``after_id`` (timestamps have one-second
    resolution, so the id tells which of a second's changes were seen)."""
    found = []
    for change in answer.get("recentchanges", []):
        rcid = int(change.get("rcid", 0))
        if rcid <= after_id:
            continue
        params = change.get("logparams") or {}
        # A move names its new title target_title, a history merge dest_title.
        target = ""
        if isinstance(params, Mapping):
            target = params.get("target_title") or params.get("dest_title") or ""
        found.append(
            RecentChange(
                wiki=wiki,
                rcid=rcid,
                kind=str(change.get("type", "")),
                namespace=int(change.get("ns", 0)),
                title=str(change.get("title", "")),
                # A hidden user (revision deletion) is nobody: no participant matches "".
                user=normalize_title(str(change.get("user", ""))),
                timestamp=_time(str(change["timestamp"])),
                pageid=int(change.get("pageid", 0)),
                revid=int(change.get("revid", 0)),
                old_revid=int(change.get("old_revid", 0)),
                old_len=int(change.get("oldlen", 0)),
                new_len=int(change.get("newlen", 0)),
                log_type=str(change.get("logtype", "")),
                log_action=str(change.get("logaction", "")),
                target_title=str(target),
                target_namespace=int(params.get("target_ns", params.get("dest_ns", 0)))
                if target
                else 0,
                comment=str(change.get("comment", "")),
                bot=bool(change.get("bot", False)),
            )
        )
    return found
