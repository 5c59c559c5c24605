"""the window a fetch mark was made for

An incremental refresh sends its first requests (what happened since the mark) before the
program page is parsed, so that the wikis answer while the page is read; those requests
need the window the mark was made for. Marks written before have none (NULL): their
refresh asks after the parse, as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 20:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fetch_marks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("window_start", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("window_end", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fetch_marks", schema=None) as batch_op:
        batch_op.drop_column("window_end")
        batch_op.drop_column("window_start")
