"""schedule feed key and last full count

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 11:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("last_full", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.drop_column("last_full")
        batch_op.drop_column("feed_key")
