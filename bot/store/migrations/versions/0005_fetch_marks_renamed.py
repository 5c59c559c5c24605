"""renamed accounts and hashtag completeness with fetch marks

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 14:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fetch_marks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renamed", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("complete_from", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("hashtags", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fetch_marks", schema=None) as batch_op:
        batch_op.drop_column("hashtags")
        batch_op.drop_column("complete_from")
        batch_op.drop_column("renamed")
