"""Wikibase actions of counted revisions, and the references of revision texts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 17:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counted_revisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("wikibase", sa.String(length=64), nullable=False, server_default="")
        )
    op.create_table(
        "revision_references",
        sa.Column("wiki", sa.String(length=255), nullable=False),
        sa.Column("revid", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("parentid", sa.Integer(), nullable=False),
        sa.Column("refs", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("wiki", "revid"),
    )


def downgrade() -> None:
    op.drop_table("revision_references")
    with op.batch_alter_table("counted_revisions", schema=None) as batch_op:
        batch_op.drop_column("wikibase")
