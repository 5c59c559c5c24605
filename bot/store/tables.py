"""The SQL tables of the store (the schema Alembic's migrations create).

Each table is written out column by column, as its schema reads, though many share the
same columns (program, wiki, title): the migrations must match them exactly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from bot.core.titles import MAX_TITLE_WITH_NAMESPACE

metadata = MetaData()

# Hosts and usernames fit in 255 characters, and so does a title without its namespace
# (MediaWiki's own limit is 255 bytes).
NAME = 255
#: A page's title with its namespace ("Wikipedia talk:" and a 255-byte title): program
#: and campaign pages, and counted pages, which may be moved anywhere. A key of a NAME and
#: a PREFIXED_TITLE stays under MariaDB's 3072-byte index limit in utf8mb4.
PREFIXED_TITLE = MAX_TITLE_WITH_NAMESPACE
#: What an index with a third text column keeps of a title on MariaDB (its first 255
#: characters: the rest of the row is read to tell two longer ones apart).
_TITLE_PREFIX: dict[str, Any] = {"mysql_length": {"title": NAME}, "mariadb_length": {"title": NAME}}
#: Bytes of the largest binary values: MEDIUMBLOB on MariaDB (a BLOB holds 64 kB); bytea,
#: BLOB elsewhere.
MEDIUM_BLOB = 16 * 1024 * 1024 - 1

# The revisions a program's last count counted on a wiki, PACK_SIZE to a row in revision-id
# order (bot.store.revision_packs): a refresh reads them all back, and rows of one
# revision each cost seconds to read.
counted_revision_packs = Table(
    "counted_revision_packs",
    metadata,
    Column("program", String(NAME), primary_key=True),
    Column("wiki", String(NAME), primary_key=True),
    Column("pack", Integer, primary_key=True, autoincrement=False),
    Column("revisions", LargeBinary(MEDIUM_BLOB), nullable=False),
)

# What a revision's text holds, kept once per revision (shared by every program): no text
# is read twice. ``refs`` is NULL when the text could not be read (deleted or hidden).
# Revision ids are 64-bit here and in join_requests: Wikidata's passed 2**31 in 2024.
revision_references = Table(
    "revision_references",
    metadata,
    Column("wiki", String(NAME), primary_key=True),
    Column("revid", BigInteger, primary_key=True, autoincrement=False),
    Column("parentid", BigInteger, nullable=False),
    Column("refs", Integer, nullable=True),
)

counted_pages = Table(
    "counted_pages",
    metadata,
    Column("program", String(NAME), primary_key=True),
    Column("wiki", String(NAME), primary_key=True),
    Column("pageid", Integer, primary_key=True, autoincrement=False),
    Column("namespace", Integer, nullable=False),
    Column("title", String(PREFIXED_TITLE), nullable=False),
    Column("redirect", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("in_scope", Boolean, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("wiki", String(NAME), nullable=False),
    Column("username", String(NAME), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("blocked", Boolean, nullable=False),
    Column("registered", DateTime, nullable=True),
    Column("editcount", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False, index=True),
)

join_requests = Table(
    "join_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("wiki", String(NAME), nullable=False),
    Column("title", String(PREFIXED_TITLE), nullable=False),
    Column("username", String(NAME), nullable=False),
    Column("action", String(8), nullable=False),
    Column("private", Boolean, nullable=False, default=False),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("revid", BigInteger, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # A hash of (wiki, title, username) while the request waits, NULL afterwards: the
    # unique index lets only one request per user and page wait at a time, even when
    # two arrive at once.
    Column("pending_key", String(64), nullable=True, unique=True),
)
Index(
    "ix_join_requests_page_state",
    join_requests.c.wiki,
    join_requests.c.title,
    join_requests.c.state,
    **_TITLE_PREFIX,
)
Index(
    "ix_join_requests_user",
    join_requests.c.wiki,
    join_requests.c.title,
    join_requests.c.username,
    **_TITLE_PREFIX,
)

page_claims = Table(
    "page_claims",
    metadata,
    Column("wiki", String(NAME), primary_key=True),
    Column("title", String(PREFIXED_TITLE), primary_key=True),
    Column("worker", String(NAME), nullable=False),
    Column("lease_until", DateTime, nullable=False),
)

refresh_requests = Table(
    "refresh_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("wiki", String(NAME), nullable=False),
    Column("title", String(PREFIXED_TITLE), nullable=False),
    Column("username", String(NAME), nullable=False),
    Column("created_at", DateTime, nullable=False, index=True),
    Column("done_at", DateTime, nullable=True),
)

program_snapshots = Table(
    "program_snapshots",
    metadata,
    Column("wiki", String(NAME), primary_key=True),
    Column("title", String(PREFIXED_TITLE), primary_key=True),
    Column("name", Text, nullable=False),
    Column("registration", String(16), nullable=False),
    Column("start", DateTime, nullable=True),
    Column("end", DateTime, nullable=True),
    # Participant names, one per line (names cannot contain a newline).
    Column("participants", Text, nullable=False),
    Column("fetched_at", DateTime, nullable=False),
)

counted_uploads = Table(
    "counted_uploads",
    metadata,
    Column("program", String(NAME), primary_key=True),
    Column("wiki", String(NAME), primary_key=True),
    Column("title", String(NAME), primary_key=True),
    Column("user", String(NAME), nullable=False),
    Column("timestamp", DateTime, nullable=False),
)

# What an incremental refresh may rely on: up to when each wiki was fetched for a
# program, and for which participants and window (a change of either means a full fetch).
fetch_marks = Table(
    "fetch_marks",
    metadata,
    Column("program", String(NAME), primary_key=True),
    Column("wiki", String(NAME), primary_key=True),
    Column("fetched_until", DateTime, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    # Which listed names had an account, and which were no valid username, when the
    # fingerprint was taken: an incremental refresh need not ask list=users again.
    Column("existing", Text, nullable=True),
    Column("invalid", Text, nullable=True),
    # Which listed names' accounts were renamed, and to what ("old<TAB>new" per line; an
    # empty new name: looked up, never renamed), so the rename log is read once per name.
    Column("renamed", Text, nullable=True),
    # From when the hashtag edits are known (the wiki's recent changes reach back so far).
    Column("complete_from", DateTime, nullable=True),
    Column("hashtags", Text, nullable=True),
    # The window the mark was made for: the next incremental refresh asks the wikis what
    # happened since the mark before it has parsed the program page (NULL: not known).
    Column("window_start", DateTime, nullable=True),
    Column("window_end", DateTime, nullable=True),
)

# The scheduler's view of every program and campaign page it knows.
schedule = Table(
    "schedule",
    metadata,
    Column("wiki", String(NAME), primary_key=True),
    Column("title", String(PREFIXED_TITLE), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("next_due", DateTime, nullable=False, index=True),
    Column("last_refreshed", DateTime, nullable=True),
    Column("last_duration_ms", Integer, nullable=True),
    Column("last_requests", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_page_edit", DateTime, nullable=True),
    Column("edit_pending", Boolean, nullable=False, default=False),
    # Listed wikis and participants, one per line, for spotting activity in recent changes.
    Column("wikis", Text, nullable=False, default=""),
    Column("participants", Text, nullable=False, default=""),
    Column("window_start", DateTime, nullable=True),
    Column("window_end", DateTime, nullable=True),
    # The live report: the figures of the last refresh, as JSON, whether or not the
    # page has been edited with them yet.
    Column("live_report", Text, nullable=True),
    Column("live_at", DateTime, nullable=True),
    # The program's key in the counted tables when the change feed may update its figures
    # (a program counting every page; NULL for a scoped one or a campaign).
    Column("feed_key", String(NAME), nullable=True),
    # When the program was last counted in full (every revision of the window read again).
    Column("last_full", DateTime, nullable=True),
)

# The bot's Pywikibot session (cookies, cached site information), sealed, one bundle per
# bot (bot.wiki.session_files): a fresh Pywikibot directory starts from it.
pywikibot_sessions = Table(
    "pywikibot_sessions",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("bundle", LargeBinary(MEDIUM_BLOB), nullable=False),
    Column("saved_at", DateTime, nullable=False),
)
