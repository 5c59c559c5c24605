"""Revision ids as 64-bit integers, counted pages' titles with room for their namespace

Wikidata's revision ids passed 2**31 in May 2024: a 32-bit column (INT on MariaDB,
integer on PostgreSQL) refuses them (SQLite's integers were 64-bit already). A page title
is up to 255 bytes without its namespace; counted pages keep it with the namespace
("User talk:" and a 250-character title is 260 characters).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 08:00:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: (table, column, nullable, type before, type after) of every column made wider.
_COLUMNS: tuple[tuple[str, str, bool, sa.types.TypeEngine[Any], sa.types.TypeEngine[Any]], ...] = (
    ("revision_references", "revid", False, sa.Integer(), sa.BigInteger()),
    ("revision_references", "parentid", False, sa.Integer(), sa.BigInteger()),
    ("join_requests", "revid", True, sa.Integer(), sa.BigInteger()),
    ("counted_pages", "title", False, sa.String(length=255), sa.String(length=512)),
)


def _retype(*, wider: bool) -> None:
    for table in dict.fromkeys(table for table, *_ in _COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, nullable, narrow, wide in _COLUMNS:
                if name == table:
                    batch_op.alter_column(
                        column,
                        existing_type=narrow if wider else wide,
                        type_=wide if wider else narrow,
                        existing_nullable=nullable,
                    )


def upgrade() -> None:
    _retype(wider=True)


def downgrade() -> None:
    # A database holding a revision id above 2**31 - 1 or a longer title refuses this on
    # MariaDB and PostgreSQL (nothing is cut short).
    _retype(wider=False)
