"""Revision ids as 64-bit integers

Wikidata's revision ids passed 2**31 in May 2024: a 32-bit column (INT on MariaDB,
integer on PostgreSQL) refuses them. SQLite's integers were 64-bit already.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: (table, column, nullable) of every column holding a revision id.
_COLUMNS = (
    ("revision_references", "revid", False),
    ("revision_references", "parentid", False),
    ("join_requests", "revid", True),
)


def _retype(old: type[sa.Integer], new: type[sa.Integer]) -> None:
    for table in dict.fromkeys(table for table, _, _ in _COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, nullable in _COLUMNS:
                if name == table:
                    batch_op.alter_column(
                        column, existing_type=old(), type_=new(), existing_nullable=nullable
                    )


def upgrade() -> None:
    _retype(sa.Integer, sa.BigInteger)


def downgrade() -> None:
    # A database holding a revision id above 2**31 - 1 refuses this (nothing is cut short).
    _retype(sa.BigInteger, sa.Integer)
