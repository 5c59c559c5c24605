"""Renamed accounts: a listed name whose account was renamed keeps being counted.

MediaWiki moves every revision of a renamed account to its new name, so the old name has
no contributions. The bot counts the new name and files what it finds under the name the
page lists (the row stays the organizer's; a notice proposes the new name). The wiki layer
asks under the wiki's names, the metrics and the store see the page's names: these pure
functions translate between the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from bot.core.contributions import Revision, Upload, WikiRecords
from bot.core.revision_table import RevisionTable

#: A revision or an upload: someone's work, filed under a name.
Work = TypeVar("Work", Revision, Upload)

#: How many renames in a row are followed (A -> B -> C ...); a longer chain stops there.
MAX_CHAIN = 10


def follow_chain(first: str, renamed_to: Mapping[str, str]) -> str:
    """Where a chain of renames starting at ``first`` ends ("" when ``first`` was never
    renamed); a chain that comes back to a name it passed stops before it."""
    seen = [first]
    name = renamed_to.get(first, "")
    while name and name not in seen and len(seen) <= MAX_CHAIN:
        seen.append(name)
        name = renamed_to.get(name, "")
    return seen[-1] if len(seen) > 1 else ""


def renamed_accounts(renamed: Mapping[str, str], listed: Iterable[str]) -> dict[str, str]:
    """The renames that apply to ``listed`` names: page name -> the wiki's name now."""
    return {name: renamed[name] for name in listed if renamed.get(name)}


def to_wiki_names(records: Iterable[Work], aliases: Mapping[str, str]) -> list[Work]:
    """Remembered revisions or uploads (filed under the page's names) as the wiki knows
    them now."""
    return [replace(r, user=aliases[r.user]) if r.user in aliases else r for r in records]


def revisions_to_wiki_names(
    revisions: Sequence[Revision], aliases: Mapping[str, str]
) -> Sequence[Revision]:
    """:func:`to_wiki_names` for revisions, which keeps a table a table."""
    if isinstance(revisions, RevisionTable):
        return revisions.renamed(dict(aliases)) if aliases else revisions
    return to_wiki_names(revisions, aliases)


def to_page_names(records: WikiRecords, aliases: Mapping[str, str]) -> WikiRecords:
    """A wiki's records with the renamed accounts' work filed under the page's names."""
    if not aliases:
        return records
    back = {new: old for old, new in aliases.items()}
    return replace(
        records,
        revisions=revisions_to_wiki_names(records.revisions, back),
        uploads=tuple(
            replace(u, user=back[u.user]) if u.user in back else u for u in records.uploads
        ),
        known_users=frozenset(back.get(name, name) for name in records.known_users),
    )
