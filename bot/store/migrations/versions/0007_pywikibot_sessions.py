"""The bot's Pywikibot session, sealed, for fresh Pywikibot directories

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pywikibot_sessions",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("bundle", sa.LargeBinary(length=16 * 1024 * 1024 - 1), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
    )


def downgrade() -> None:
    op.drop_table("pywikibot_sessions")
