"""Counted revisions packed many to a row

The packs are written without what is known of the texts: a program's next count finds
them in the shared revision_references table and keeps them in its packs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:40:00.000000
"""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa
from alembic import op

from bot.core.contributions import Revision
from bot.store.revision_packs import cut, pack, unpack

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PACKS = sa.table(
    "counted_revision_packs",
    sa.column("program", sa.String),
    sa.column("wiki", sa.String),
    sa.column("pack", sa.Integer),
    sa.column("revisions", sa.LargeBinary),
)
_ROWS = sa.table(
    "counted_revisions",
    sa.column("program", sa.String),
    sa.column("wiki", sa.String),
    sa.column("revid", sa.Integer),
    sa.column("user", sa.String),
    sa.column("pageid", sa.Integer),
    sa.column("namespace", sa.Integer),
    sa.column("title", sa.String),
    sa.column("timestamp", sa.DateTime),
    sa.column("sizediff", sa.Integer),
    sa.column("new", sa.Boolean),
    sa.column("wikibase", sa.String),
)
_FIELDS = ("revid", "user", "pageid", "namespace", "title", "timestamp", "sizediff", "new")


def upgrade() -> None:
    op.create_table(
        "counted_revision_packs",
        sa.Column("program", sa.String(length=255), nullable=False),
        sa.Column("wiki", sa.String(length=255), nullable=False),
        sa.Column("pack", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revisions", sa.LargeBinary(length=16 * 1024 * 1024 - 1), nullable=False),
        sa.PrimaryKeyConstraint("program", "wiki", "pack"),
    )
    bind = op.get_bind()
    keys = bind.execute(sa.select(_ROWS.c.program, _ROWS.c.wiki).distinct()).all()
    for program, wiki in keys:
        query = sa.select(*(_ROWS.c[name] for name in (*_FIELDS, "wikibase"))).where(
            _ROWS.c.program == program, _ROWS.c.wiki == wiki
        )
        revisions = [
            Revision(revid, user, pageid, ns, title, when.replace(tzinfo=UTC), size, bool(new), wb)
            for revid, user, pageid, ns, title, when, size, new, wb in bind.execute(query)
        ]
        rows = [
            {"program": program, "wiki": wiki, "pack": n, "revisions": pack(*part)}
            for n, part in enumerate(cut(revisions))
        ]
        bind.execute(sa.insert(_PACKS), rows)
    op.drop_table("counted_revisions")


def downgrade() -> None:
    op.create_table(
        "counted_revisions",
        sa.Column("program", sa.String(length=255), nullable=False),
        sa.Column("wiki", sa.String(length=255), nullable=False),
        sa.Column("revid", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("pageid", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column("sizediff", sa.Integer(), nullable=False),
        sa.Column("new", sa.Boolean(), nullable=False),
        sa.Column("wikibase", sa.String(length=64), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("program", "wiki", "revid"),
    )
    bind = op.get_bind()
    query = sa.select(_PACKS.c.program, _PACKS.c.wiki, _PACKS.c.revisions)
    for program, wiki, data in bind.execute(query).all():
        rows = [
            {
                "program": program,
                "wiki": wiki,
                **{name: getattr(rev, name) for name in (*_FIELDS, "wikibase")},
                "timestamp": rev.timestamp.replace(tzinfo=None),
            }
            for rev in unpack(data)[0]
        ]
        if rows:
            bind.execute(sa.insert(_ROWS), rows)
    op.drop_table("counted_revision_packs")
