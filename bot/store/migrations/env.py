"""Alembic environment: migrations run on the connection the Store hands over.

The migrations in versions/ repeat the shape Alembic writes (and one another's columns):
each is the frozen record of one step of the schema, applied to databases made by earlier
releases, so they are never merged or edited once released.
"""

from __future__ import annotations

from alembic import context

from bot.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
