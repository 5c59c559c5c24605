"""Program and campaign page titles with room for their namespace

A page title is up to 255 bytes without its namespace, and a program page is usually
outside the main namespace ("Wikipedia:Meetup/..."): a title of 250 characters in the
project namespace did not fit the 255 characters the schedule, the leases, the joins, the
refresh requests and the snapshots kept for it (MariaDB and PostgreSQL refused the row).
The indexes of the joins that hold a third text column keep the title's first 255
characters on MariaDB (its keys are at most 3072 bytes).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 11:00:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: The tables whose program page title (never NULL) is made wider.
_TABLES = ("schedule", "page_claims", "program_snapshots", "refresh_requests", "join_requests")
#: The join requests' indexes over the title: (name, columns).
_INDEXES = (
    ("ix_join_requests_page_state", ["wiki", "title", "state"]),
    ("ix_join_requests_user", ["wiki", "title", "username"]),
)
_PREFIX: dict[str, Any] = {"mysql_length": {"title": 255}, "mariadb_length": {"title": 255}}


def _retype(*, wider: bool) -> None:
    narrow, wide = sa.String(length=255), sa.String(length=512)
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "join_requests":
                # MariaDB refuses a column wider than an index over it may hold.
                for name, _ in _INDEXES:
                    batch_op.drop_index(name)
            batch_op.alter_column(
                "title",
                existing_type=narrow if wider else wide,
                type_=wide if wider else narrow,
                existing_nullable=False,
            )
            if table == "join_requests":
                for name, columns in _INDEXES:
                    batch_op.create_index(name, columns, unique=False, **(_PREFIX if wider else {}))


def upgrade() -> None:
    _retype(wider=True)


def downgrade() -> None:
    # A database holding a longer title refuses this on MariaDB and PostgreSQL (nothing is
    # cut short).
    _retype(wider=False)
